import { isGroupJid, isLidJid, normalizeJid, normalizePhoneNumber, parseJid } from './jid';

describe('jid helpers', () => {
  it('parses user, device and server', () => {
    expect(parseJid('491701234567:12@s.whatsapp.net')).toEqual({ user: '491701234567', device: 12, server: 's.whatsapp.net' });
    expect(parseJid('120363025@g.us')).toEqual({ user: '120363025', device: undefined, server: 'g.us' });
    expect(parseJid('not a jid')).toBeUndefined();
    expect(parseJid('123@example.com')).toBeUndefined();
  });

  it('drops the device part, as chats and poll-vote crypto need', () => {
    expect(normalizeJid('491701234567:3@s.whatsapp.net')).toBe('491701234567@s.whatsapp.net');
    expect(normalizeJid('12345:7@lid')).toBe('12345@lid');
  });

  it('tells groups and LIDs apart', () => {
    expect(isGroupJid('1@g.us')).toBe(true);
    expect(isLidJid('1@lid')).toBe(true);
    expect(isLidJid('1@s.whatsapp.net')).toBe(false);
  });

  it('accepts E.164 numbers written the usual ways and refuses others', () => {
    expect(normalizePhoneNumber('+49 170 1234-567')).toBe('491701234567');
    expect(normalizePhoneNumber('0170123')).toBeUndefined();
    expect(normalizePhoneNumber('12345')).toBeUndefined();
    expect(normalizePhoneNumber('1234567890123456')).toBeUndefined();
  });
});

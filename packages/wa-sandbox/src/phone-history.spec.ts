import { ChatArchive } from './phone-history';

const CHAT = '111111111111111@lid';
const entry = (id: string, timestamp: number, fromMe = false) => ({ id, fromMe, timestamp, message: { conversation: id } });

describe(ChatArchive.name, () => {
  let archive: ChatArchive;

  beforeEach(() => {
    archive = new ChatArchive();
    // Arrives out of order, and once twice: kept in time order, once.
    for (const e of [entry('c', 30), entry('a', 10, true), entry('b', 20), entry('d', 40), entry('b', 20)]) archive.add(CHAT, e);
  });

  it('keeps a chat in time order, each message once', () => {
    expect(archive.messages(CHAT).map((m) => m.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('answers the messages right before an anchor it has, oldest first', () => {
    expect(archive.before(CHAT, { id: 'd', fromMe: false, timestampMs: 40_000 }, 2).map((m) => m.id)).toEqual(['b', 'c']);
    expect(archive.before(CHAT, { id: 'b', fromMe: false, timestampMs: 20_000 }, 50).map((m) => m.id)).toEqual(['a']);
    expect(archive.before(CHAT, { id: 'a', fromMe: true, timestampMs: 10_000 }, 50)).toEqual([]);
  });

  it('goes by the timestamp for an anchor it does not have, and knows no other chat', () => {
    expect(archive.before(CHAT, { id: 'gone', fromMe: true, timestampMs: 35_000 }, 10).map((m) => m.id)).toEqual(['a', 'b', 'c']);
    expect(archive.before('222222222222222@lid', { id: 'd', fromMe: false, timestampMs: 40_000 }, 10)).toEqual([]);
  });
});

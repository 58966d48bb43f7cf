/**
 * WhatsApp addresses. A JID is `user[:device]@server`; 1:1 chats use `s.whatsapp.net` (phone
 * numbers) or `lid` (linked identities), groups use `g.us`.
 */
export type JidServer = 's.whatsapp.net' | 'lid' | 'g.us' | 'broadcast' | 'newsletter';

export interface ParsedJid {
  user: string;
  device?: number;
  server: string;
}

const JID_RE = /^([^@:\s]+)(?::(\d+))?@([a-z.]+)$/;
const USER_SERVERS = new Set(['s.whatsapp.net', 'lid', 'g.us', 'broadcast', 'newsletter', 'c.us']);

export function parseJid(jid: string): ParsedJid | undefined {
  const m = JID_RE.exec(jid);
  if (!m || !USER_SERVERS.has(m[3])) return undefined;
  return { user: m[1], device: m[2] === undefined ? undefined : Number(m[2]), server: m[3] === 'c.us' ? 's.whatsapp.net' : m[3] };
}

export function isJid(value: unknown): value is string {
  return typeof value === 'string' && parseJid(value) !== undefined;
}

/** The JID without its device part, as chats and poll-vote crypto need it. */
export function normalizeJid(jid: string): string {
  const p = parseJid(jid);
  if (!p) return jid;
  return `${p.user}@${p.server}`;
}

export const isGroupJid = (jid: string): boolean => parseJid(jid)?.server === 'g.us';
export const isLidJid = (jid: string): boolean => parseJid(jid)?.server === 'lid';
export const isPhoneJid = (jid: string): boolean => parseJid(jid)?.server === 's.whatsapp.net';

/** E.164 digits without the plus: 7 to 15 digits, not starting with 0. */
const PHONE_RE = /^[1-9]\d{6,14}$/;
export function isPhoneNumber(value: unknown): value is string {
  return typeof value === 'string' && PHONE_RE.test(value);
}

/** Accepts `+49 170 123`-style input and returns bare digits, or undefined when not E.164. */
export function normalizePhoneNumber(value: string): string | undefined {
  const digits = value.replace(/^\+/, '').replace(/[\s\-().]/g, '');
  return isPhoneNumber(digits) ? digits : undefined;
}

export const phoneToJid = (phone: string): string => `${phone}@s.whatsapp.net`;

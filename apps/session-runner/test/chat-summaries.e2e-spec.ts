import type { ChatSummary, ContactSummary, Page, PagePayload } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import { isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';
import type { DataSource } from 'typeorm';
import { RUNNER_MIGRATIONS } from '../src/database/migrations';
import { ChatSummaries1764000700000 } from '../src/database/migrations/1764000700000-chat-summaries';
import { MemberReceipts } from '../src/messages/member-receipts';
import { MessageStore, NON_CHAT_TYPES, type StoredMessageInput } from '../src/messages/message-store';
import { WaContactEntity } from '../src/messages/wa-contact.entity';
import { WaLidMappingEntity } from '../src/messages/wa-lid-mapping.entity';
import { WaMemberReceiptEntity } from '../src/messages/wa-member-receipt.entity';
import { WaMessageEntity } from '../src/messages/wa-message.entity';
import { ListReads } from '../src/messages/list-reads';
import { MessageReader } from '../src/messaging/message-reader.service';
import type { SessionManager } from '../src/sessions/session-manager';
import { runnerMessageStore } from './support/runner-database';

const pn = (n: number) => `1555${String(n).padStart(7, '0')}@s.whatsapp.net`;
const lid = (n: number) => `9${String(n).padStart(11, '0')}@lid`;
const group = (n: number) => `120363${String(n).padStart(12, '0')}@g.us`;
const OWN = pn(9_999_999);
const OWN_LID = lid(99_999_999);

/**
 * The per-chat summary behind chat and contact lists, on both databases: it follows every
 * insert, the migration fills it from messages stored before it, and pages of chats and
 * contacts list each once, in the order (and with the contents) the full grouping gave.
 */
describe.each(['sqlite', 'postgres'] as const)('chat summaries on %s', (kind) => {
  const targets = freshDatabaseTargets('runner_chats');
  let db: DataSource;
  let store: MessageStore;
  let reader: MessageReader;
  let lists: ListReads;
  const sessions = { requireSession: async () => undefined, me: async () => ({ jid: OWN, lid: OWN_LID }) } as unknown as SessionManager;
  let seq = 0;
  const save = (sessionId: string, chatJid: string, timestampMs: number, more: Partial<StoredMessageInput['key']> & { type?: string; id?: string } = {}) =>
    store.save({
      sessionId,
      key: { chatJid, id: more.id ?? `M${String(++seq).padStart(6, '0')}`, fromMe: more.fromMe ?? false, ...(more.participant ? { participant: more.participant } : {}) },
      type: more.type ?? 'text',
      timestampMs,
      raw: new Uint8Array([1]),
    });
  const ref = (sessionId: string, rest: Partial<PagePayload> = {}): PagePayload => ({ orgId: 'o', sessionId, ...rest }) as PagePayload;
  const allChats = async (sessionId: string, limit: number): Promise<ChatSummary[]> => {
    const out: ChatSummary[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const page: Page<ChatSummary> = await reader.chats(ref(sessionId, { limit, ...(cursor ? { cursor } : {}) }));
      expect(page.data.length).toBeLessThanOrEqual(limit);
      out.push(...page.data);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
    throw new Error('chat pages never ended');
  };
  const allContacts = async (sessionId: string, limit: number): Promise<ContactSummary[]> => {
    const out: ContactSummary[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const page: Page<ContactSummary> = await reader.contacts(ref(sessionId, { limit, ...(cursor ? { cursor } : {}) }));
      out.push(...page.data);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
    throw new Error('contact pages never ended');
  };

  /** The chat list as the reader built it before the summary: every message grouped, twins merged in memory. */
  const groupedChats = async (sessionId: string): Promise<ChatSummary[]> => {
    const heads = await db
      .getRepository(WaMessageEntity)
      .createQueryBuilder('m')
      .select('m.chat_jid', 'chatJid')
      .addSelect('MAX(m.timestamp_ms)', 'ts')
      .where('m.session_id = :sessionId', { sessionId })
      .andWhere('m.type NOT IN (:...skip)', { skip: NON_CHAT_TYPES })
      .groupBy('m.chat_jid')
      .getRawMany<{ chatJid: string; ts: string | number }>();
    const t = twins(await store.lidMappings(sessionId));
    const merged = new Map<string, { jid: string; forms: string[]; at: number }>();
    for (const h of heads) {
      const jid = t.canonical(h.chatJid);
      const chat = merged.get(jid) ?? { jid, forms: [], at: 0 };
      chat.forms.push(h.chatJid);
      chat.at = Math.max(chat.at, Number(h.ts));
      merged.set(jid, chat);
    }
    const names = await store.names(sessionId);
    const ordered = [...merged.values()].sort((a, b) => b.at - a.at || (a.jid < b.jid ? 1 : a.jid > b.jid ? -1 : 0));
    const out: ChatSummary[] = [];
    for (const chat of ordered) {
      const [last] = await lists.messagePage(sessionId, chat.jid, 1);
      const pair = t.pair(chat.jid);
      const name = names.get(chat.jid) ?? (pair.lid ? names.get(pair.lid) : undefined);
      out.push({ jid: chat.jid, ...pair, ...(name ? { name } : {}), isGroup: chat.jid.endsWith('@g.us'), lastMessageAt: chat.at, lastMessageId: last?.messageId ?? '' });
    }
    return out;
  };

  /** The contact list as the reader built it before: every distinct correspondent, names and pairs. */
  const groupedContacts = async (sessionId: string): Promise<ContactSummary[]> => {
    const rows = await db.query(
      kind === 'postgres'
        ? 'SELECT DISTINCT COALESCE(participant, chat_jid) AS jid FROM wa_messages WHERE session_id = $1 AND from_me = false UNION SELECT DISTINCT chat_jid FROM wa_messages WHERE session_id = $1'
        : 'SELECT DISTINCT COALESCE(participant, chat_jid) AS jid FROM wa_messages WHERE session_id = ? AND from_me = 0 UNION SELECT DISTINCT chat_jid FROM wa_messages WHERE session_id = ?',
      kind === 'postgres' ? [sessionId] : [sessionId, sessionId],
    );
    const mappings = await store.lidMappings(sessionId);
    const t = twins(mappings);
    const names = await store.names(sessionId);
    const own = new Set([OWN, OWN_LID]);
    const seen = new Set<string>();
    for (const jid of [...rows.map((r: { jid: string }) => r.jid), ...names.keys(), ...mappings.flatMap((m) => [m.pn, m.lid])]) {
      const j = normalizeJid(jid);
      if (!(isPhoneJid(j) || isLidJid(j)) || own.has(j)) continue;
      seen.add(t.canonical(j));
    }
    return [...seen]
      .filter((j) => !own.has(j))
      .sort()
      .map((jid) => {
        const pair = t.pair(jid);
        // No saved names here: every name is a push name.
        const pushName = names.get(jid) ?? (pair.lid ? names.get(pair.lid) : undefined) ?? (pair.pn ? names.get(pair.pn) : undefined);
        return { jid, ...pair, ...(pushName ? { pushName } : {}) };
      });
  };

  beforeAll(async () => {
    ({ db, store } = await runnerMessageStore(targets[kind]));
    lists = new ListReads(db);
    reader = new MessageReader(sessions, store, lists, new MemberReceipts(db.getRepository(WaMemberReceiptEntity)));
  });
  afterAll(async () => {
    await db?.destroy();
    await dropPostgresSchema(targets.postgres);
  });

  it('follows inserts: a newer message moves its chat to the top, an older one does not', async () => {
    const S = 'follow';
    await save(S, pn(1), 1_000);
    await save(S, pn(2), 2_000);
    expect((await reader.chats(ref(S))).data.map((c) => c.jid)).toEqual([pn(2), pn(1)]);
    await save(S, pn(1), 3_000, { id: 'NEWEST', fromMe: true });
    expect((await reader.chats(ref(S))).data.map((c) => [c.jid, c.lastMessageAt, c.lastMessageId])).toEqual([
      [pn(1), 3_000, 'NEWEST'],
      [pn(2), 2_000, expect.any(String)],
    ]);
    await save(S, pn(2), 1_500, { id: 'OLDER' });
    await save(S, pn(1), 2_500, { id: 'ZZZ-OLDER' });
    expect((await reader.chats(ref(S))).data.map((c) => [c.jid, c.lastMessageAt, c.lastMessageId])).toEqual([
      [pn(1), 3_000, 'NEWEST'],
      [pn(2), 2_000, expect.not.stringMatching(/OLDER/)],
    ]);
    // Same millisecond: the greater id is the newest, as a chat's message page orders them.
    await save(S, pn(1), 3_000, { id: 'NEWEST-2' });
    await save(S, pn(1), 3_000, { id: 'A-SAME-MS' });
    const [top] = (await reader.chats(ref(S))).data;
    expect(top.lastMessageId).toBe('NEWEST-2');
    expect((await lists.messagePage(S, pn(1), 1))[0].messageId).toBe('NEWEST-2');
    expect(await reader.chats(ref(S))).toEqual({ data: await groupedChats(S), nextCursor: '' });
  });

  it('makes no chat of reactions, votes, edits and revokes, yet counts their authors as contacts', async () => {
    const S = 'nonchat';
    await save(S, pn(1), 1_000);
    for (const [i, type] of NON_CHAT_TYPES.entries()) await save(S, pn(10 + i), 5_000 + i, { type });
    await save(S, pn(1), 9_000, { type: 'reaction' });
    expect((await reader.chats(ref(S))).data.map((c) => [c.jid, c.lastMessageAt])).toEqual([[pn(1), 1_000]]);
    expect((await reader.contacts(ref(S))).data.map((c) => c.jid)).toEqual([pn(1), pn(10), pn(11), pn(12), pn(13)]);
    expect(await reader.chats(ref(S))).toEqual({ data: await groupedChats(S), nextCursor: '' });
    expect((await reader.contacts(ref(S))).data).toEqual(await groupedContacts(S));
  });

  /** A session with 1:1 chats in both jid forms, groups with authors, ties, names and non-chat messages. */
  const populate = async (S: string, write: (row: Partial<WaMessageEntity>) => Promise<void>) => {
    const lids = db.getRepository(WaLidMappingEntity);
    const contacts = db.getRepository(WaContactEntity);
    let n = 0;
    const row = (chatJid: string, timestampMs: number, extra: Partial<WaMessageEntity> = {}) =>
      write({ sessionId: S, chatJid, messageId: `X${String(++n).padStart(5, '0')}`, fromMe: n % 3 === 0, participant: null, type: 'text', timestampMs, raw: 'AQ==', ...extra });
    for (let i = 1; i <= 40; i++) {
      const base = 1_000_000 + (i % 13) * 1_000; // many chats share a millisecond
      await row(pn(i), base);
      if (i % 4 === 0) {
        // Stored under its LID too; on every other one the LID form holds the newest message.
        await lids.save({ sessionId: S, lid: lid(i), pn: pn(i) });
        await row(lid(i), i % 8 === 0 ? base + 500 : base - 500);
      }
      if (i % 5 === 0) await contacts.save({ sessionId: S, jid: i % 10 === 0 ? lid(i) : pn(i), name: `Name ${i}`, updatedAt: 1 });
      if (i % 7 === 0) await row(pn(i), base + 900, { type: 'reaction' });
    }
    // LIDs only, never paired; one with a device part.
    for (let i = 41; i <= 45; i++) await row(lid(i), 2_000_000 + i);
    await row(`${lid(46).replace('@', ':3@')}`, 2_000_046);
    for (let g = 1; g <= 4; g++) {
      await row(group(g), 1_500_000 + g, { participant: pn(100 + g), fromMe: false });
      await row(group(g), 1_500_000 + g, { participant: lid(200 + g), fromMe: false });
      await contacts.save({ sessionId: S, jid: group(g), name: `Group ${g}`, updatedAt: 1 });
    }
    // Our own jids are never contacts; a pair learned without any message is.
    await row(OWN, 3_000_000);
    await lids.save({ sessionId: S, lid: lid(300), pn: pn(300) });
    await contacts.save({ sessionId: S, jid: pn(301), name: 'Only named', updatedAt: 1 });
  };

  it('pages through every chat and contact once, in the order and with the contents of the full grouping', async () => {
    const S = 'paging';
    await populate(S, async (r) => {
      await store.save({ sessionId: S, key: { chatJid: r.chatJid!, id: r.messageId!, fromMe: r.fromMe!, ...(r.participant ? { participant: r.participant } : {}) }, type: r.type!, timestampMs: r.timestampMs!, raw: new Uint8Array([1]) });
    });
    const expected = await groupedChats(S);
    expect(expected.length).toBeGreaterThan(40);
    for (const limit of [1, 3, 7, 50, 200]) expect({ limit, chats: await allChats(S, limit) }).toEqual({ limit, chats: expected });
    const people = await groupedContacts(S);
    for (const limit of [1, 4, 50]) expect({ limit, contacts: await allContacts(S, limit) }).toEqual({ limit, contacts: people });
  });

  it('fills the summary from messages stored before the migration, giving the same lists', async () => {
    const S = 'backfill';
    const messages = db.getRepository(WaMessageEntity);
    await populate(S, async (r) => {
      await messages.insert(r as WaMessageEntity);
    });
    expect((await reader.chats(ref(S))).data).toEqual([]); // written behind the store's back: not summarized
    const migrations = await db.showMigrations();
    expect(migrations).toBe(false);
    // Back to before the chat summaries (the migrations after it come off first), then forward again.
    for (let i = RUNNER_MIGRATIONS.findIndex((m) => m === ChatSummaries1764000700000); i < RUNNER_MIGRATIONS.length; i++) await db.undoLastMigration();
    await db.runMigrations();
    const expected = await groupedChats(S);
    expect(await allChats(S, 5)).toEqual(expected);
    expect(await allChats(S, 200)).toEqual(expected);
    expect(await allContacts(S, 6)).toEqual(await groupedContacts(S));
    // Sessions summarized before the migration ran again are whole too.
    expect(await allChats('paging', 9)).toEqual(await groupedChats('paging'));
  });

  it('forgets the summaries with the session', async () => {
    await store.forgetSession('paging');
    expect(await reader.chats(ref('paging'))).toEqual({ data: [], nextCursor: '' });
    expect(await reader.contacts(ref('paging'))).toEqual({ data: [], nextCursor: '' });
    expect((await reader.chats(ref('backfill'))).data.length).toBeGreaterThan(0);
  });
});

function twins(mappings: { lid: string; pn: string }[]) {
  const pnOf = new Map(mappings.map((m) => [m.lid, m.pn]));
  const lidOf = new Map(mappings.map((m) => [m.pn, m.lid]));
  return {
    canonical: (jid: string): string => (isLidJid(jid) ? (pnOf.get(jid) ?? jid) : jid),
    pair: (jid: string): { pn?: string; lid?: string } => {
      if (isLidJid(jid)) return { lid: jid, ...(pnOf.get(jid) ? { pn: pnOf.get(jid) } : {}) };
      if (isPhoneJid(jid)) return { pn: jid, ...(lidOf.get(jid) ? { lid: lidOf.get(jid) } : {}) };
      return {};
    },
  };
}

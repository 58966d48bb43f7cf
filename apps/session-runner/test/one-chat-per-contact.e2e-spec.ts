import type { PagePayload } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import type { DataSource } from 'typeorm';
import { RUNNER_MIGRATIONS } from '../src/database/migrations';
import { OneChatPerContact1764001600000 } from '../src/database/migrations/1764001600000-one-chat-per-contact';
import { mergeLidRows } from '../src/messages/lid-merge';
import { MemberReceipts } from '../src/messages/member-receipts';
import { MessageStore } from '../src/messages/message-store';
import { WaContactEntity } from '../src/messages/wa-contact.entity';
import { WaLidMappingEntity } from '../src/messages/wa-lid-mapping.entity';
import { WaMemberReceiptEntity } from '../src/messages/wa-member-receipt.entity';
import { WaMessageEntity } from '../src/messages/wa-message.entity';
import { WaPollVoteEntity } from '../src/messages/wa-poll-vote.entity';
import { ListReads } from '../src/messages/list-reads';
import { MessageReader } from '../src/messaging/message-reader.service';
import type { SessionManager } from '../src/sessions/session-manager';
import { runnerMessageStore } from './support/runner-database';

const PN = '4915550000001@s.whatsapp.net';
const LID = '880000000000001@lid';
const LID_ONLY = '880000000000002@lid';
const GROUP = '120363000000000001@g.us';

/**
 * One chat per contact in the store, on both databases: the migration moves rows an existing
 * install kept under a contact's LID to its phone-number jid (a message stored under both forms
 * once, with its furthest status; the summary, organisation, labels, votes and names kept
 * newest), and a pair learned at run time does the same in one transaction; both are idempotent.
 */
describe.each(['sqlite', 'postgres'] as const)('one chat per contact on %s', (kind) => {
  const targets = freshDatabaseTargets('runner_one_chat');
  let db: DataSource;
  let store: MessageStore;
  let reader: MessageReader;
  const sessions = { requireSession: async () => undefined, me: async () => ({ jid: '4915559999999@s.whatsapp.net' }) } as unknown as SessionManager;
  const ref = (sessionId: string, rest: Partial<PagePayload> = {}) => ({ orgId: 'o', sessionId, ...rest }) as PagePayload;
  const t = (v: boolean) => (kind === 'postgres' ? v : v ? 1 : 0);
  const insert = async (table: string, row: Record<string, unknown>) => {
    const cols = Object.keys(row);
    const marks = cols.map((_, i) => (kind === 'postgres' ? `$${i + 1}` : '?')).join(', ');
    await db.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${marks})`, Object.values(row));
  };
  const message = (sessionId: string, chatJid: string, messageId: string, more: Partial<WaMessageEntity> = {}) =>
    db.getRepository(WaMessageEntity).insert({
      sessionId,
      chatJid,
      messageId,
      fromMe: false,
      participant: null,
      type: 'text',
      timestampMs: 1_000,
      status: null,
      readAt: null,
      editedText: null,
      editedAt: null,
      deletedAt: null,
      raw: '',
      ...more,
    });
  /** Every row of the session in the tables that name chats or people, sorted. */
  const snapshot = async (sessionId: string) => {
    const q = (sql: string) => db.query(sql.replace('$1', kind === 'postgres' ? '$1' : '?'), [sessionId]);
    return {
      messages: (await q('SELECT chat_jid, message_id, from_me, participant, status, read_at, edited_text FROM wa_messages WHERE session_id = $1 ORDER BY message_id, chat_jid')).map(
        (r: Record<string, unknown>) => ({ ...r, from_me: Boolean(r.from_me), read_at: r.read_at === null ? null : Number(r.read_at) }),
      ),
      chats: (await q('SELECT chat_jid, last_message_at, last_message_id FROM wa_chats WHERE session_id = $1 ORDER BY chat_jid')).map((r: Record<string, unknown>) => ({
        ...r,
        last_message_at: Number(r.last_message_at),
      })),
      correspondents: (await q('SELECT jid FROM wa_correspondents WHERE session_id = $1 ORDER BY jid')).map((r: { jid: string }) => r.jid),
      states: (await q('SELECT chat_jid, archived FROM wa_chat_states WHERE session_id = $1 ORDER BY chat_jid')).map((r: Record<string, unknown>) => ({ ...r, archived: Boolean(r.archived) })),
      labels: await q('SELECT label_id, chat_jid, message_id FROM wa_label_associations WHERE session_id = $1 ORDER BY label_id, chat_jid, message_id'),
      votes: await q('SELECT poll_id, voter, chat_jid, selected FROM wa_poll_votes WHERE session_id = $1 ORDER BY poll_id, voter'),
      names: await q('SELECT jid, name FROM wa_contacts WHERE session_id = $1 ORDER BY jid'),
    };
  };

  beforeAll(async () => {
    ({ db, store } = await runnerMessageStore(targets[kind]));
    reader = new MessageReader(sessions, store, new ListReads(db), new MemberReceipts(db.getRepository(WaMemberReceiptEntity)));
  });
  afterAll(async () => {
    await db?.destroy();
    await dropPostgresSchema(targets.postgres);
  });

  it('migrates rows stored under both forms to the phone-number jid, once each, keeping the newest state', async () => {
    const S = 'migrated';
    // Back to the schema before it (undoing the migrations that came after it too).
    for (let i = RUNNER_MIGRATIONS.indexOf(OneChatPerContact1764001600000); i < RUNNER_MIGRATIONS.length; i++) await db.undoLastMigration();
    await db.getRepository(WaLidMappingEntity).insert({ sessionId: S, lid: LID, pn: PN });
    // Our message: sent to the number (delivered), its read receipt's copy kept under the LID.
    await message(S, PN, 'M1', { fromMe: true, status: 'delivered', timestampMs: 1_000 });
    await message(S, LID, 'M1', { fromMe: true, status: 'read', timestampMs: 1_000 });
    await message(S, PN, 'M2', { timestampMs: 2_000, readAt: 2_500 });
    await message(S, LID, 'M3', { timestampMs: 3_000, editedText: 'edited', editedAt: 3_100 });
    await message(S, GROUP, 'G1', { participant: '880000000000001:3@lid', timestampMs: 1_500 });
    await message(S, LID_ONLY, 'X1', { timestampMs: 500 });
    for (const [jid, at, id] of [[PN, 2_000, 'M2'], [LID, 3_000, 'M3'], [GROUP, 1_500, 'G1'], [LID_ONLY, 500, 'X1']] as const) {
      await insert('wa_chats', { session_id: S, chat_jid: jid, last_message_at: at, last_message_id: id });
    }
    for (const jid of [PN, LID, LID_ONLY]) await insert('wa_correspondents', { session_id: S, jid });
    await insert('wa_chat_states', { session_id: S, chat_jid: PN, archived: t(false), pinned_at: null, muted_until: null, unread: t(false), updated_at: 1 });
    await insert('wa_chat_states', { session_id: S, chat_jid: LID, archived: t(true), pinned_at: null, muted_until: null, unread: t(false), updated_at: 5 });
    for (const [label, jid, mid] of [['1', PN, ''], ['1', LID, ''], ['2', LID, 'M3']]) await insert('wa_label_associations', { session_id: S, label_id: label, chat_jid: jid, message_id: mid });
    await insert('wa_poll_votes', { session_id: S, poll_id: 'P', voter: PN, chat_jid: GROUP, selected: '["old"]', timestamp_ms: 5 });
    await insert('wa_poll_votes', { session_id: S, poll_id: 'P', voter: LID, chat_jid: GROUP, selected: '["new"]', timestamp_ms: 10 });
    await insert('wa_contacts', { session_id: S, jid: LID, name: 'Contact', updated_at: 1 });

    await db.runMigrations();
    const after = await snapshot(S);
    expect(after).toEqual({
      messages: [
        { chat_jid: GROUP, message_id: 'G1', from_me: false, participant: PN, status: null, read_at: null, edited_text: null },
        { chat_jid: PN, message_id: 'M1', from_me: true, participant: null, status: 'read', read_at: null, edited_text: null },
        { chat_jid: PN, message_id: 'M2', from_me: false, participant: null, status: null, read_at: 2_500, edited_text: null },
        { chat_jid: PN, message_id: 'M3', from_me: false, participant: null, status: null, read_at: null, edited_text: 'edited' },
        { chat_jid: LID_ONLY, message_id: 'X1', from_me: false, participant: null, status: null, read_at: null, edited_text: null },
      ],
      chats: [
        { chat_jid: GROUP, last_message_at: 1_500, last_message_id: 'G1' },
        { chat_jid: PN, last_message_at: 3_000, last_message_id: 'M3' },
        { chat_jid: LID_ONLY, last_message_at: 500, last_message_id: 'X1' },
      ],
      correspondents: [PN, LID_ONLY],
      states: [{ chat_jid: PN, archived: true }],
      labels: [
        { label_id: '1', chat_jid: PN, message_id: '' },
        { label_id: '2', chat_jid: PN, message_id: 'M3' },
      ],
      votes: [{ poll_id: 'P', voter: PN, chat_jid: GROUP, selected: '["new"]' }],
      names: [{ jid: PN, name: 'Contact' }],
    });
    // The chat reads whole under either form, newest first.
    for (const form of [PN, LID]) {
      const page = await reader.chatMessages({ ...ref(S), chat: form, limit: 10 });
      expect(page.data.map((m) => [m.id, m.chat])).toEqual([
        ['M3', PN],
        ['M2', PN],
        ['M1', PN],
      ]);
    }
    // Merging again (the runtime does on every new pair) changes nothing.
    await db.transaction((m) => mergeLidRows(m, kind === 'postgres', S, LID, PN));
    expect(await snapshot(S)).toEqual(after);
  });

  it('merges at run time when a pair is learned after rows were stored under the LID', async () => {
    const S = 'runtime';
    const save = (chatJid: string, id: string, fromMe: boolean, timestampMs: number) =>
      store.save({ sessionId: S, key: { chatJid, id, fromMe }, type: 'text', timestampMs, raw: new Uint8Array([1]) });
    await save(PN, 'R1', true, 1_000);
    await save(LID, 'R2', false, 2_000);
    expect((await reader.chats(ref(S))).data.map((c) => c.jid)).toEqual([LID, PN]);
    await store.saveLidMapping(S, { lid: LID, pn: PN });
    await store.saveLidMapping(S, { lid: LID, pn: PN });
    expect((await reader.chats(ref(S))).data).toEqual([expect.objectContaining({ jid: PN, pn: PN, lid: LID, lastMessageId: 'R2', lastMessageAt: 2_000 })]);
    // A copy of a message WhatsApp delivers again under the LID is recognised; new ones go to the number.
    expect(await store.isStored(S, { chatJid: LID, id: 'R2', fromMe: false })).toBe(true);
    await save(LID, 'R3', false, 3_000);
    expect((await snapshot(S)).messages.map((m: { chat_jid: string; message_id: string }) => [m.message_id, m.chat_jid])).toEqual([
      ['R1', PN],
      ['R2', PN],
      ['R3', PN],
    ]);
    expect(await store.pairOf(S, LID)).toEqual({ jid: PN, pn: PN, lid: LID });
    expect(await store.pairOf(S, '880000000000001:7@lid')).toEqual({ jid: PN, pn: PN, lid: LID });
    expect(await store.pairOf(S, LID_ONLY)).toEqual({ jid: LID_ONLY, lid: LID_ONLY });
    expect(await store.pairOf(S, GROUP)).toEqual({ jid: GROUP });
  });

  it('keeps pair answers of a held session only until a pair is recorded or the session changes hands', async () => {
    const S = 'held';
    const PN2 = '4915550000002@s.whatsapp.net';
    const LID2 = '880000000000003@lid';
    store.held(S);
    expect(await store.pairOf(S, PN2)).toEqual({ jid: PN2, pn: PN2 });
    expect(await store.pairOf(S, LID2)).toEqual({ jid: LID2, lid: LID2 });
    // Recorded by this runner: both answers change at once.
    await store.saveLidMapping(S, { lid: LID2, pn: PN2 });
    expect(await store.pairOf(S, PN2)).toEqual({ jid: PN2, pn: PN2, lid: LID2 });
    expect(await store.pairOf(S, LID2)).toEqual({ jid: PN2, pn: PN2, lid: LID2 });
    // A pair recorded while a read is on its way is not hidden by that read's answer.
    const PN3 = '4915550000003@s.whatsapp.net';
    const LID3 = '880000000000004@lid';
    const [early] = await Promise.all([store.pairOf(S, PN3), store.saveLidMapping(S, { lid: LID3, pn: PN3 })]);
    expect([undefined, LID3]).toContain(early.lid);
    expect(await store.pairOf(S, PN3)).toEqual({ jid: PN3, pn: PN3, lid: LID3 });
    // Let go of: another runner records a pair; holding the session again reads it.
    store.released(S);
    const PN4 = '4915550000004@s.whatsapp.net';
    const LID4 = '880000000000005@lid';
    store.held(S);
    expect(await store.pairOf(S, PN4)).toEqual({ jid: PN4, pn: PN4 });
    store.released(S);
    await db.getRepository(WaLidMappingEntity).insert({ sessionId: S, lid: LID4, pn: PN4 });
    expect(await store.pairOf(S, PN4)).toEqual({ jid: PN4, pn: PN4, lid: LID4 });
    store.held(S);
    expect(await store.pairOf(S, LID4)).toEqual({ jid: PN4, pn: PN4, lid: LID4 });
    // Answers handed out are the store's own: a caller cannot change the next one.
    const answer = await store.pairOf(S, PN4);
    expect(() => ((answer as { jid: string }).jid = 'x')).toThrow();
    expect((await store.pairOf(S, PN4)).jid).toBe(PN4);
    // Forgetting the session forgets its answers.
    await store.forgetSession(S);
    expect(await store.pairOf(S, PN4)).toEqual({ jid: PN4, pn: PN4 });
    store.released(S);
  });
});

import { transactionInTurn } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import type { DataSource } from 'typeorm';
import { mergeLidReceipts } from '../src/messages/lid-merge';
import { MemberReceipts } from '../src/messages/member-receipts';
import type { MessageStore } from '../src/messages/message-store';
import { WaMemberReceiptEntity } from '../src/messages/wa-member-receipt.entity';
import { runnerMessageStore } from './support/runner-database';

const GROUP = '120363000000000001@g.us';
const OTHER_GROUP = '120363000000000002@g.us';
const PN = '4915550000001@s.whatsapp.net';
const LID = '880000000000001@lid';
const S = 'session-a';

/**
 * The record behind "one event per member and status", on both databases: a copy of a receipt
 * is told from news by the row count of one insert (which each driver reports its own way), a
 * receipt kept under a member's LID meets its copy under the phone number once the pair is
 * learned, and the rows go with the messages they are about.
 */
describe.each(['sqlite', 'postgres'] as const)('member receipts on %s', (kind) => {
  const targets = freshDatabaseTargets('runner_member_receipts');
  let db: DataSource;
  let store: MessageStore;
  let receipts: MemberReceipts;
  const record = (messageId: string, member: string, status: 'delivered' | 'read', at = 1_000, sessionId = S) =>
    transactionInTurn(db, (m) => receipts.record(m, { sessionId, messageId, member, status, at }));
  const ours = (chatJid: string, id: string, sessionId = S) =>
    store.save({ sessionId, key: { chatJid, id, fromMe: true }, type: 'text', timestampMs: 1_000, raw: new Uint8Array([1]) });
  const rows = async (sessionId = S) => (await db.getRepository(WaMemberReceiptEntity).find({ where: { sessionId }, order: { messageId: 'ASC', member: 'ASC', status: 'ASC' } })).map((r) => [r.messageId, r.member, r.status, r.at]);

  beforeAll(async () => {
    ({ db, store } = await runnerMessageStore(targets[kind]));
    receipts = new MemberReceipts(db.getRepository(WaMemberReceiptEntity));
  });
  afterAll(async () => {
    await db?.destroy();
    await dropPostgresSchema(targets.postgres);
  });

  it('keeps a receipt once: a copy is not news and leaves the first time standing; each status is its own', async () => {
    expect(await record('M1', PN, 'delivered', 1_000)).toBe(true);
    expect(await record('M1', PN, 'delivered', 9_000)).toBe(false);
    expect(await record('M1', PN, 'read', 2_000)).toBe(true);
    expect(await record('M1', PN, 'read', 9_000)).toBe(false);
    expect(await record('M1', '4915550000002@s.whatsapp.net', 'read', 3_000)).toBe(true);
    expect(await receipts.of(S, 'M1')).toEqual([
      expect.objectContaining({ member: PN, status: 'delivered', at: 1_000 }),
      expect.objectContaining({ member: PN, status: 'read', at: 2_000 }),
      expect.objectContaining({ member: '4915550000002@s.whatsapp.net', status: 'read', at: 3_000 }),
    ]);
  });

  it('a receipt kept under a LID meets its copy under the phone number once the pair is learned', async () => {
    const sessionId = 'session-lid';
    expect(await record('L1', LID, 'read', 1_000, sessionId)).toBe(true);
    expect(await record('L2', LID, 'delivered', 1_000, sessionId)).toBe(true);
    expect(await record('L2', PN, 'delivered', 1_500, sessionId)).toBe(true);
    await store.saveLidMapping(sessionId, { lid: LID, pn: PN });
    expect(await rows(sessionId)).toEqual([
      ['L1', PN, 'read', 1_000],
      ['L2', PN, 'delivered', 1_500],
    ]);
    expect(await record('L1', (await store.pairOf(sessionId, LID)).jid, 'read', 5_000, sessionId)).toBe(false);
  });

  it('a receipt named by a LID whose pair was stored after the caller looked it up is kept under the phone number', async () => {
    const sessionId = 'session-late-pair';
    // The pair lands between the recorder's lookup (which gave the LID) and its insert.
    await db.query(kind === 'postgres' ? 'INSERT INTO wa_lid_mappings (session_id, lid, pn) VALUES ($1, $2, $3)' : 'INSERT INTO wa_lid_mappings (session_id, lid, pn) VALUES (?, ?, ?)', [sessionId, LID, PN]);
    expect(await record('P1', LID, 'read', 1_000, sessionId)).toBe(true);
    expect(await rows(sessionId)).toEqual([['P1', PN, 'read', 1_000]]);
    // WhatsApp's copy, now named by the phone number, is not news.
    expect(await record('P1', PN, 'read', 2_000, sessionId)).toBe(false);
  });

  if (kind === 'postgres') {
    it('a LID receipt written while its pair is being merged waits for the merge and lands under the phone number', async () => {
      const sessionId = 'session-merging';
      const merge = db.createQueryRunner();
      await merge.connect();
      try {
        await merge.startTransaction();
        await merge.query('INSERT INTO wa_lid_mappings (session_id, lid, pn) VALUES ($1, $2, $3)', [sessionId, LID, PN]);
        await mergeLidReceipts(merge, true, sessionId, LID, PN);
        // The merge has moved the LID rows it could see; the receipt's insert runs before it commits.
        const recording = record('R1', LID, 'delivered', 1_000, sessionId);
        await waitForLockWaiterOr(recording);
        await merge.commitTransaction();
        expect(await recording).toBe(true);
      } finally {
        await merge.release();
      }
      expect(await rows(sessionId)).toEqual([['R1', PN, 'delivered', 1_000]]);
    });
  }

  /** Until some backend of this database waits on an advisory lock, or `settled` settles (it did not wait). */
  async function waitForLockWaiterOr(settled: Promise<unknown>): Promise<void> {
    let done = false;
    void settled.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const [{ n }] = (await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)) as { n: number }[];
      if (n > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('go with the messages of a deleted chat, and with the session', async () => {
    const sessionId = 'session-gone';
    await ours(GROUP, 'G1', sessionId);
    await ours(OTHER_GROUP, 'G2', sessionId);
    for (const id of ['G1', 'G2']) await record(id, PN, 'read', 1_000, sessionId);
    await store.forgetChatMessages(sessionId, [GROUP], false);
    expect(await rows(sessionId)).toEqual([['G2', PN, 'read', 1_000]]);
    await store.forgetSession(sessionId);
    expect(await rows(sessionId)).toEqual([]);
    // Another session's rows stay.
    expect((await rows(S)).length).toBe(3);
  });
});

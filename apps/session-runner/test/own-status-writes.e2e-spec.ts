import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { countingCalls, dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { RUNNER_MIGRATIONS } from '../src/database/migrations';
import { EVENT_INSERT_INTO } from '../src/events/event-outbox';
import { RunnerEventEntity } from '../src/events/runner-event.entity';
import { MessageStore } from '../src/messages/message-store';
import { SendLog } from '../src/messages/send-log';
import { WaContactEntity } from '../src/messages/wa-contact.entity';
import { WaLidMappingEntity } from '../src/messages/wa-lid-mapping.entity';
import { WaMessageEntity } from '../src/messages/wa-message.entity';
import { WaPollVoteEntity } from '../src/messages/wa-poll-vote.entity';
import { WaSendLogEntity } from '../src/messages/wa-send-log.entity';
import { WaAuthCredsEntity, WaAuthKeyEntity } from '@wa/wa-adapter';

/**
 * The statuses of our messages on PostgreSQL, where each statement is a round trip from a pool
 * that a busy runner keeps saturated: an ack or receipt is one statement (with its event, which
 * a receipt writes only when the status moved), also when it beats its message's save, which it
 * waits for; a status of a stored message that moved nothing costs no second look.
 */
describe('statuses of our messages on PostgreSQL', () => {
  const target = freshDatabaseTargets('own_status').postgres;
  const SESSION = 'status-session';
  const CHAT = '491701234567@s.whatsapp.net';
  let ds: DataSource;
  let pool: Pool;
  let store: MessageStore;
  let sendLog: SendLog;
  let eventIds = 0;

  beforeAll(async () => {
    await ensureDatabaseSchema(target);
    ds = new DataSource(
      buildDataSourceOptions({
        target,
        entities: [WaAuthCredsEntity, WaAuthKeyEntity, RunnerEventEntity, WaSendLogEntity, WaMessageEntity, WaLidMappingEntity, WaPollVoteEntity, WaContactEntity],
        migrations: RUNNER_MIGRATIONS,
        migrationsTableName: 'runner_migrations',
      }),
    );
    await ds.initialize();
    await ds.runMigrations();
    pool = (ds.driver as unknown as { master: Pool }).master;
    store = new MessageStore(ds.getRepository(WaMessageEntity), ds.getRepository(WaLidMappingEntity), ds.getRepository(WaPollVoteEntity), ds.getRepository(WaContactEntity));
    sendLog = new SendLog(ds.getRepository(WaSendLogEntity));
  });
  afterAll(async () => {
    await ds?.destroy();
    await dropPostgresSchema(target);
  });

  const event = (messageId: string, status: string) => {
    const id = `ev-${String(++eventIds).padStart(4, '0')}`;
    return { id, step: { sql: `INSERT INTO ${EVENT_INSERT_INTO} VALUES ($1, $2, $3, $4, $5, $6)`, params: [id, 'org', SESSION, 'message.status', JSON.stringify({ messageId, status }), Date.now()] } };
  };
  const eventsOf = async (messageId: string): Promise<string[]> =>
    ((await ds.query(`SELECT data FROM runner_events WHERE session_id = $1 AND data LIKE $2 ORDER BY occurred_at, id`, [SESSION, `%"${messageId}"%`])) as { data: string }[]).map(
      (r) => (JSON.parse(r.data) as { status: string }).status,
    );
  const statusOf = async (messageId: string): Promise<string | null | undefined> =>
    ((await ds.query('SELECT status FROM wa_messages WHERE session_id = $1 AND message_id = $2', [SESSION, messageId])) as { status: string | null }[])[0]?.status;
  /** Statements sent for `work`: through the pool and on clients it lent. */
  const statements = async <T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> => {
    let pooled = 0;
    const { result, calls } = await countingCalls(Client.prototype, 'query', async () => {
      const counted = await countingCalls(pool, 'query', work);
      pooled = counted.calls;
      return counted.result;
    });
    // A pool query is one client query too.
    return { result, calls: Math.max(calls, pooled) };
  };
  const sent = (messageId: string) => ({ sessionId: SESSION, key: { chatJid: CHAT, id: messageId, fromMe: true }, type: 'text', timestampMs: Date.now(), raw: new Uint8Array([1]) });
  const ack = (messageId: string) => {
    const e = event(messageId, 'sent');
    return store.advanceStatusWith(SESSION, messageId, 'sent', sendLog.ackedStep(SESSION, messageId), e.step, true);
  };
  const receipt = (messageId: string, status: 'delivered' | 'read') => store.advanceStatusWith(SESSION, messageId, status, undefined, event(messageId, status).step, false);

  it('keeps an ack and a receipt whose announced save does not come within the wait for that save, each in one statement', async () => {
    const expected = store.expectSave(SESSION, 'EARLY');
    await sendLog.begin(SESSION, 'EARLY');
    // The ack waits for the save, which does not come (as when the send that announced it still
    // waits for its account), then: the send log's proof, its event and the status, one
    // statement; the message is not stored yet.
    const acked = await statements(() => ack('EARLY'));
    expect(acked.calls).toBe(1);
    // The receipt: its statement (the status did not move, so no event in it), then its event,
    // because the status is news.
    const delivered = await statements(() => receipt('EARLY', 'delivered'));
    expect(delivered).toEqual({ result: true, calls: 2 });
    expect(await statusOf('EARLY')).toBeUndefined();
    // The save applies what was kept.
    await store.saveSent(sent('EARLY'), [sendLog.markStep(SESSION, 'EARLY', 'relayed')], expected);
    expect(await statusOf('EARLY')).toBe('delivered');
    expect(await eventsOf('EARLY')).toEqual(['sent', 'delivered']);
  });

  it('lets an ack and a receipt that beat the announced save of their message wait for it, then move the row in their own statements', async () => {
    const expected = store.expectSave(SESSION, 'DURING');
    await sendLog.begin(SESSION, 'DURING');
    const counted = await statements(async () => {
      // The ack and the receipt come after the socket took the message, before its save began.
      const statuses = Promise.all([ack('DURING'), receipt('DURING', 'delivered')]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await store.saveSent(sent('DURING'), [sendLog.markStep(SESSION, 'DURING', 'relayed')], expected);
      return statuses;
    });
    // The save, the ack's statement and the receipt's: no separate status UPDATE after the save
    // (kept for the save, the ack cost one more).
    expect(counted).toEqual({ result: [true, true], calls: 3 });
    expect(await statusOf('DURING')).toBe('delivered');
    expect(await eventsOf('DURING')).toEqual(['sent', 'delivered']);
  });

  it('moves a stored status once: a receipt again is no news, one statement and no second look', async () => {
    const expected = store.expectSave(SESSION, 'STORED');
    await store.saveSent(sent('STORED'), [sendLog.markStep(SESSION, 'STORED', 'relayed')], expected);
    expect(await statusOf('STORED')).toBeNull();
    expect(await statements(() => receipt('STORED', 'delivered'))).toEqual({ result: true, calls: 1 });
    expect(await statements(() => receipt('STORED', 'delivered'))).toEqual({ result: false, calls: 1 });
    // An ack after the receipt (acks and receipts race) is recorded, and moves nothing back.
    expect(await statements(() => ack('STORED'))).toEqual({ result: false, calls: 1 });
    expect(await statusOf('STORED')).toBe('delivered');
    expect(await eventsOf('STORED')).toEqual(['delivered', 'sent']);
  });

  it('keeps a status whose message no save in this process announced, and applies it when the message is stored', async () => {
    // A message saved by a send that had not announced it (or another process): the status is
    // kept after a look at the store, as before.
    expect(await receipt('UNANNOUNCED', 'read')).toBe(true);
    await store.save(sent('UNANNOUNCED'));
    expect(await statusOf('UNANNOUNCED')).toBe('read');
    expect(await receipt('UNANNOUNCED', 'delivered')).toBe(false);
    expect(await eventsOf('UNANNOUNCED')).toEqual(['read']);
  });

  it('stops keeping statuses for a save that never comes once the send ends it', async () => {
    const expected = store.expectSave(SESSION, 'NEVER');
    expected.end();
    expected.end();
    // Not announced any more: the status is kept after a look at the store, then its event.
    expect(await statements(() => receipt('NEVER', 'delivered'))).toEqual({ result: true, calls: 3 });
  });

  it('writes the statuses of one turn, over several messages, in one statement, each with its own answer', async () => {
    const ids = ['T1', 'T2', 'T3', 'T4'];
    for (const id of ids) {
      const expected = store.expectSave(SESSION, id);
      await sendLog.begin(SESSION, id);
      await store.saveSent(sent(id), [sendLog.markStep(SESSION, id, 'relayed')], expected);
    }
    await receipt('T3', 'delivered');
    const refuse = (messageId: string) => store.advanceStatusWith(SESSION, messageId, 'failed', sendLog.refusedStep(SESSION, messageId), event(messageId, 'failed').step, true);
    // An ack, a receipt that moves, one that moves nothing and an error ack, of four messages: one statement.
    const together = await statements(() => Promise.all([ack('T1'), receipt('T2', 'delivered'), receipt('T3', 'delivered'), refuse('T4')]));
    expect(together).toEqual({ result: [true, true, false, true], calls: 1 });
    expect(await Promise.all(ids.map(statusOf))).toEqual(['sent', 'delivered', 'delivered', 'failed']);
    expect(await Promise.all(ids.map((id) => sendLog.state(SESSION, id)))).toEqual(['acked', 'relayed', 'relayed', 'failed']);
    expect(await Promise.all(ids.map(eventsOf))).toEqual([['sent'], ['delivered'], ['delivered'], ['failed']]);
    // Two statuses of one message in one turn: one statement each, in the order they came.
    const twice = await statements(() => Promise.all([receipt('T1', 'read'), receipt('T2', 'read'), receipt('T1', 'delivered')]));
    expect(twice).toEqual({ result: [true, true, false], calls: 2 });
    expect(await statusOf('T1')).toBe('read');
    expect(await eventsOf('T1')).toEqual(['sent', 'read']);
  });

  it('writes a batch that fails again one by one: only the bad write fails, and nothing committed is written twice', async () => {
    for (const id of ['F1', 'F2']) {
      const expected = store.expectSave(SESSION, id);
      await sendLog.begin(SESSION, id);
      await store.saveSent(sent(id), [sendLog.markStep(SESSION, id, 'relayed')], expected);
    }
    // An event id that is taken already: its write cannot commit.
    const taken = event('F1', 'sent');
    await ds.query(`INSERT INTO ${EVENT_INSERT_INTO} VALUES ($1, $2, $3, $4, $5, $6)`, taken.step.params);
    const clash = (messageId: string) => store.advanceStatusWith(SESSION, messageId, 'sent', sendLog.ackedStep(SESSION, messageId), { ...event(messageId, 'sent').step, params: [taken.id, ...event(messageId, 'sent').step.params.slice(1)] }, true);
    // One round with the bad write: the others still go, each once.
    const [ok, bad] = await Promise.allSettled([receipt('F2', 'delivered'), clash('F1')]);
    expect(ok).toEqual({ status: 'fulfilled', value: true });
    expect(bad.status).toBe('rejected');
    expect(await statusOf('F1')).toBeNull();
    expect(await sendLog.state(SESSION, 'F1')).toBe('relayed');
    // The bad write in a later round of the same turn: the first round committed once.
    const [read1, read2, again] = await Promise.allSettled([receipt('F1', 'read'), receipt('F2', 'read'), clash('F1')]);
    expect([read1, read2]).toEqual([{ status: 'fulfilled', value: true }, { status: 'fulfilled', value: true }]);
    expect(again.status).toBe('rejected');
    expect(await eventsOf('F1')).toEqual(['sent', 'read']);
    expect(await eventsOf('F2')).toEqual(['delivered', 'read']);
  });

  it("writes the send log's `relaying` rows of one turn in one statement, each send learning whether its row was new", async () => {
    expect(await sendLog.begin(SESSION, 'BEGUN')).toBe(true);
    // Sends to several chats handed over together: one statement; the id begun before is not new.
    const together = await statements(() => Promise.all(['B1', 'B2', 'BEGUN', 'B3'].map((id) => sendLog.begin(SESSION, id))));
    expect(together).toEqual({ result: [true, true, false, true], calls: 1 });
    expect(await sendLog.state(SESSION, 'B2')).toBe('relaying');
    // The same id twice in one turn: one by one, so only the first one wrote it.
    expect(await Promise.all([sendLog.begin(SESSION, 'TWICE'), sendLog.begin(SESSION, 'TWICE'), sendLog.begin(`${SESSION}-2`, 'TWICE')])).toEqual([true, false, true]);
    // A send alone still costs one statement.
    expect(await statements(() => sendLog.begin(SESSION, 'ALONE'))).toEqual({ result: true, calls: 1 });
  });
});

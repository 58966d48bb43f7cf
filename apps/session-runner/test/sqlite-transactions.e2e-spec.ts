import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataSourceOptions, transactionInTurn } from '@wa/contracts';
import { SqlAuthStateStore, WaAuthCredsEntity, WaAuthKeyEntity } from '@wa/wa-adapter';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { authKeyWriter } from '../src/database/auth-key.writer';
import { RUNNER_MIGRATIONS } from '../src/database/migrations';
import { RunnerEventEntity } from '../src/events/runner-event.entity';
import { MessageStore } from '../src/messages/message-store';
import { SendLog } from '../src/messages/send-log';
import { WaContactEntity } from '../src/messages/wa-contact.entity';
import { WaLidMappingEntity } from '../src/messages/wa-lid-mapping.entity';
import { WaMessageEntity } from '../src/messages/wa-message.entity';
import { WaPollVoteEntity } from '../src/messages/wa-poll-vote.entity';
import { WaSendLogEntity } from '../src/messages/wa-send-log.entity';

/**
 * The runner's SQLite file has one connection: the key writes of many sessions and the runner's
 * own transactions (a received message with its event) must take turns, or they collide ("cannot
 * start a transaction within a transaction") and a Signal key update or a message is lost. A
 * bench with 20 sessions found 373 such failed encryptions.
 */
describe('SQLite transactions of many sessions at once', () => {
  let ds: DataSource;
  let file: string;

  beforeAll(async () => {
    file = join(mkdtempSync(join(tmpdir(), 'wa-runner-tx-')), 'runner.db');
    ds = new DataSource(
      buildDataSourceOptions({
        target: { kind: 'sqlite', path: file },
        entities: [WaAuthCredsEntity, WaAuthKeyEntity, RunnerEventEntity, WaSendLogEntity, WaMessageEntity, WaLidMappingEntity, WaPollVoteEntity, WaContactEntity],
        migrations: RUNNER_MIGRATIONS,
        migrationsTableName: 'runner_migrations',
      }),
    );
    await ds.initialize();
    await ds.runMigrations();
  });
  afterAll(() => ds?.destroy());

  it('commits every key batch and every event, none colliding', async () => {
    const store = new SqlAuthStateStore(ds, (work) => transactionInTurn(ds, work));
    const sessions = await Promise.all(Array.from({ length: 20 }, (_, i) => store.use(`s${i}`)));
    const writes: Promise<unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      sessions.forEach((auth, i) => {
        writes.push(Promise.resolve(auth.state.keys.set({ session: { [`peer-${round}.0`]: Buffer.from(`s${i} r${round}`) } })));
        writes.push(
          transactionInTurn(ds, async (m) => {
            await m.getRepository(RunnerEventEntity).insert({ id: `e-${i}-${round}`, orgId: 'o', sessionId: `s${i}`, type: 'message.received', data: '{}', occurredAt: Date.now() });
          }),
        );
      });
    }
    const results = await Promise.allSettled(writes);
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect(await ds.getRepository(WaAuthKeyEntity).count()).toBe(200);
    expect(await ds.getRepository(RunnerEventEntity).count()).toBe(200);
  });

  /**
   * A send holds its account's key lock until its key batch is written, and its chat's next entry
   * waits for its send log row: on a busy runner the end of a turn of the event loop was tens of
   * milliseconds away, so these commit at once. Only microtasks run below: nothing that waits
   * for the turn's end (setImmediate) can commit, and another connection must see the rows.
   */
  it("commits a session's key batch, a send's relaying row and the sent message without waiting for the turn's end", async () => {
    const reader = new Database(file, { readonly: true });
    // Awaited whatever the assertions find, so that no write outlives the test's database.
    const pending: Promise<unknown>[] = [];
    try {
      const seen = (sql: string): number => (reader.prepare(sql).get() as { n: number }).n;
      const untilSeen = async (sql: string): Promise<number> => {
        for (let i = 0; i < 200 && seen(sql) === 0; i++) await Promise.resolve();
        return seen(sql);
      };
      const store = new SqlAuthStateStore(ds, (work) => transactionInTurn(ds, work), authKeyWriter(ds));
      const auth = await store.use('urgent');
      // Another write of the turn, asked for first, goes into the same commit.
      const sendLog = new SendLog(ds.getRepository(WaSendLogEntity));
      pending.push(sendLog.mark('urgent', 'EARLIER', 'relayed'));
      pending.push(Promise.resolve(auth.state.keys.set({ session: { 'peer.0': Buffer.from('ratchet') } })));
      expect(await untilSeen("SELECT COUNT(*) AS n FROM wa_auth_keys WHERE session_id = 'urgent'")).toBe(1);
      expect(seen("SELECT COUNT(*) AS n FROM wa_send_log WHERE message_id = 'EARLIER'")).toBe(1);
      const begun = sendLog.begin('urgent', 'NEXT');
      pending.push(begun);
      expect(await untilSeen("SELECT COUNT(*) AS n FROM wa_send_log WHERE message_id = 'NEXT' AND state = 'relaying'")).toBe(1);
      await expect(begun).resolves.toBe(true);
      // The sent message and its `relayed` mark, in one commit.
      const messages = new MessageStore(ds.getRepository(WaMessageEntity), ds.getRepository(WaLidMappingEntity), ds.getRepository(WaPollVoteEntity), ds.getRepository(WaContactEntity));
      const key = { chatJid: '491701234567@s.whatsapp.net', id: 'NEXT', fromMe: true };
      pending.push(messages.saveSent({ sessionId: 'urgent', key, type: 'text', timestampMs: Date.now(), raw: new Uint8Array([1]) }, [sendLog.markStep('urgent', 'NEXT', 'relayed')]));
      expect(await untilSeen("SELECT COUNT(*) AS n FROM wa_messages WHERE session_id = 'urgent' AND message_id = 'NEXT'")).toBe(1);
      expect(seen("SELECT COUNT(*) AS n FROM wa_send_log WHERE message_id = 'NEXT' AND state = 'relayed'")).toBe(1);
    } finally {
      await Promise.allSettled(pending);
      reader.close();
    }
  });
});

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDataSourceOptions, transactionInTurn } from '@wa/contracts';
import { SqlAuthStateStore, WaAuthCredsEntity, WaAuthKeyEntity } from '@wa/wa-adapter';
import { DataSource } from 'typeorm';
import { RUNNER_MIGRATIONS } from '../src/database/migrations';
import { RunnerEventEntity } from '../src/events/runner-event.entity';

/**
 * The runner's SQLite file has one connection: the key writes of many sessions and the runner's
 * own transactions (a received message with its event) must take turns, or they collide ("cannot
 * start a transaction within a transaction") and a Signal key update or a message is lost. A
 * bench with 20 sessions found 373 such failed encryptions.
 */
describe('SQLite transactions of many sessions at once', () => {
  let ds: DataSource;

  beforeAll(async () => {
    ds = new DataSource(
      buildDataSourceOptions({
        target: { kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'wa-runner-tx-')), 'runner.db') },
        entities: [WaAuthCredsEntity, WaAuthKeyEntity, RunnerEventEntity],
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
});

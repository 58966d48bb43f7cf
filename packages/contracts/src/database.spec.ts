import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, ensureDatabaseSchema } from './database';
import { dropPostgresSchema, freshDatabaseTargets } from './testing';

/** The pool a PostgreSQL DataSource opens: the target's `poolSize` (DATABASE_POOL_SIZE), 10 without one. */
describe('PostgreSQL connection pool', () => {
  const target = freshDatabaseTargets('pool_size').postgres;
  const opened: DataSource[] = [];

  beforeAll(() => ensureDatabaseSchema(target));
  afterAll(async () => {
    for (const ds of opened) await ds.destroy();
    await dropPostgresSchema(target);
  });

  const open = async (poolSize?: number): Promise<Pool> => {
    const ds = new DataSource(buildDataSourceOptions({ target: { ...target, poolSize }, entities: [], migrations: [], migrationsTableName: 'm' }));
    await ds.initialize();
    opened.push(ds);
    return (ds.driver as unknown as { master: Pool }).master;
  };

  it('opens at most the configured number of connections, and 10 by default', async () => {
    const small = await open(2);
    // Three queries on a pool of two, each waiting for a lock another pool holds: the third waits
    // for a connection until the lock is let go (a condition, not a time: a loaded machine once
    // let a 0.2 s sleep end before a 50 ms timer fired).
    const holder = await open(1);
    await holder.query('SELECT pg_advisory_lock(4242)');
    const waits = Promise.all([0, 1, 2].map(() => small.query('SELECT pg_advisory_xact_lock_shared(4242)')));
    const deadline = Date.now() + 60_000;
    while (!(small.totalCount === 2 && small.waitingCount === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect([small.totalCount, small.waitingCount]).toEqual([2, 1]);
    await holder.query('SELECT pg_advisory_unlock(4242)');
    await waits;
    expect((await open()).options.max).toBe(10);
  });
});

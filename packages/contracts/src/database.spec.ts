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
    // Three sleeps on a pool of two: the third waits for a connection.
    const sleeps = Promise.all([0, 1, 2].map(() => small.query('SELECT pg_sleep(0.2)')));
    await new Promise((r) => setTimeout(r, 50));
    expect([small.totalCount, small.waitingCount]).toEqual([2, 1]);
    await sleeps;
    expect((await open()).options.max).toBe(10);
  });
});

import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import { DataSource } from 'typeorm';
import { DatabaseRateLimitStore } from '../src/auth/database-rate-limit.store';
import { GATEWAY_MIGRATIONS } from '../src/database/migrations';

/**
 * The shared rate-limit buckets on a real PostgreSQL (in both test configurations: the store is
 * what scale-out gateways use, and this checks its SQL, not the gateway around it). Two data
 * sources stand for two gateway replicas with their own connection pools.
 */
describe(DatabaseRateLimitStore.name, () => {
  const { postgres: target } = freshDatabaseTargets('gw_rate_limits');
  const sources: DataSource[] = [];
  let a: DatabaseRateLimitStore;
  let b: DatabaseRateLimitStore;

  async function replica(): Promise<DatabaseRateLimitStore> {
    const ds = new DataSource({ ...buildDataSourceOptions({ target, entities: [], migrations: GATEWAY_MIGRATIONS, migrationsTableName: 'gateway_migrations' }) });
    await ds.initialize();
    sources.push(ds);
    return new DatabaseRateLimitStore(ds);
  }

  beforeAll(async () => {
    await ensureDatabaseSchema(target);
    a = await replica();
    await sources[0].runMigrations({ transaction: 'each' });
    b = await replica();
  });

  afterAll(async () => {
    for (const ds of sources) await ds.destroy();
    await dropPostgresSchema(target);
  });

  it('starts a bucket full and says when its next token is due once it is empty', async () => {
    const rate = { limit: 5, windowSec: 60 };
    await expect(a.take('api_key:fresh', rate, 2)).resolves.toEqual({ granted: 2, remaining: 3, refillMs: 0 });
    const last = await b.take('api_key:fresh', rate, 10);
    expect(last).toMatchObject({ granted: 3, remaining: 0 });
    // One token every 12 s; the statement ran a few milliseconds after the first.
    expect(last.refillMs).toBeGreaterThan(11_000);
    expect(last.refillMs).toBeLessThanOrEqual(12_000);
    await expect(a.take('api_key:fresh', rate, 1)).resolves.toMatchObject({ granted: 0, remaining: 0 });
  });

  it('never grants more than the bucket holds to replicas taking at the same time', async () => {
    const rate = { limit: 10, windowSec: 3600 };
    const takes = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).take('org:contended', rate, 1)));
    expect(takes.reduce((sum, t) => sum + t.granted, 0)).toBe(10);
  });

  it('takes back what a replica gives back, and a full bucket stays full', async () => {
    const rate = { limit: 4, windowSec: 3600 };
    await a.take('address:10.0.0.1', rate, 4);
    await a.giveBack('address:10.0.0.1', rate, 3);
    await expect(b.take('address:10.0.0.1', rate, 10)).resolves.toMatchObject({ granted: 3 });
    await b.giveBack('address:10.0.0.1', rate, 100);
    await expect(b.take('address:10.0.0.1', rate, 10)).resolves.toMatchObject({ granted: 4 });
  });

  it('keeps a bucket per key, however long the key (an address from X-Forwarded-For)', async () => {
    const rate = { limit: 1, windowSec: 60 };
    const long = `address:${'f'.repeat(500)}`;
    await expect(a.take(long, rate, 1)).resolves.toMatchObject({ granted: 1 });
    await expect(b.take(long, rate, 1)).resolves.toMatchObject({ granted: 0 });
    await expect(a.take(`${long}0`, rate, 1)).resolves.toMatchObject({ granted: 1 });
  });
});

import { dropPostgresSchema, freshDatabaseTargets, migrationRoundTrip } from '@wa/contracts/testing';
import { GATEWAY_MIGRATIONS } from '../src/database/migrations';

describe('gateway migrations', () => {
  const targets = freshDatabaseTargets('gw_migrations');
  afterAll(() => dropPostgresSchema(targets.postgres));

  it.each(['sqlite', 'postgres'] as const)('apply, revert and re-apply on %s', async (kind) => {
    const r = await migrationRoundTrip(targets[kind], GATEWAY_MIGRATIONS, 'gateway_migrations');
    expect(r.afterUp).toContain('api_keys');
    expect(r.afterDown).toEqual([]);
    expect(r.afterUpAgain).toEqual(r.afterUp);
  });
});

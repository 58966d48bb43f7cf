import { dropPostgresSchema, freshDatabaseTargets, migrationRoundTrip } from '@wa/contracts/testing';
import { RUNNER_MIGRATIONS } from '../src/database/migrations';

describe('session-runner migrations', () => {
  const targets = freshDatabaseTargets('runner_migrations');
  afterAll(() => dropPostgresSchema(targets.postgres));

  it.each(['sqlite', 'postgres'] as const)('apply, revert and re-apply on %s', async (kind) => {
    const r = await migrationRoundTrip(targets[kind], RUNNER_MIGRATIONS, 'runner_migrations');
    expect(r.afterUp).toContain('session_leases');
    expect(r.afterDown).toEqual([]);
    expect(r.afterUpAgain).toEqual(r.afterUp);
  });
});

import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The token buckets gateway replicas share for rate limits (used on PostgreSQL; SQLite runs
 * one gateway, which keeps its buckets in memory, but gets the table like every other).
 */
export class RateLimitBuckets1764000400000 implements MigrationInterface {
  name = 'RateLimitBuckets1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'rate_limit_buckets',
        columns: [
          // `<scope>:<key>`, e.g. `org:acme`; longer keys are hashed to fit.
          { name: 'bucket', type: 'varchar', length: '200', isPrimary: true },
          // GCRA's theoretical arrival time in microseconds of the database's clock: the bucket
          // is full when it lies in the past, empty when it is a whole window ahead.
          { name: 'tat_us', type: 'bigint' },
          // Tokens the last take granted: RETURNING sees only the updated row, not the old one.
          { name: 'granted', type: 'integer' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('rate_limit_buckets');
  }
}

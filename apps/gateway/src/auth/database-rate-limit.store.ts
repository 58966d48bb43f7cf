import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { RateLimit, RateLimitStore, RateLimitTake } from '@wa/auth';
import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SqlDialect } from '../database/sql-dialect';

// One clock for every replica: the database's, fixed for the whole statement.
const NOW_US = '(extract(epoch FROM statement_timestamp()) * 1000000)::bigint';
// Tokens available at NOW_US in a bucket whose arrival time is `tat`: $3 = µs per token, $4 = µs for a full bucket.
const available = (tat: string): string => `GREATEST(0, (${NOW_US} + $4::bigint - GREATEST(${tat}, ${NOW_US})) / $3::bigint)`;

/**
 * GCRA in one statement: a bucket is a theoretical arrival time (TAT); taking n tokens moves it
 * n intervals ahead of max(TAT, now), as far as one full window ahead of now. The upsert
 * creates a missing bucket full, and concurrent takes of one bucket queue on its row lock.
 */
const TAKE_SQL = `
INSERT INTO rate_limit_buckets AS b (bucket, tat_us, granted)
VALUES ($1, ${NOW_US} + LEAST($2::bigint, $4::bigint / $3::bigint) * $3::bigint, LEAST($2::bigint, $4::bigint / $3::bigint))
ON CONFLICT (bucket) DO UPDATE SET
  granted = LEAST($2::bigint, ${available('b.tat_us')}),
  tat_us = GREATEST(b.tat_us, ${NOW_US}) + LEAST($2::bigint, ${available('b.tat_us')}) * $3::bigint
RETURNING granted, (${NOW_US} + $4::bigint - tat_us) / $3::bigint AS remaining, GREATEST(0, tat_us - $4::bigint + $3::bigint - ${NOW_US}) AS refill_us`;

// A full bucket stays full: an arrival time in the past means the same as now.
const GIVE_BACK_SQL = `UPDATE rate_limit_buckets SET tat_us = GREATEST(tat_us - $2::bigint * $3::bigint, ${NOW_US}) WHERE bucket = $1`;

// A bucket whose arrival time has passed is full, exactly like a missing one.
const SWEEP_SQL = `DELETE FROM rate_limit_buckets WHERE tat_us < ${NOW_US}`;

const SWEEP_INTERVAL_MS = 60_000;
const MAX_BUCKET_LENGTH = 200;

/**
 * The rate-limit buckets gateway replicas share, in PostgreSQL. PostgreSQL rather than NATS
 * JetStream KV: every scale-out gateway already writes there, so it asks nothing more of the
 * deployment (the NATS servers need no JetStream); a take is one atomic statement on the
 * database's clock, where KV needs a read and a compare-and-set per take, retried under
 * contention, on clocks that differ per replica. Rows are tiny and there is one per busy key.
 * The per-request cost stays off the hot path: `SharedTokenBucketLimiter` takes tokens in batches.
 */
export class DatabaseRateLimitStore implements RateLimitStore, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseRateLimitStore.name);
  private readonly sql: SqlDialect;
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {
    this.sql = SqlDialect.of(dataSource);
  }

  async take(bucket: string, rate: RateLimit, count: number): Promise<RateLimitTake> {
    const { intervalUs, fullUs } = timing(rate);
    const [row] = await this.sql.query<{ granted: number | string; remaining: number | string; refill_us: number | string }>(this.dataSource, TAKE_SQL, [
      bucketId(bucket),
      count,
      intervalUs,
      fullUs,
    ]);
    return { granted: Number(row.granted), remaining: Number(row.remaining), refillMs: Math.ceil(Number(row.refill_us) / 1000) };
  }

  async giveBack(bucket: string, rate: RateLimit, count: number): Promise<void> {
    await this.sql.query(this.dataSource, GIVE_BACK_SQL, [bucketId(bucket), count, timing(rate).intervalUs]);
  }

  onModuleInit(): void {
    this.sweeper = setInterval(() => {
      this.sql.query(this.dataSource, SWEEP_SQL).catch((err: unknown) => {
        this.logger.warn({ msg: 'removing full rate-limit buckets failed', error: err instanceof Error ? err.message : String(err) });
      });
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }
}

/** Whole microseconds per token (so that the SQL stays in bigint), and a full window of them. */
function timing(rate: RateLimit): { intervalUs: number; fullUs: number } {
  const intervalUs = Math.max(1, Math.round((rate.windowSec * 1_000_000) / rate.limit));
  return { intervalUs, fullUs: intervalUs * rate.limit };
}

/**
 * Keys come from requests (an org id, a client address taken from X-Forwarded-For behind a
 * proxy); one too long for the column is hashed instead of failing the statement.
 */
function bucketId(bucket: string): string {
  return bucket.length <= MAX_BUCKET_LENGTH ? bucket : `sha256:${createHash('sha256').update(bucket).digest('hex')}`;
}

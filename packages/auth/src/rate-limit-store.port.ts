import type { RateLimit } from './auth.options';

/** What one `take` got from a shared bucket. */
export interface RateLimitTake {
  /** Tokens taken, from 0 to the count asked for. */
  readonly granted: number;
  /** Whole tokens left in the bucket after this take. */
  readonly remaining: number;
  /** When `remaining` is 0: milliseconds until the bucket holds a whole token again. */
  readonly refillMs: number;
}

/**
 * Token buckets that every gateway replica shares (the gateway implements it over its
 * database), so that a limit holds for the cluster and not per process. A bucket that does not
 * exist yet is full. Each call must be atomic across replicas and must measure time with one
 * clock for all of them (the store's own), since replicas' clocks drift apart.
 */
export interface RateLimitStore {
  /** Takes up to `count` tokens from the bucket `bucket` refilled at `rate`. */
  take(bucket: string, rate: RateLimit, count: number): Promise<RateLimitTake>;
  /** Puts back tokens a replica took and did not use (a full bucket stays full). */
  giveBack(bucket: string, rate: RateLimit, count: number): Promise<void>;
}

/** Injection token of the optional `RateLimitStore`; without one, limits are per process. */
export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

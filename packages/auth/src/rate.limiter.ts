import type { RateLimit } from './auth.options';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

const ALLOWED: RateDecision = { allowed: true };

/**
 * An in-memory token bucket per key: `limit` tokens, refilled continuously over `windowSec`,
 * so bursts up to `limit` pass and the sustained rate is `limit / windowSec`.
 *
 * O(1) per call and bounded in memory: every call moves its key to the end of the Map (which
 * keeps insertion order), so the first entries are the least recently used; each call drops up
 * to two of them once they have refilled completely (a full bucket is the same as no entry),
 * and the oldest is dropped whenever `maxKeys` would be exceeded.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly fullAfterMs: number;

  constructor(
    private readonly rate: RateLimit,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    if (!(rate.limit >= 1) || !(rate.windowSec > 0)) throw new Error('a rate limit needs limit >= 1 and windowSec > 0');
    this.perMs = rate.limit / (rate.windowSec * 1000);
    this.fullAfterMs = rate.windowSec * 1000;
  }

  /** Takes one token for `key`, or says how long until one is available. */
  consume(key: string): RateDecision {
    const now = this.now();
    const bucket = this.current(key, now);
    this.evict(now);
    if (bucket.tokens < 1) return this.denied(bucket);
    bucket.tokens -= 1;
    // Re-inserting moves the key to the end, keeping the Map ordered by last use.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    return ALLOWED;
  }

  /** Whether `consume` would succeed, without taking a token (to refuse early, before any work). */
  check(key: string): RateDecision {
    const bucket = this.buckets.get(key);
    if (!bucket) return ALLOWED;
    const refilled = this.refill(bucket, this.now());
    return refilled.tokens < 1 ? this.denied(refilled) : ALLOWED;
  }

  get size(): number {
    return this.buckets.size;
  }

  private current(key: string, now: number): Bucket {
    const bucket = this.buckets.get(key);
    return bucket ? this.refill(bucket, now) : { tokens: this.rate.limit, updatedAt: now };
  }

  private refill(bucket: Bucket, now: number): Bucket {
    const tokens = Math.min(this.rate.limit, bucket.tokens + Math.max(0, now - bucket.updatedAt) * this.perMs);
    return { tokens, updatedAt: now };
  }

  private denied(bucket: Bucket): RateDecision {
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000)) };
  }

  private evict(now: number): void {
    for (let i = 0; i < 2; i++) {
      const oldest = this.buckets.entries().next();
      if (oldest.done || now - oldest.value[1].updatedAt < this.fullAfterMs) break;
      this.buckets.delete(oldest.value[0]);
    }
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
  }
}

import type { RateLimit } from './auth.options';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

const ALLOWED: RateDecision = { allowed: true };
/** Calls between two passes that drop refilled buckets. */
const EVICT_EVERY = 8;

/**
 * An in-memory token bucket per key: `limit` tokens, refilled continuously over `windowSec`,
 * so bursts up to `limit` pass and the sustained rate is `limit / windowSec`.
 *
 * O(1) per call and bounded in memory: every call moves its key to the end of the Map (which
 * keeps insertion order), so the first entries are the least recently used; every eighth call
 * drops up to sixteen of them once they have refilled completely (a full bucket is the same as
 * no entry), and the oldest is dropped whenever `maxKeys` would be exceeded. A call refills its
 * bucket in place and leaves a key that is already the last one where it is: on the request
 * path, two limiters per request, a copy of the bucket, a reinsertion and an iterator per call
 * were most of its cost.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  /** The key of the last `consume` that kept its bucket: the Map's last entry, while it is in the Map. */
  private lastKey: string | undefined;
  private callsSinceEviction = 0;
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
    let bucket = this.buckets.get(key);
    const kept = bucket !== undefined;
    if (bucket) {
      bucket.tokens = this.tokensAt(bucket, now);
      bucket.updatedAt = Math.max(bucket.updatedAt, now);
    } else bucket = { tokens: this.rate.limit, updatedAt: now };
    if (++this.callsSinceEviction >= EVICT_EVERY) {
      this.callsSinceEviction = 0;
      this.evictRefilled(now);
    }
    if (bucket.tokens < 1) return this.denied(bucket.tokens);
    bucket.tokens -= 1;
    // Re-inserting moves the key to the end, keeping the Map ordered by last use; the last key
    // is there already (unless an eviction just took it).
    if (!kept || key !== this.lastKey || !this.buckets.has(key)) {
      this.buckets.delete(key);
      this.buckets.set(key, bucket);
      this.lastKey = key;
    }
    while (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) break;
      this.buckets.delete(oldest.value);
    }
    return ALLOWED;
  }

  /** Whether `consume` would succeed, without taking a token (to refuse early, before any work). */
  check(key: string): RateDecision {
    const bucket = this.buckets.get(key);
    if (!bucket) return ALLOWED;
    const tokens = this.tokensAt(bucket, this.now());
    return tokens < 1 ? this.denied(tokens) : ALLOWED;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** The bucket's tokens at `now`: what it had, plus the refill since, up to the limit. */
  private tokensAt(bucket: Bucket, now: number): number {
    return Math.min(this.rate.limit, bucket.tokens + Math.max(0, now - bucket.updatedAt) * this.perMs);
  }

  private denied(tokens: number): RateDecision {
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000)) };
  }

  /** Drops up to `2 * EVICT_EVERY` of the least recently used buckets that have refilled completely. */
  private evictRefilled(now: number): void {
    let dropped = 0;
    for (const [key, bucket] of this.buckets) {
      if (dropped >= 2 * EVICT_EVERY || now - bucket.updatedAt < this.fullAfterMs) break;
      this.buckets.delete(key);
      dropped++;
    }
  }
}

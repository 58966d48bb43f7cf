import { AppError } from '@wa/domain';
import { DEFAULT_FAILED_AUTH_LIMIT, type RateLimit, type RateLimitOptions } from './auth.options';
import type { Principal } from './principal';
import type { RateLimitStore } from './rate-limit-store.port';
import { TokenBucketLimiter, type RateDecision } from './rate.limiter';
import { SharedTokenBucketLimiter } from './shared-rate.limiter';

export type RateLimitScope = 'api_key' | 'org' | 'address';

/** A token bucket per key, kept in this process or shared with the other replicas. */
type KeyedLimiter = TokenBucketLimiter | SharedTokenBucketLimiter;

/**
 * The limits authentication applies: per API key and per organization on every authenticated
 * request, and a stricter one on failed authentications per client address (guessing keys or
 * replaying stolen tokens). A refusal is a 429 `rate_limited` whose `details.retryAfterSeconds`
 * the gateway copies into the `Retry-After` header.
 *
 * With a `RateLimitStore` the buckets are shared by every gateway replica (see
 * `SharedTokenBucketLimiter`); without one each process keeps its own, which is exact for a
 * single gateway and lets N gateways admit N times the limit.
 */
export class AuthRateLimiter {
  private readonly perApiKey?: KeyedLimiter;
  private readonly perOrg?: KeyedLimiter;
  private readonly failedAuth?: KeyedLimiter;

  constructor(options: RateLimitOptions = {}, now: () => number = Date.now, store?: RateLimitStore) {
    const maxKeys = options.maxTrackedKeys ?? 100_000;
    const limiter = (scope: RateLimitScope, rate: RateLimit): KeyedLimiter =>
      store ? new SharedTokenBucketLimiter(scope, rate, store, { maxKeys, now }) : new TokenBucketLimiter(rate, maxKeys, now);
    if (options.perApiKey) this.perApiKey = limiter('api_key', options.perApiKey);
    if (options.perOrg) this.perOrg = limiter('org', options.perOrg);
    const failed = options.failedAuthPerAddress === undefined ? DEFAULT_FAILED_AUTH_LIMIT : options.failedAuthPerAddress;
    if (failed) this.failedAuth = limiter('address', failed);
  }

  /**
   * Refuses an address that already failed too often, before any lookup is spent on it. It
   * never waits for the shared store: every request passes here, the valid ones included.
   */
  assertMayAuthenticate(address: string): void {
    if (this.failedAuth) refuseUnless(this.failedAuth.check(address), 'address', 'too many failed authentication attempts');
  }

  async recordFailedAuth(address: string): Promise<void> {
    await this.failedAuth?.consume(address);
  }

  /** Counts one request of an authenticated principal against its key's and its org's limits. */
  async consume(principal: Principal): Promise<void> {
    if (this.perApiKey && principal.kind === 'api_key') {
      refuseUnless(await this.perApiKey.consume(principal.subject), 'api_key', 'too many requests for this API key');
    }
    if (this.perOrg) refuseUnless(await this.perOrg.consume(principal.orgId), 'org', 'too many requests for this organization');
  }

  /** Gives the tokens this replica holds back to the shared buckets (nothing to do without a store). */
  async onApplicationShutdown(): Promise<void> {
    for (const limiter of [this.perApiKey, this.perOrg, this.failedAuth]) {
      if (limiter instanceof SharedTokenBucketLimiter) await limiter.close();
    }
  }
}

function refuseUnless(decision: RateDecision, scope: RateLimitScope, message: string): void {
  if (!decision.allowed) {
    throw new AppError('rate_limited', message, { scope, retryAfterSeconds: decision.retryAfterSeconds });
  }
}

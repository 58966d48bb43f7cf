import { AppError } from '@wa/domain';
import { DEFAULT_FAILED_AUTH_LIMIT, type RateLimitOptions } from './auth.options';
import type { Principal } from './principal';
import { TokenBucketLimiter, type RateDecision } from './rate.limiter';

export type RateLimitScope = 'api_key' | 'org' | 'address';

/**
 * The limits authentication applies: per API key and per organization on every authenticated
 * request, and a stricter one on failed authentications per client address (guessing keys or
 * replaying stolen tokens). A refusal is a 429 `rate_limited` whose `details.retryAfterSeconds`
 * the gateway copies into the `Retry-After` header.
 */
export class AuthRateLimiter {
  private readonly perApiKey?: TokenBucketLimiter;
  private readonly perOrg?: TokenBucketLimiter;
  private readonly failedAuth?: TokenBucketLimiter;

  constructor(options: RateLimitOptions = {}, now: () => number = Date.now) {
    const maxKeys = options.maxTrackedKeys ?? 100_000;
    if (options.perApiKey) this.perApiKey = new TokenBucketLimiter(options.perApiKey, maxKeys, now);
    if (options.perOrg) this.perOrg = new TokenBucketLimiter(options.perOrg, maxKeys, now);
    const failed = options.failedAuthPerAddress === undefined ? DEFAULT_FAILED_AUTH_LIMIT : options.failedAuthPerAddress;
    if (failed) this.failedAuth = new TokenBucketLimiter(failed, maxKeys, now);
  }

  /** Refuses an address that already failed too often, before any lookup is spent on it. */
  assertMayAuthenticate(address: string): void {
    if (this.failedAuth) refuseUnless(this.failedAuth.check(address), 'address', 'too many failed authentication attempts');
  }

  recordFailedAuth(address: string): void {
    this.failedAuth?.consume(address);
  }

  /** Counts one request of an authenticated principal against its key's and its org's limits. */
  consume(principal: Principal): void {
    if (this.perApiKey && principal.kind === 'api_key') {
      refuseUnless(this.perApiKey.consume(principal.subject), 'api_key', 'too many requests for this API key');
    }
    if (this.perOrg) refuseUnless(this.perOrg.consume(principal.orgId), 'org', 'too many requests for this organization');
  }
}

function refuseUnless(decision: RateDecision, scope: RateLimitScope, message: string): void {
  if (!decision.allowed) {
    throw new AppError('rate_limited', message, { scope, retryAfterSeconds: decision.retryAfterSeconds });
  }
}

import { AppError } from '@wa/domain';
import { AuthRateLimiter } from '../src/auth-rate.limiter';
import { TokenBucketLimiter } from '../src/rate.limiter';
import type { Principal } from '../src/principal';

const keyA: Principal = { kind: 'api_key', orgId: 'org-1', subject: 'key-a', capabilities: ['send'] };
const keyB: Principal = { kind: 'api_key', orgId: 'org-1', subject: 'key-b', capabilities: ['send'] };
const otherOrgKey: Principal = { kind: 'api_key', orgId: 'org-2', subject: 'key-c', capabilities: ['send'] };
const user: Principal = { kind: 'user', orgId: 'org-1', subject: 'user-1', capabilities: ['send'], role: 'member' };

async function rateLimited(attempt: () => unknown): Promise<AppError> {
  try {
    await attempt();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a rate_limited error');
}

describe(TokenBucketLimiter.name, () => {
  it('allows a burst of `limit`, then refills at limit/window and says when to retry', () => {
    const clock = { now: 0 };
    const limiter = new TokenBucketLimiter({ limit: 3, windowSec: 60 }, 1000, () => clock.now);
    expect([1, 2, 3].map(() => limiter.consume('k').allowed)).toEqual([true, true, true]);
    expect(limiter.consume('k')).toEqual({ allowed: false, retryAfterSeconds: 20 });
    clock.now += 15_000;
    expect(limiter.consume('k')).toEqual({ allowed: false, retryAfterSeconds: 5 });
    clock.now += 5_000;
    expect(limiter.consume('k').allowed).toBe(true);
    expect(limiter.consume('other').allowed).toBe(true);
  });

  it('check does not take a token', () => {
    const limiter = new TokenBucketLimiter({ limit: 1, windowSec: 60 });
    expect(limiter.check('k').allowed).toBe(true);
    expect(limiter.check('k').allowed).toBe(true);
    expect(limiter.consume('k').allowed).toBe(true);
    expect(limiter.check('k')).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });

  it('stays bounded: refilled keys are evicted as traffic moves on, and never more than maxKeys are kept', () => {
    const clock = { now: 0 };
    const limiter = new TokenBucketLimiter({ limit: 10, windowSec: 1 }, 500, () => clock.now);
    for (let i = 0; i < 10_000; i++) {
      limiter.consume(`addr-${i}`);
      expect(limiter.size).toBeLessThanOrEqual(500);
    }
    clock.now += 1_000;
    for (let i = 0; i < 300; i++) limiter.consume('steady');
    expect(limiter.size).toBeLessThan(10);
  });

  it('keeps the least recently used order when a key comes again, and drops the least recent first', () => {
    const limiter = new TokenBucketLimiter({ limit: 2, windowSec: 60 }, 2, () => 0);
    // a, b, then a again (now the most recent): a third key over maxKeys drops b.
    expect(['a', 'b', 'a', 'c'].map((k) => limiter.consume(k).allowed)).toEqual([true, true, true, true]);
    expect(limiter.size).toBe(2);
    expect(limiter.consume('a').allowed).toBe(false);
    // b starts over with a full bucket: it was dropped, not a.
    expect([limiter.consume('b').allowed, limiter.consume('b').allowed]).toEqual([true, true]);
    // b's return dropped a (a refused call is no use), not c, which kept its one token left.
    expect([limiter.consume('c').allowed, limiter.consume('c').allowed]).toEqual([true, false]);
  });

  it('does not evict a key that is still limited', () => {
    const clock = { now: 0 };
    const limiter = new TokenBucketLimiter({ limit: 1, windowSec: 60 }, 1000, () => clock.now);
    limiter.consume('attacker');
    clock.now += 1_000;
    for (let i = 0; i < 100; i++) limiter.consume(`other-${i}`);
    expect(limiter.consume('attacker').allowed).toBe(false);
  });
});

describe(AuthRateLimiter.name, () => {
  it('limits each API key on its own', async () => {
    const limiter = new AuthRateLimiter({ perApiKey: { limit: 2, windowSec: 10 } });
    await limiter.consume(keyA);
    await limiter.consume(keyA);
    const err = await rateLimited(() => limiter.consume(keyA));
    expect(err).toMatchObject({ code: 'rate_limited', status: 429, details: { scope: 'api_key', retryAfterSeconds: 5 } });
    await expect(limiter.consume(keyB)).resolves.toBeUndefined();
    await expect(limiter.consume(user)).resolves.toBeUndefined();
  });

  it('limits an organization over all its keys and users', async () => {
    const limiter = new AuthRateLimiter({ perOrg: { limit: 3, windowSec: 60 } });
    await limiter.consume(keyA);
    await limiter.consume(keyB);
    await limiter.consume(user);
    await expect(rateLimited(() => limiter.consume(keyA))).resolves.toMatchObject({ details: { scope: 'org', retryAfterSeconds: 20 } });
    await expect(limiter.consume(otherOrgKey)).resolves.toBeUndefined();
  });

  it('refuses an address after 20 failed authentications a minute by default, and lets it back in later', async () => {
    const clock = { now: 0 };
    const limiter = new AuthRateLimiter({}, () => clock.now);
    for (let i = 0; i < 20; i++) {
      limiter.assertMayAuthenticate('10.0.0.1');
      await limiter.recordFailedAuth('10.0.0.1');
    }
    const err = await rateLimited(() => limiter.assertMayAuthenticate('10.0.0.1'));
    expect(err).toMatchObject({ code: 'rate_limited', details: { scope: 'address', retryAfterSeconds: 3 } });
    expect(() => limiter.assertMayAuthenticate('10.0.0.2')).not.toThrow();
    clock.now += 3_000;
    expect(() => limiter.assertMayAuthenticate('10.0.0.1')).not.toThrow();
  });

  it('applies no per-key or per-org limit unless configured', async () => {
    const limiter = new AuthRateLimiter({ failedAuthPerAddress: null });
    for (let i = 0; i < 10_000; i++) await limiter.consume(keyA);
    for (let i = 0; i < 100; i++) await limiter.recordFailedAuth('x');
    expect(() => limiter.assertMayAuthenticate('x')).not.toThrow();
  });
});

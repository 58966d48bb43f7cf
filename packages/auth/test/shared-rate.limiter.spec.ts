import { Logger } from '@nestjs/common';
import { AppError } from '@wa/domain';
import type { RateLimit } from '../src/auth.options';
import { AuthRateLimiter } from '../src/auth-rate.limiter';
import type { RateLimitStore, RateLimitTake } from '../src/rate-limit-store.port';
import { SharedTokenBucketLimiter } from '../src/shared-rate.limiter';

/**
 * The shared store the gateway keeps in PostgreSQL, in memory: the same GCRA arithmetic (a
 * theoretical arrival time per bucket), on the test's clock, counting what it is asked.
 */
class MemoryBuckets implements RateLimitStore {
  readonly tat = new Map<string, number>();
  readonly takes: Array<{ bucket: string; count: number }> = [];
  givenBack = 0;
  failing = false;

  constructor(private readonly clock: { now: number }) {}

  async take(bucket: string, rate: RateLimit, count: number): Promise<RateLimitTake> {
    this.takes.push({ bucket, count });
    if (this.failing) throw new Error('connection refused');
    const interval = (rate.windowSec * 1000) / rate.limit;
    const burst = rate.windowSec * 1000;
    const now = this.clock.now;
    const base = Math.max(this.tat.get(bucket) ?? now, now);
    const granted = Math.min(count, Math.floor((now + burst - base) / interval + 1e-9));
    const tat = base + granted * interval;
    this.tat.set(bucket, tat);
    const remaining = Math.floor((now + burst - tat) / interval + 1e-9);
    return { granted, remaining, refillMs: remaining > 0 ? 0 : Math.max(0, tat - burst + interval - now) };
  }

  async giveBack(bucket: string, rate: RateLimit, count: number): Promise<void> {
    if (this.failing) throw new Error('connection refused');
    this.givenBack += count;
    const interval = (rate.windowSec * 1000) / rate.limit;
    const tat = this.tat.get(bucket);
    if (tat !== undefined) this.tat.set(bucket, Math.max(tat - count * interval, this.clock.now));
  }
}

describe(SharedTokenBucketLimiter.name, () => {
  let clock: { now: number };
  let store: MemoryBuckets;
  const open: SharedTokenBucketLimiter[] = [];

  /** One gateway replica's limiter on the shared store. */
  function replica(rate: RateLimit, options: { storeTimeoutMs?: number } = {}): SharedTokenBucketLimiter {
    const limiter = new SharedTokenBucketLimiter('api_key', rate, store, { now: () => clock.now, ...options });
    open.push(limiter);
    return limiter;
  }

  beforeEach(() => {
    clock = { now: 1_000_000 };
    store = new MemoryBuckets(clock);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const limiter of open.splice(0)) await limiter.close();
  });

  it('lets two replicas admit the limit together, not twice the limit', async () => {
    const rate = { limit: 50, windowSec: 60 };
    const [a, b] = [replica(rate), replica(rate)];
    let admitted = 0;
    // 1,000 requests over 3 s, alternating between the replicas.
    for (let i = 0; i < 1_000; i++) {
      clock.now += 3;
      if ((await (i % 2 === 0 ? a : b).consume('key-1')).allowed) admitted++;
    }
    // A single bucket admits its burst plus what refills in 3 s: 50 + 2.5.
    expect(admitted).toBeGreaterThanOrEqual(50);
    expect(admitted).toBeLessThanOrEqual(53);
  });

  it('stays within 2% of the limit with large batches and many replicas', async () => {
    const rate = { limit: 6_000, windowSec: 60 };
    const replicas = [replica(rate), replica(rate), replica(rate), replica(rate)];
    let admitted = 0;
    // 40,000 requests over 10 s (4,000/s, 40 times the refill rate), spread over four replicas.
    for (let i = 0; i < 40_000; i++) {
      if (i % 4 === 0) clock.now += 1;
      if ((await replicas[i % 4].consume('key-1')).allowed) admitted++;
    }
    const singleBucket = 6_000 + 100 * 10;
    expect(admitted).toBeLessThanOrEqual(singleBucket + 6_000 * 0.02 + 1);
    expect(admitted).toBeGreaterThanOrEqual(singleBucket - 4 * 120);
  });

  it('asks the store for batches that grow with the traffic of a key, up to 2% of the limit', async () => {
    const limiter = replica({ limit: 6_000, windowSec: 60 });
    for (let i = 0; i < 1_000; i++) await expect(limiter.consume('key-1')).resolves.toEqual({ allowed: true });
    const counts = store.takes.map((t) => t.count);
    expect(counts.slice(0, 8)).toEqual([1, 2, 4, 8, 16, 32, 64, 120]);
    expect(counts.slice(8).every((c) => c === 120)).toBe(true);
    expect(counts.reduce((sum, c) => sum + c, 0) - 1_000).toBeLessThan(120);
  });

  it('takes the next batch before the current one runs out, so a busy key does not wait for the store', async () => {
    // The store answers only when the test lets it: a request still pending then is waiting for it.
    const gated: Array<() => void> = [];
    const slow: RateLimitStore = {
      take: (...args) => new Promise((resolve) => gated.push(() => resolve(store.take(...args)))),
      giveBack: (...args) => store.giveBack(...args),
    };
    const limiter = new SharedTokenBucketLimiter('api_key', { limit: 6_000, windowSec: 60 }, slow, { now: () => clock.now });
    open.push(limiter);
    let waited = 0;
    for (let i = 0; i < 1_000; i++) {
      let settled = false;
      const decision = limiter.consume('key-1').finally(() => (settled = true));
      await new Promise((r) => setImmediate(r));
      if (!settled) waited++;
      for (const release of gated.splice(0)) release();
      await expect(decision).resolves.toEqual({ allowed: true });
    }
    // Only the first two requests of the key, before its batches grew.
    expect(waited).toBe(2);
  });

  it('takes one token at a time for a key used now and then, and gives nothing back', async () => {
    const limiter = replica({ limit: 6_000, windowSec: 60 });
    for (let i = 0; i < 5; i++) {
      await expect(limiter.consume('key-1')).resolves.toEqual({ allowed: true });
      clock.now += 5_000;
    }
    expect(store.takes.map((t) => t.count)).toEqual([1, 1, 1, 1, 1]);
    expect(store.givenBack).toBe(0);
  });

  it('refuses locally once the store said the bucket is empty, until its next token is due', async () => {
    const limiter = replica({ limit: 2, windowSec: 60 });
    await limiter.consume('key-1');
    await limiter.consume('key-1');
    const takes = store.takes.length;
    await expect(limiter.consume('key-1')).resolves.toEqual({ allowed: false, retryAfterSeconds: 30 });
    clock.now += 10_000;
    await expect(limiter.consume('key-1')).resolves.toEqual({ allowed: false, retryAfterSeconds: 20 });
    expect(store.takes).toHaveLength(takes);
    clock.now += 20_000;
    await expect(limiter.consume('key-1')).resolves.toEqual({ allowed: true });
  });

  it('lets concurrent requests of a key share a take, and asks for as many tokens as are waiting', async () => {
    const limiter = replica({ limit: 10, windowSec: 60 });
    const decisions = await Promise.all(Array.from({ length: 6 }, () => limiter.consume('key-1')));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    // The first request's take was in flight when the other five arrived: they are the next take.
    expect(store.takes).toEqual([
      { bucket: 'api_key:key-1', count: 1 },
      { bucket: 'api_key:key-1', count: 5 },
    ]);
  });

  it('admits 100 concurrent requests of a key whose take is answered later than the hold time (a busy event loop)', async () => {
    // The answer is read a hold time and more after the take was sent: the tokens are for the
    // requests that waited for it, not expired by the time those run.
    const late: RateLimitStore = {
      take: async (...args) => {
        await new Promise((r) => setImmediate(r));
        clock.now += 1_500;
        return store.take(...args);
      },
      giveBack: (...args) => store.giveBack(...args),
    };
    const limiter = new SharedTokenBucketLimiter('api_key', { limit: 6_000, windowSec: 60 }, late, { now: () => clock.now });
    open.push(limiter);
    expect(limiter.holdMs).toBeLessThan(1_500);
    const decisions = await Promise.all(Array.from({ length: 100 }, () => limiter.consume('key-1')));
    expect(decisions.filter((d) => !d.allowed)).toEqual([]);
  });

  it('refuses none of a burst of 50 clients on a full bucket, however their requests and the takes interleave', async () => {
    // A store that answers a turn or two of the event loop later, as a database does.
    const take = store.take.bind(store);
    let turns = 0;
    store.take = async (...args) => {
      for (let i = 0, n = 1 + (turns++ % 3); i < n; i++) await new Promise((r) => setImmediate(r));
      return take(...args);
    };
    const limiter = replica({ limit: 100_000_000, windowSec: 60 });
    let refused = 0;
    // Each client sends its next request once the last one was decided, as a keep-alive client does.
    const client = async (): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        if (!(await limiter.consume('burst-key')).allowed) refused++;
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all(Array.from({ length: 50 }, client));
    expect(refused).toBe(0);
  });

  it('gives tokens back instead of using them once they are older than the hold time', async () => {
    const limiter = replica({ limit: 6_000, windowSec: 60 });
    // 1 + 2 + 4 tokens used; the prefetched grant of 8 is held.
    for (let i = 0; i < 7; i++) await limiter.consume('key-1');
    expect(store.takes.map((t) => t.count)).toEqual([1, 2, 4, 8]);
    await new Promise((r) => setImmediate(r)); // the prefetch's answer is read
    clock.now += limiter.holdMs;
    await limiter.consume('key-1');
    expect(store.givenBack).toBe(8);
    // The next take is smaller: the key did not use what it held.
    expect(store.takes.map((t) => t.count)).toEqual([1, 2, 4, 8, 4]);
  });

  it('gives every held token back when it closes', async () => {
    const limiter = replica({ limit: 6_000, windowSec: 60 });
    for (let i = 0; i < 7; i++) await limiter.consume('key-1');
    await limiter.close();
    expect(store.givenBack).toBe(8);
  });

  it('strands no token when it closes while requests wait for a take, and takes nothing after', async () => {
    // A store that answers a turn later, as a database does; and what it granted in all.
    const take = store.take.bind(store);
    let granted = 0;
    let asked = 0;
    store.take = async (...args) => {
      asked++;
      await new Promise((r) => setImmediate(r));
      const result = await take(...args);
      granted += result.granted;
      return result;
    };
    const limiter = replica({ limit: 6_000, windowSec: 60 });
    const fallback = (limiter as unknown as { fallback: { consume: (key: string) => unknown } }).fallback;
    const alone = fallback.consume.bind(fallback);
    let decidedAlone = 0;
    fallback.consume = (key: string) => {
      decidedAlone++;
      return alone(key);
    };
    // Twenty requests wait for a first take of one token: its landing would start a follow-up take.
    const decisions = Array.from({ length: 20 }, () => limiter.consume('key-1'));
    const closing = limiter.close();
    const takesAtClose = asked;
    const allowed = (await Promise.all(decisions)).filter((d) => d.allowed).length;
    await closing;
    const takesAfterClose = store.takes.length;
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(store.takes.length).toBe(takesAfterClose);
    // The take in flight when close() was called is the last one.
    expect(asked).toBe(takesAtClose);
    // Every token the store granted was used by a request or given back.
    expect(allowed - decidedAlone + store.givenBack).toBe(granted);
    expect(limiter.size).toBe(0);
  });

  it('decides with its own bucket while the store fails, says so once, and shares again when it answers', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const limiter = replica({ limit: 3, windowSec: 60 });
    store.failing = true;
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await limiter.consume('key-1')).allowed);
    expect(answers).toEqual([true, true, true, false]);
    expect(store.takes).toHaveLength(1);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatchObject({ scope: 'api_key', error: 'connection refused' });

    store.failing = false;
    clock.now += 1_000;
    await expect(limiter.consume('key-2')).resolves.toEqual({ allowed: true });
    expect(store.takes).toHaveLength(2);
    expect(log).toHaveBeenCalledWith(expect.objectContaining({ msg: expect.stringContaining('shared by all gateways again') }));
  });

  it('treats a store slower than its timeout as failed', async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const hanging: RateLimitStore = { take: () => new Promise(() => undefined), giveBack: async () => undefined };
    const limiter = new SharedTokenBucketLimiter('org', { limit: 1, windowSec: 60 }, hanging, { storeTimeoutMs: 20, now: () => clock.now });
    open.push(limiter);
    await expect(limiter.consume('org-1')).resolves.toEqual({ allowed: true });
    await expect(limiter.consume('org-1')).resolves.toMatchObject({ allowed: false });
  });

  it('check never asks the store and refuses what the store said is empty', async () => {
    const limiter = replica({ limit: 1, windowSec: 60 });
    expect(limiter.check('10.0.0.1')).toEqual({ allowed: true });
    expect(store.takes).toHaveLength(0);
    await limiter.consume('10.0.0.1');
    expect(limiter.check('10.0.0.1')).toEqual({ allowed: false, retryAfterSeconds: 60 });
  });
});

describe(`${AuthRateLimiter.name} with a shared store`, () => {
  it('counts failed authentications of an address on every replica together', async () => {
    const clock = { now: 0 };
    const store = new MemoryBuckets(clock);
    const options = { failedAuthPerAddress: { limit: 3, windowSec: 60 } };
    const [a, b] = [new AuthRateLimiter(options, () => clock.now, store), new AuthRateLimiter(options, () => clock.now, store)];
    try {
      await a.recordFailedAuth('10.0.0.9');
      await a.recordFailedAuth('10.0.0.9');
      await b.recordFailedAuth('10.0.0.9');
      let refused: unknown;
      try {
        b.assertMayAuthenticate('10.0.0.9');
      } catch (err) {
        refused = err;
      }
      expect(refused).toBeInstanceOf(AppError);
      expect(refused).toMatchObject({ code: 'rate_limited', details: { scope: 'address', retryAfterSeconds: 20 } });
      // The other replica learns it at its next failure, and refuses from then on.
      await a.recordFailedAuth('10.0.0.9');
      expect(() => a.assertMayAuthenticate('10.0.0.9')).toThrow(AppError);
    } finally {
      await a.onApplicationShutdown();
      await b.onApplicationShutdown();
    }
  });

  it('keeps per-key and per-org buckets apart in the store', async () => {
    const clock = { now: 0 };
    const store = new MemoryBuckets(clock);
    const limiter = new AuthRateLimiter({ perApiKey: { limit: 5, windowSec: 60 }, perOrg: { limit: 5, windowSec: 60 } }, () => clock.now, store);
    try {
      await limiter.consume({ kind: 'api_key', orgId: 'same', subject: 'same', capabilities: [] });
      expect(store.takes.map((t) => t.bucket)).toEqual(['api_key:same', 'org:same']);
    } finally {
      await limiter.onApplicationShutdown();
    }
  });
});

import { Logger } from '@nestjs/common';
import type { RateLimit } from './auth.options';
import type { RateLimitStore } from './rate-limit-store.port';
import { TokenBucketLimiter, type RateDecision } from './rate.limiter';

/** Tokens the store granted to this replica at one time. */
interface Grant {
  tokens: number;
  /** When the take was sent: the store counted these tokens as used no earlier than this. */
  readonly takenAt: number;
}

interface Reservation {
  /** Oldest first; at most a few, since a new take is only sent when the older ones run low. */
  grants: Grant[];
  /** The store had no token left: none is asked for, and every request is refused, before this. */
  emptyUntil: number;
  /** Requests of this replica waiting for `take`: how many tokens the next take asks for at least. */
  waiting: number;
  /**
   * How many tokens the next take asks for: 1 for a key seen for the first time, doubled (up to
   * the batch) each time the key needs more within `hold` of its last take, halved each time
   * tokens expire unused. A key used now and then takes one token and gives nothing back.
   */
  size: number;
  lastTakeAt: number;
  take?: Promise<void>;
  lastUsed: number;
}

export interface SharedRateLimiterOptions {
  /** Upper bound on keys tracked in this replica (default 100 000). */
  readonly maxKeys?: number;
  /** How long a call to the store may take before this replica falls back to its own bucket (default 500 ms). */
  readonly storeTimeoutMs?: number;
  /** After a failed call, how long the replica decides on its own before it tries the store again (default 1 s). */
  readonly storeRetryMs?: number;
  readonly now?: () => number;
}

const ALLOWED: RateDecision = { allowed: true };
// A replica takes at most a fiftieth of the limit at once and holds it for at most a fiftieth of
// the window: see the class comment.
const RESERVE_FRACTION = 0.02;
const MIN_HOLD_MS = 50;
const MAX_HOLD_MS = 1_000;
// Rounds of "wait for the take, find its tokens used by the requests that waited before" before a
// request gives up; each take asks for as many tokens as there are waiters, so one more is rare.
const MAX_ROUNDS = 3;

/**
 * A token bucket per key that every gateway replica shares through a `RateLimitStore`, without
 * a round trip to the store per request for a busy key: each replica takes tokens from the
 * shared bucket in batches that grow with the key's traffic (up to a fiftieth of the limit),
 * answers requests from the tokens it holds, and takes the next batch in the background when a
 * quarter of the last one is left. A request waits for the store only when its replica holds
 * nothing for the key (a key used less than once per `hold` waits for one statement each time);
 * once the store says the bucket is empty, requests are refused locally until its next token is
 * due.
 *
 * Accuracy: tokens are only ever granted by the store, atomically, so the cluster cannot admit
 * more than the shared bucket allows, except that a replica uses a token up to `hold` after it
 * read the store's answer (a fiftieth of the window, 50 ms to 1 s, plus the store's latency of at
 * most `storeTimeoutMs`); unused tokens are then given back.
 * Over any period the cluster admits at most `limit + rate x (period + hold)`: the overshoot is
 * at most 2% of the limit plus one token, whatever the number of replicas. Tokens held by a
 * replica that gets no more requests are missing for the others for at most `hold`.
 *
 * When the store fails or is slower than `storeTimeoutMs`, the replica decides with a bucket of
 * its own (the configured limit per replica, as without a store) and logs it; it asks the store
 * again after `storeRetryMs`, and logs when limits are shared again.
 */
export class SharedTokenBucketLimiter {
  private readonly logger = new Logger(SharedTokenBucketLimiter.name);
  private readonly reservations = new Map<string, Reservation>();
  private readonly fallback: TokenBucketLimiter;
  private readonly batch: number;
  readonly holdMs: number;
  private readonly maxKeys: number;
  private readonly storeTimeoutMs: number;
  private readonly storeRetryMs: number;
  private readonly now: () => number;
  private storeDownUntil = 0;
  private storeDown = false;
  /** Set by `close`: `take` starts nothing after it, and later requests are decided locally. */
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  /**
   * @param scope prefixes every bucket name in the store (`api_key`, `org`, `address`), so that
   *   limits of different kinds never share a bucket.
   */
  constructor(
    private readonly scope: string,
    private readonly rate: RateLimit,
    private readonly store: RateLimitStore,
    options: SharedRateLimiterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
    this.storeTimeoutMs = options.storeTimeoutMs ?? 500;
    this.storeRetryMs = options.storeRetryMs ?? 1_000;
    this.fallback = new TokenBucketLimiter(rate, this.maxKeys, this.now);
    this.batch = Math.max(1, Math.floor(rate.limit * RESERVE_FRACTION));
    this.holdMs = Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, rate.windowSec * 1000 * RESERVE_FRACTION));
    // Expired tokens are never used (`usable` checks their age); giving them back only returns
    // them to the other replicas sooner, so a coarse timer that does not keep Node alive will do.
    this.sweeper = setInterval(() => this.sweep(), Math.max(this.holdMs, 1_000));
    this.sweeper.unref();
  }

  /** Takes one token for `key`, or says how long until one is available. */
  async consume(key: string): Promise<RateDecision> {
    if (this.decidingAlone()) return this.fallback.consume(key);
    const reservation = this.reservation(key);
    // Tokens are looked for once more after the last wait: the take just waited for brought some.
    for (let round = 0; ; round++) {
      if (this.closed) return this.fallback.consume(key);
      const now = this.now();
      reservation.lastUsed = now;
      if (this.useToken(key, reservation, now)) return ALLOWED;
      if (reservation.emptyUntil > now) return denied(reservation.emptyUntil - now);
      if (this.decidingAlone()) return this.fallback.consume(key);
      if (round === MAX_ROUNDS) return denied(1_000);
      reservation.waiting++;
      try {
        if (!reservation.take && now - reservation.lastTakeAt < this.holdMs) this.grow(reservation);
        await this.take(key, reservation, Math.max(reservation.size, reservation.waiting));
      } finally {
        reservation.waiting--;
      }
    }
  }

  /**
   * Whether `consume` would succeed, from what this replica knows, without asking the store:
   * a key it holds nothing about is allowed (this runs before every authentication).
   */
  check(key: string): RateDecision {
    if (this.decidingAlone()) return this.fallback.check(key);
    const reservation = this.reservations.get(key);
    const now = this.now();
    if (!reservation || this.usable(key, reservation, now) > 0) return ALLOWED;
    return reservation.emptyUntil > now ? denied(reservation.emptyUntil - now) : ALLOWED;
  }

  get size(): number {
    return this.reservations.size;
  }

  /** Stops the sweeper and gives every held token back, so that a stopping replica strands none. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    // Takes in flight land first, or their tokens would be stranded (none starts after this).
    for (;;) {
      const inFlight = [...this.reservations.values()].flatMap((r) => (r.take ? [r.take] : []));
      if (inFlight.length === 0) break;
      await Promise.all(inFlight);
    }
    const returns: Promise<void>[] = [];
    for (const [key, reservation] of this.reservations) {
      const tokens = held(reservation);
      reservation.grants = [];
      if (tokens > 0) returns.push(this.giveBack(key, tokens));
    }
    this.reservations.clear();
    await Promise.all(returns);
  }

  private decidingAlone(): boolean {
    return this.storeDownUntil > this.now();
  }

  private reservation(key: string): Reservation {
    let reservation = this.reservations.get(key);
    if (reservation) {
      // Re-inserting keeps the Map ordered by last use, oldest first, for the sweeper.
      this.reservations.delete(key);
    } else {
      reservation = { grants: [], emptyUntil: 0, waiting: 0, size: 1, lastTakeAt: -Infinity, lastUsed: this.now() };
      if (this.reservations.size >= this.maxKeys) this.evictOldest();
    }
    this.reservations.set(key, reservation);
    return reservation;
  }

  /** Uses a held token if one is still fresh; starts the next take early when few are left. */
  private useToken(key: string, reservation: Reservation, now: number): boolean {
    const left = this.usable(key, reservation, now);
    if (left === 0) return false;
    reservation.grants[0].tokens--;
    if (reservation.grants[0].tokens === 0) reservation.grants.shift();
    // Running low within `hold` of the last take: the key is busy, so the next take is larger.
    if (left - 1 <= reservation.size / 4 && reservation.size >= 2 && !reservation.take && reservation.emptyUntil <= now) {
      this.grow(reservation);
      void this.take(key, reservation, reservation.size);
    }
    return true;
  }

  private grow(reservation: Reservation): void {
    reservation.size = Math.min(this.batch, reservation.size * 2);
  }

  /** Held tokens still young enough to use; older ones go back to the store. */
  private usable(key: string, reservation: Reservation, now: number): number {
    let expired = 0;
    while (reservation.grants.length > 0 && now - reservation.grants[0].takenAt >= this.holdMs) {
      expired += reservation.grants.shift()!.tokens;
    }
    if (expired > 0) {
      reservation.size = Math.max(1, Math.floor(reservation.size / 2));
      void this.giveBack(key, expired);
    }
    return held(reservation);
  }

  /** One take in flight per key; concurrent requests wait for the same one. */
  private take(key: string, reservation: Reservation, count: number): Promise<void> {
    if (reservation.take) return reservation.take;
    // A closed limiter gave its tokens back: a take now (ahead of need, or a follow-up) would strand its own.
    if (this.closed) return Promise.resolve();
    reservation.lastTakeAt = this.now();
    const take = this.withTimeout(this.store.take(this.bucket(key), this.rate, count))
      .then((result) => {
        // Aged from when the answer is read, not from when the take started: the requests that
        // waited for it resume right after this, and on a busy event loop the answer can be read
        // later than `hold` after it was sent, which would expire every token before its waiter
        // ran and refuse requests with a full bucket.
        if (result.granted > 0) reservation.grants.push({ tokens: result.granted, takenAt: this.now() });
        reservation.emptyUntil = result.remaining > 0 ? 0 : this.now() + result.refillMs;
        this.storeAnswered();
      })
      .catch((err: unknown) => this.storeFailed(err))
      .finally(() => {
        if (reservation.take !== take) return;
        reservation.take = undefined;
        // More requests wait than this take brought tokens for (they came after it was sized, or
        // it was a take ahead of need): the next one starts now, sized for all of them, before
        // they look for a token, so that each finds one when it lands instead of giving up.
        const short = reservation.waiting - held(reservation);
        if (short > 0 && reservation.emptyUntil <= this.now() && !this.decidingAlone()) {
          this.grow(reservation);
          void this.take(key, reservation, Math.max(reservation.size, short));
        }
      });
    reservation.take = take;
    return take;
  }

  private giveBack(key: string, tokens: number): Promise<void> {
    return this.withTimeout(this.store.giveBack(this.bucket(key), this.rate, tokens)).catch((err: unknown) => {
      // Harmless: the tokens are missing from the shared bucket until it refills.
      this.logger.debug({ msg: 'giving rate-limit tokens back failed', scope: this.scope, tokens, error: errorMessage(err) });
    });
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, reservation] of this.reservations) {
      // Ordered by last use: from the first recently used key on, everything is recent.
      if (now - reservation.lastUsed < this.holdMs) break;
      this.usable(key, reservation, now);
      if (reservation.grants.length === 0 && !reservation.take && reservation.emptyUntil <= now) this.reservations.delete(key);
    }
  }

  private evictOldest(): void {
    const oldest = this.reservations.entries().next();
    if (oldest.done) return;
    const [key, reservation] = oldest.value;
    const tokens = held(reservation);
    if (tokens > 0) void this.giveBack(key, tokens);
    this.reservations.delete(key);
  }

  private bucket(key: string): string {
    return `${this.scope}:${key}`;
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.storeTimeoutMs} ms`)), this.storeTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private storeAnswered(): void {
    if (!this.storeDown) return;
    this.storeDown = false;
    this.logger.log({ msg: 'rate-limit store reachable again: limits are shared by all gateways again', scope: this.scope });
  }

  private storeFailed(err: unknown): void {
    this.storeDownUntil = this.now() + this.storeRetryMs;
    if (this.storeDown) return;
    this.storeDown = true;
    this.logger.warn({
      msg: 'rate-limit store unavailable: each gateway applies the limit on its own until it answers again',
      scope: this.scope,
      error: errorMessage(err),
    });
  }
}

function held(reservation: Reservation): number {
  return reservation.grants.reduce((sum, g) => sum + g.tokens, 0);
}

function denied(waitMs: number): RateDecision {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

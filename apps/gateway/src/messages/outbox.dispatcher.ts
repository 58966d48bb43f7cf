import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { jidPair, RPC_MESSAGING, type ExecutePayload, type ExecuteResult, type OutboxAction } from '@wa/contracts';
import { AppError, idFloor, newId } from '@wa/domain';
import { GatewayConfig } from '../config/gateway.config';
import { EventsService } from '../events/events.service';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { RunnerClient } from '../runner/runner-client';
import { OutboxStore, type OutboxRow } from './outbox.store';

/** A hand-over's end: the entry as it left it, and the chat's next entry when that end claimed it. */
interface HandedOver {
  row: OutboxRow;
  next?: { entry: OutboxRow; token: string };
  /** The end looked for the chat's next entry in its own statement (found or not). */
  lookedForNext: boolean;
}

/** Errors after which the same entry may well succeed later; anything else fails the entry. */
const TRANSIENT = new Set(['session_unavailable', 'session_not_connected', 'service_unavailable', 'rate_limited']);
/** An unexpected runner error is retried a few times before the entry is given up. */
const INTERNAL_ERROR_ATTEMPTS = 5;
const CLAIM_BATCH = 100;
/** Chat heads claimed at once by one drain step (round trips in parallel on PostgreSQL). */
const CHAT_CLAIMS_IN_PARALLEL = 16;
const HOUSEKEEPING_INTERVAL_MS = 60_000;
/** Finished entries deleted per statement, and statements per housekeeping run. */
const PURGE_BATCH = 1000;
const PURGE_BATCHES_PER_RUN = 50;
/** How often a sync request re-reads its entry when another replica dispatches it. */
const WAIT_POLL_MS = 200;
const HANDED_OVER = new Set(['sent', 'delivered', 'read', 'failed']);

/**
 * Hands outbox entries to the runners. Any replica may dispatch any entry: a conditional UPDATE
 * claims it (token + expiry), so an entry is dispatched by one replica at a time, and an entry
 * whose dispatcher died is taken over when its claim expires, with the same WhatsApp id and the
 * attempt count raised (the runner does not send an id twice). Per chat, only the oldest
 * unfinished entry is eligible (order, one in flight); chats proceed in parallel. Pacing (a
 * jittered minimum interval between two sends of a session) travels with each hand-over and is
 * enforced by the runner that owns the session, so that it holds with any number of gateways.
 *
 * Work is found per chat: an insert and the end of a hand-over look at that chat's head only
 * (one indexed claim), so the cost of a send does not grow with the queue or the history. A full
 * pass over every waiting chat runs on a timer (entries other replicas accepted, retries that
 * came due) and when a session connects.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('outbox');
  private readonly waiters = new Map<string, Set<(handedOver?: OutboxRow) => void>>();
  private running = false;
  private again = false;
  private stopped = false;
  private inFlight = 0;
  /** Entries this replica is dispatching now, by id, with their claim tokens (renewed by the heartbeat). */
  private readonly claimed = new Map<string, string>();
  /** Chats to look at, by `session \n chat` (coalesced), and chats with a hand-over in progress here. */
  private readonly dueChats = new Map<string, { sessionId: string; chat: string }>();
  private readonly busyChats = new Set<string>();
  /** Busy chats that were kicked while busy (an entry accepted during the hand-over). */
  private readonly kickedWhileBusy = new Set<string>();
  private draining = false;
  private heartbeatTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private wakeTimer?: NodeJS.Timeout;
  private wakeAt = Infinity;
  private housekeepingTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: OutboxStore,
    private readonly runner: RunnerClient,
    private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
    private readonly events: EventsService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.messaging.dispatcherEnabled) return;
    this.pollTimer = setInterval(() => this.kick(), this.config.messaging.pollIntervalMs);
    this.housekeepingTimer = setInterval(() => void this.housekeeping(), HOUSEKEEPING_INTERVAL_MS);
    // Claims are short (OUTBOX_CLAIM_TTL_MS) so that a dead replica's entries are taken over
    // soon; a dispatch that takes longer keeps its claim by renewing it every third of that.
    this.heartbeatTimer = setInterval(() => void this.renewClaims(), Math.max(250, Math.floor(this.config.messaging.claimTtlMs / 3)));
    this.pollTimer.unref();
    this.housekeepingTimer.unref();
    this.heartbeatTimer.unref();
    this.kick();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.housekeepingTimer);
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.wakeTimer);
    // Entries in flight finish or keep their claim, which another replica takes over when it expires.
    const deadline = Date.now() + 5000;
    while ((this.inFlight > 0 || this.running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Looks for work now (coalesced): after an insert, a finished entry, a session that connected. */
  kick(): void {
    if (this.stopped || !this.config.messaging.dispatcherEnabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    setImmediate(() => void this.pass());
  }

  /**
   * Looks at one chat now (coalesced): after an insert into a connected session's chat. A chat
   * with a hand-over in progress here is looked at again when that ends.
   */
  kickChat(sessionId: string, chat: string): void {
    if (this.stopped || !this.config.messaging.dispatcherEnabled) return;
    const key = chatKey(sessionId, chat);
    if (this.busyChats.has(key)) {
      this.kickedWhileBusy.add(key);
      return;
    }
    this.dueChats.set(key, { sessionId, chat });
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => void this.drainChats());
  }

  /**
   * Claims a chat's head now, in the caller's turn of the event loop, for a sync request that
   * just asked for its entry's insert: where writes of a turn run in order in one commit (SQLite),
   * the claim sees the entry and shares its commit, and the hand-over starts without waiting for
   * another turn. Whether it started a hand-over (of this entry, or of an earlier one of the
   * chat); undefined when that does not hold or the chat is busy here (then `kickChat`).
   */
  claimInTurn(sessionId: string, chat: string): Promise<boolean> | undefined {
    if (this.stopped || !this.config.messaging.dispatcherEnabled || !this.store.writesInOrder) return undefined;
    if (this.busyChats.has(chatKey(sessionId, chat))) return undefined;
    return this.claimChat(sessionId, chat);
  }

  /**
   * Resolves when the entry was handed to WhatsApp (or failed), or when `timeoutMs` passed,
   * with the entry as it stands then. `justAccepted`: the caller stored the entry in this turn
   * (so it is known to wait, and no hand-over of it can have ended yet): the wait starts without
   * reading it. A hand-over this dispatcher ends hands its outcome to the wait, which reads the
   * entry only when woken otherwise (a failure, a retry, a receipt, its poll while no hand-over
   * of it is in progress here).
   */
  async waitForHandover(id: string, timeoutMs: number, justAccepted = false): Promise<OutboxRow | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (let first = true; ; first = false) {
      // An entry this dispatcher is handing over gets its outcome from the hand-over's end (which
      // always notifies): no read until then, however long the hand-over takes, but at the deadline.
      const handingOver = this.claimed.has(id) && Date.now() < deadline;
      if (!(first && justAccepted) && !handingOver) {
        const row = await this.store.byId(id);
        if (!row || row.nextAttemptAt === null || HANDED_OVER.has(row.status) || Date.now() >= deadline) return row;
      }
      const outcome = await new Promise<OutboxRow | undefined>((resolve) => {
        const waiters = this.waiters.get(id) ?? new Set();
        this.waiters.set(id, waiters);
        const done = (handedOver?: OutboxRow): void => {
          clearTimeout(timer);
          waiters.delete(done);
          if (waiters.size === 0) this.waiters.delete(id);
          resolve(handedOver);
        };
        const timer = setTimeout(done, Math.min(WAIT_POLL_MS, Math.max(0, deadline - Date.now())));
        waiters.add(done);
      });
      if (outcome) return outcome;
    }
  }

  /**
   * Entries moved by receipts: wake their waiters. A receipt seldom moves an entry that still
   * waits (one whose hand-over was lost in a crash); the next timed pass lets its chat go on.
   * An entry this dispatcher is handing over is left to the end of that hand-over, which brings
   * its waiters the outcome (the server's ack often comes back before the runner's answer).
   */
  settled(ids: string[]): void {
    for (const id of ids) if (!this.claimed.has(id)) this.notify(id);
  }

  /** Wakes the waits for an entry; with `handedOver`, the entry as its hand-over left it (no read needed). */
  private notify(id: string, handedOver?: OutboxRow): void {
    for (const done of [...(this.waiters.get(id) ?? [])]) done(handedOver);
  }

  private async pass(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.claimAndDispatch();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.logger.error({ msg: 'outbox pass failed', error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.running = false;
    }
  }

  private async claimAndDispatch(): Promise<void> {
    const now = Date.now();
    const candidates = await this.store.claimable(now, CLAIM_BATCH);
    const m = this.config.messaging;
    for (const c of candidates) {
      const token = newId(now);
      const entry = await this.store.claim(c.id, token, now, now + m.claimTtlMs);
      if (entry) this.start(entry, token);
    }
    // More heads wait than one batch holds: go on at once rather than at the next tick.
    if (candidates.length === CLAIM_BATCH) this.again = true;
  }

  private async drainChats(): Promise<void> {
    try {
      while (this.dueChats.size && !this.stopped) {
        const batch = [...this.dueChats.values()].slice(0, CHAT_CLAIMS_IN_PARALLEL);
        for (const c of batch) this.dueChats.delete(chatKey(c.sessionId, c.chat));
        const claiming = Promise.all(batch.map((c) => this.claimChat(c.sessionId, c.chat)));
        // All asked for: on PostgreSQL they go as one statement now, not after the turn.
        this.store.flushClaims();
        await claiming;
      }
    } catch (err) {
      this.logger.error({ msg: 'outbox chat claim failed', error: err instanceof Error ? err.message : String(err) });
      // The timed pass finds whatever this missed.
      this.dueChats.clear();
    } finally {
      this.draining = false;
    }
  }

  /** Whether it found an entry and started its hand-over. */
  private async claimChat(sessionId: string, chat: string): Promise<boolean> {
    if (this.busyChats.has(chatKey(sessionId, chat))) return false;
    const now = Date.now();
    const token = newId(now);
    const entry = await this.store.claimChatHead(sessionId, chat, token, now, now + this.config.messaging.claimTtlMs);
    if (entry) this.start(entry, token);
    return entry !== undefined;
  }

  /** Hands a claimed entry over; when it no longer waits, the next entry of its chat may go. */
  private start(entry: OutboxRow, token: string): void {
    const key = chatKey(entry.sessionId, entry.chat);
    this.inFlight++;
    this.claimed.set(entry.id, token);
    this.busyChats.add(key);
    void this.dispatch(entry, token).then(
      (outcome) => this.ended(entry, key, outcome),
      () => this.ended(entry, key, false),
    );
  }

  private ended(entry: OutboxRow, key: string, outcome: boolean | HandedOver): void {
    this.inFlight--;
    this.claimed.delete(entry.id);
    this.busyChats.delete(key);
    const kicked = this.kickedWhileBusy.delete(key);
    const handedOver = typeof outcome === 'object' ? outcome : undefined;
    this.notify(entry.id, handedOver?.row);
    // The chat's next entry, claimed with the end of this one: it goes at once.
    if (handedOver?.next) this.start(handedOver.next.entry, handedOver.next.token);
    // An end that looked for the next entry and found none leaves the chat idle, unless an entry
    // was accepted while it ran (its statement may have been sent before that entry's commit, and
    // the entry's own kick found the chat busy). Otherwise the chat is looked at again: a claim per
    // hand-over less on PostgreSQL. An entry another gateway accepted while the end's statement ran
    // (its claim found this one's held) is found by the timed pass (OUTBOX_POLL_INTERVAL_MS).
    else if (outcome !== false && (kicked || !handedOver?.lookedForNext)) this.kickChat(entry.sessionId, entry.chat);
  }

  private wakeAtLeastBy(at: number): void {
    if (at >= this.wakeAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = Infinity;
      this.kick();
    }, Math.max(0, at - Date.now()));
    this.wakeTimer.unref();
  }

  /**
   * Whether the entry no longer waits (handed over or failed for good); handed over, the entry as
   * the hand-over left it, and the chat's next entry if its end claimed it.
   */
  private async dispatch(entry: OutboxRow, token: string): Promise<boolean | HandedOver> {
    const m = this.config.messaging;
    const payload: ExecutePayload = {
      orgId: entry.orgId,
      sessionId: entry.sessionId,
      outboxId: entry.id,
      waMessageId: entry.waMessageId,
      action: JSON.parse(entry.action) as OutboxAction,
      attempt: entry.attempts,
      // Paced by the session's runner, not here: every gateway's hand-overs meet there.
      pacing: { minIntervalMs: m.minIntervalMs, jitterMs: m.jitterMs, maxWaitMs: Math.floor(m.syncTimeoutMs / 2) },
      // Only a sync request answers with `sent`; an async entry learns it from the status event.
      awaitAck: entry.mode === 'sync',
    };
    try {
      const result = await this.runner.call<ExecuteResult, ExecutePayload>(RPC_MESSAGING.execute, payload, this.config.messaging.syncTimeoutMs);
      const now = Date.now();
      const status = result.status === 'sent' ? 'sent' : 'sending';
      // Where the end can claim the chat's next entry in its own statement (PostgreSQL): that claim's token.
      const claimNext = this.stopped || this.store.writesInOrder ? undefined : { token: newId(now), expiresAt: now + m.claimTtlMs };
      const next = await this.store.finishHandedOver(entry.id, token, status, now, claimNext);
      this.metrics.handedOver(entry.createdAt, now);
      return {
        row: { ...entry, status, error: null, nextAttemptAt: null, claimToken: null, updatedAt: now },
        lookedForNext: claimNext !== undefined,
        ...(next && claimNext ? { next: { entry: next, token: claimNext.token } } : {}),
      };
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('internal_error', err instanceof Error ? err.message : String(err));
      // A refusal that names its reason (`contact_blocked`) is filed under it: more telling than `forbidden`.
      const code = typeof e.details?.reason === 'string' ? e.details.reason : e.code;
      const reason = `${code}: ${e.message}`;
      const transient = TRANSIENT.has(e.code) || (e.code === 'internal_error' && entry.attempts < INTERNAL_ERROR_ATTEMPTS);
      if (transient) {
        const backoff = Math.min(m.retryMaxMs, m.retryBaseMs * 2 ** Math.min(entry.attempts - 1, 20));
        // The runner's pacing names the session's next turn: no backoff beyond it.
        const turn = e.code === 'rate_limited' ? Number((e.details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs) : NaN;
        const delay = Number.isFinite(turn) && turn >= 0 ? Math.ceil(turn) : Math.round(backoff / 2 + (Math.random() * backoff) / 2);
        await this.store.finishRetry(entry.id, token, reason, Date.now() + delay, Date.now());
        this.wakeAtLeastBy(Date.now() + delay);
        return false;
      }
      this.logger.warn({ msg: 'outbox entry failed', outboxId: entry.id, sessionId: entry.sessionId, reason });
      await this.store.finishFailed(entry.id, token, reason, Date.now());
      await this.announceFailure(entry, code);
      return true;
    }
  }

  /**
   * A refused entry never reached WhatsApp, so no receipt or error ack will tell of it: its
   * `message.status` `failed` comes from here (once per entry, whichever replica failed it).
   */
  private async announceFailure(entry: OutboxRow, code: string): Promise<void> {
    await this.events
      .publish({
        orgId: entry.orgId,
        sessionId: entry.sessionId,
        type: 'message.status',
        data: { messageId: entry.waMessageId, chat: jidPair(entry.chat), outboxId: entry.id, status: 'failed', error: code },
        occurredAt: Date.now(),
        sourceId: `outbox-failed:${entry.id}`,
      })
      .catch((err: unknown) => this.logger.warn({ msg: 'could not record the failure event of an outbox entry', outboxId: entry.id, error: err instanceof Error ? err.message : String(err) }));
  }

  private async renewClaims(): Promise<void> {
    const expiresAt = Date.now() + this.config.messaging.claimTtlMs;
    const claims = [...this.claimed].map(([id, token]) => ({ id, token }));
    try {
      const held = await this.store.extendClaims(claims, expiresAt);
      for (const { id, token } of claims) {
        // Not renewed while this dispatch still holds it: another replica took it over.
        if (!held.has(id) && this.claimed.get(id) === token) this.logger.warn({ msg: 'an outbox claim was lost while its dispatch was in progress', outboxId: id });
      }
    } catch (err) {
      this.logger.warn({ msg: 'could not renew the outbox claims', claims: claims.length, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async housekeeping(): Promise<void> {
    const now = Date.now();
    try {
      await this.store.expire(now - this.config.messaging.maxAgeMs, now);
      await this.store.purgeKeys(now);
      // Finished entries past their retention, a batch at a time so that no statement runs long.
      const before = idFloor(now - this.config.messaging.retentionMs);
      for (let i = 0; i < PURGE_BATCHES_PER_RUN && !this.stopped; i++) {
        if ((await this.store.purgeFinished(before, PURGE_BATCH)) < PURGE_BATCH) break;
        await new Promise((r) => setImmediate(r));
      }
    } catch (err) {
      this.logger.warn({ msg: 'outbox housekeeping failed', error: err instanceof Error ? err.message : String(err) });
    }
  }
}

function chatKey(sessionId: string, chat: string): string {
  return `${sessionId}\n${chat}`;
}

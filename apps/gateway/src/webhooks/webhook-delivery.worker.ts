import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AddressPolicy, newId } from '@wa/domain';
import { GatewayConfig } from '../config/gateway.config';
import { EventsService } from '../events/events.service';
import { GatewayMetrics, type WebhookDeliveryOutcome } from '../metrics/gateway-metrics';
import { WebhookHttpClient, type WebhookResponse } from './webhook-http.client';
import { signWebhook } from './webhook-signature';
import { WebhooksRepository, type DeliveryJob, type DeliveryOffer, type DeliveryOutcome, type DeliveryResult, type FanOutResult } from './webhooks.repository';

const RECORD_ATTEMPTS = 4;
const RECORD_RETRY_DELAY_MS = 100;
const CLAIM_BATCH = 200;
/** Deliveries of one (endpoint, session) queue a worker holds at most: claimed ahead, sent back to back. */
export const RUN_LENGTH = 32;
const LEASE_MARGIN_MS = 30_000;
/** A queue sends its next delivery only if that one can time out this long before its lease ends, leaving time to write the result. */
const RESULT_MARGIN_MS = 10_000;
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
const EXCERPT_CHARS = 1024;
const METRIC_OUTCOME: Record<Exclude<DeliveryResult, 'delivered'>, WebhookDeliveryOutcome> = { retry: 'retried', gone: 'failed', exhausted: 'failed' };

/** A claimed delivery and when its lease ends. */
interface Claimed {
  job: DeliveryJob;
  leaseEnds: number;
}

/** One (endpoint, session) queue whose deliveries this worker holds. */
interface HeldQueue {
  /** Claimed and not sent yet, in sequence order. */
  waiting: Claimed[];
  sending: boolean;
  /** Claimed deliveries whose result (or release) is not written yet. */
  unwritten: number;
  /**
   * Stopped at a failure (or on shutdown, for want of lease, or when results could not be
   * written): what it still holds, and whatever a claim brings it later, is handed back unsent,
   * so nothing goes out ahead of a delivery that is to be tried again.
   */
  halted: boolean;
  /** Claims started when it last had nothing left in flight: it is forgotten only after a later claim. */
  idleAfterClaim: number;
  /** After results were lost: kept (halted) until their claims have run out. */
  holdUntil: number;
  /**
   * Whether deliveries may be pending behind what it holds: its last claim filled its run, or a
   * publish left new deliveries unclaimed. Only such queues are topped up by claims; the others
   * get their new deliveries from the publisher (see `offer`), so results being written do not
   * set off a claim each time.
   */
  more?: boolean;
  /** Given deliveries by the claim being taken in. */
  tookLast?: boolean;
}

/** Queues offered to a publishing transaction, to claim their new deliveries for this worker. */
interface Offer extends DeliveryOffer {
  /** Counted with the claims: queues idle since before it are kept until it has come back. */
  claimNo: number;
}

/** A result (or deliveries handed back unsent) waiting to be written. */
interface PendingResult {
  queue: HeldQueue;
  outcome?: DeliveryOutcome;
  released?: DeliveryJob[];
}

/**
 * Sends due deliveries. Claims run ahead of sending: each claim takes, for every queue
 * ((endpoint, session)) it picks, the due deliveries in sequence order, up to RUN_LENGTH, leased
 * together; the queue's deliveries are posted one after another over a keep-alive connection,
 * with no database round trip between them, and the next claims top up the queues still being
 * sent (a claim passes over this worker's own claimed deliveries and takes those behind them),
 * so a receiver does not wait for results to be written before it gets the next delivery.
 * Results are written in batches while claims and posts go on. A failed delivery halts its
 * queue: the deliveries held behind it are handed back unsent, in place, with no attempt counted,
 * and wait for its retry. Concurrency is bounded across queues (one in flight per queue). Woken
 * at once by publishes on this replica, and by polling for work recorded by other replicas or
 * coming due after a backoff. A slow endpoint only holds its own in-flight slots.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly token = `w-${newId()}`;
  private readonly client: WebhookHttpClient;
  /** Queues held, by `webhookId NUL sessionKey`. */
  private readonly queues = new Map<string, HeldQueue>();
  private claimsStarted = 0;
  /** The claim whose deliveries are being taken in, if any. */
  private claiming: number | undefined;
  /** Offers whose publishing transaction has not ended, or whose deliveries wait for a claim to be taken in first. */
  private readonly offers = new Map<number, Offer>();
  /** Deliveries handed over by publishers while a claim was out: taken in after it, so a queue gets its deliveries in order. */
  private handedOver: Array<{ offer: Offer; jobs: DeliveryJob[] }> = [];
  private started = false;
  /**
   * Whether a claim may find queues this worker does not hold yet: set by publishes, by the poll
   * (other replicas' work, retries coming due) and when a held queue is let go. Without it a
   * claim only tops up held queues running low, so writing results does not set off a claim
   * each time.
   */
  private freshWanted = true;
  private pumping = false;
  private pumpAgain = false;
  private pending: PendingResult[] = [];
  private flushing: Promise<void> | undefined;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly events: EventsService,
    private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {
    const policy = new AddressPolicy(config.webhooks.allowPrivateNetworks, config.webhooks.allowedCidrs);
    this.client = new WebhookHttpClient(policy, config.webhooks.concurrency);
  }

  onApplicationBootstrap(): void {
    if (!this.config.webhooks.workerEnabled) return;
    this.started = true;
    this.timer = setInterval(() => this.wake(true), this.config.webhooks.pollIntervalMs);
    this.wake(true);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    // Let in-flight requests finish and their results land (held deliveries not sent yet are
    // handed back), within the delivery timeout.
    const deadline = Date.now() + this.config.webhooks.timeoutMs + 1000;
    while ((this.inFlight() > 0 || this.flushing || this.pumping || this.offers.size > 0) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.idle.add(resolve);
        setTimeout(resolve, 50);
      });
    }
    this.client.close();
  }

  /**
   * Called by the fan-out as a publish starts writing deliveries: what the publishing transaction
   * may claim for this worker of the new deliveries (see `WebhooksRepository.createDeliveries`),
   * so that they go out right after the commit, without a claim: those of the queues it holds
   * (not halted), and of as many other queues as it has room for, never of a halted one.
   */
  offer(): Offer | undefined {
    if (!this.started || this.stopped) return undefined;
    const held = new Set<string>();
    const halted = new Set<string>();
    let inFlight = 0;
    for (const [key, q] of this.queues) {
      if (busy(q)) inFlight++;
      if (q.halted) halted.add(key);
      else held.add(key);
    }
    const claimNo = ++this.claimsStarted;
    const offer: Offer = {
      token: this.token,
      leaseEnds: Date.now() + this.config.webhooks.timeoutMs + LEASE_MARGIN_MS,
      held,
      halted,
      newQueues: Math.max(0, this.config.webhooks.concurrency - inFlight),
      claimNo,
    };
    this.offers.set(claimNo, offer);
    return offer;
  }

  /**
   * Called once the publishing transaction has ended (`result` when it committed): takes the
   * deliveries claimed for it in, and claims the rest (other queues, other endpoints) at once.
   */
  published(offer: Offer | undefined, result: FanOutResult | undefined): void {
    if (offer) {
      if (result && result.claimed.length > 0) {
        this.handedOver.push({ offer, jobs: result.claimed });
        if (this.claiming === undefined) this.takeHandedOver();
      } else {
        this.offers.delete(offer.claimNo);
        this.notifyIdle();
      }
    }
    if (this.started && result && result.created > result.claimed.length) {
      // Some were left unclaimed (behind deliveries nobody or somebody else holds, or beyond room): claim them.
      for (const q of this.queues.values()) if (!q.halted) q.more = true;
      this.wake(true);
    }
  }

  wake(fresh = false): void {
    if (this.stopped) return;
    if (fresh) this.freshWanted = true;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  /** Queues with deliveries being sent, waiting to be sent, or whose results are not written yet. */
  private inFlight(): number {
    let n = 0;
    for (const q of this.queues.values()) if (busy(q)) n++;
    return n;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        if (this.stopped) break;
        let inFlight = 0;
        let extendable = 0;
        const low: Array<[HeldQueue, number]> = [];
        for (const q of this.queues.values()) {
          if (!busy(q)) continue;
          inFlight++;
          if (q.halted) continue;
          extendable++;
          if (q.more && q.waiting.length < RUN_LENGTH / 2) low.push([q, q.unwritten]);
        }
        const runningLow = low.length > 0;
        const room = this.freshWanted ? Math.max(0, Math.min(CLAIM_BATCH, this.config.webhooks.concurrency - inFlight)) : 0;
        const own = runningLow ? extendable : 0;
        if (room === 0 && own === 0) break;
        this.freshWanted = false;
        const claim = ++this.claimsStarted;
        const now = Date.now();
        const leaseEnds = now + this.config.webhooks.timeoutMs + LEASE_MARGIN_MS;
        this.claiming = claim;
        // What each queue held when the claim started: the claim's run counts it (results written meanwhile do not shrink it).
        const heldBefore = new Map<HeldQueue, number>();
        for (const q of this.queues.values()) heldBefore.set(q, q.unwritten);
        const jobs = await this.repo.claim(this.token, now, leaseEnds - now, room, RUN_LENGTH, own);
        // What was idle before this claim started is settled in its snapshot: forget it.
        this.forgetIdle();
        const fresh = this.take(jobs, leaseEnds, heldBefore);
        // Topped up with nothing though its run had room: nothing more due behind it for now.
        for (const [q, held] of low) if (!q.tookLast && held < RUN_LENGTH) q.more = false;
        for (const q of this.queues.values()) q.tookLast = false;
        this.claiming = undefined;
        this.takeHandedOver();
        if (room > 0 && fresh >= room) {
          this.freshWanted = true;
          this.pumpAgain = true;
        }
      } while (this.pumpAgain && !this.stopped);
    } catch (err) {
      this.freshWanted = true;
      this.logger.warn({ msg: 'claiming deliveries failed', error: (err as Error).message });
    } finally {
      this.claiming = undefined;
      this.takeHandedOver();
      this.pumping = false;
      this.notifyIdle();
    }
  }

  /** Takes claimed deliveries in, queue by queue, behind what each queue holds; returns how many queues are new. */
  private take(jobs: DeliveryJob[], leaseEnds: number, heldBefore?: Map<HeldQueue, number>): number {
    let fresh = 0;
    for (const [key, list] of groupByQueue(jobs)) {
      let q = this.queues.get(key);
      if (!q) {
        q = { waiting: [], sending: false, unwritten: 0, halted: false, idleAfterClaim: 0, holdUntil: 0 };
        this.queues.set(key, q);
        fresh++;
      }
      q.unwritten += list.length;
      if (heldBefore) {
        // A claim takes at most a run of a queue, counting what it holds: a full run may have more behind it.
        q.more = (heldBefore.get(q) ?? 0) + list.length >= RUN_LENGTH;
        q.tookLast = true;
      }
      if (q.halted || this.stopped) {
        this.pending.push({ queue: q, released: list });
        this.scheduleFlush();
        continue;
      }
      for (const job of list) q.waiting.push({ job, leaseEnds });
      if (!q.sending) void this.send(q);
    }
    return fresh;
  }

  /** Deliveries publishers claimed for this worker, taken in once no claim is being taken in. */
  private takeHandedOver(): void {
    if (this.handedOver.length === 0) return;
    for (const { offer, jobs } of this.handedOver.splice(0)) {
      this.offers.delete(offer.claimNo);
      this.take(jobs, offer.leaseEnds);
    }
    this.notifyIdle();
  }

  /**
   * Sends a queue's held deliveries in order, each once the one before it has been answered,
   * with no database round trip in between; deliveries a later claim adds are sent after them.
   * Halts at the first failure (or on shutdown, or when a lease would not cover another attempt).
   */
  private async send(q: HeldQueue): Promise<void> {
    q.sending = true;
    try {
      while (q.waiting.length > 0) {
        const next = q.waiting[0];
        if (q.halted || this.stopped || Date.now() + this.config.webhooks.timeoutMs + RESULT_MARGIN_MS > next.leaseEnds) {
          this.halt(q);
          break;
        }
        q.waiting.shift();
        const outcome = await this.deliver(next.job);
        this.pending.push({ queue: q, outcome });
        this.scheduleFlush();
        if (outcome.result !== 'delivered') this.halt(q);
      }
    } finally {
      q.sending = false;
    }
  }

  /** Stops a queue: what it holds unsent is handed back in the next batch of results. */
  private halt(q: HeldQueue): void {
    q.halted = true;
    if (q.waiting.length === 0) return;
    this.pending.push({ queue: q, released: q.waiting.splice(0).map((c) => c.job) });
    this.scheduleFlush();
  }

  /**
   * Forgets queues that have nothing in flight, once every claim (or offer to a publisher) that
   * started before they went idle has come back (an earlier one may still bring deliveries of a
   * halted queue, read before its results were written, and those must be handed back, not sent).
   */
  private forgetIdle(): void {
    const now = Date.now();
    let oldest = this.claiming ?? Number.POSITIVE_INFINITY;
    for (const claimNo of this.offers.keys()) oldest = Math.min(oldest, claimNo);
    for (const [key, q] of this.queues) {
      if (!busy(q) && oldest > q.idleAfterClaim && q.holdUntil <= now) this.queues.delete(key);
    }
  }

  private async deliver(job: DeliveryJob): Promise<DeliveryOutcome> {
    // Encoded to UTF-8 once, for the signatures, the length and the socket alike.
    const body = Buffer.from(this.events.envelopeJson(job.event));
    const timestamp = Math.floor(Date.now() / 1000);
    const signatures = job.secrets.map((secret) => signWebhook(secret, job.event.id, timestamp, body)).join(' ');
    const attemptedAt = Date.now();
    let response: WebhookResponse;
    try {
      response = await this.client.post(
        job.url,
        {
          'content-type': 'application/json',
          'user-agent': 'wa-gateway-webhooks/1',
          'webhook-id': job.event.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatures,
        },
        body,
        this.config.webhooks.timeoutMs,
      );
    } catch (err) {
      response = { statusCode: null, latencyMs: Date.now() - attemptedAt, error: (err as Error).message, body: null, retryAfterSec: null };
    }
    return this.outcome(job, attemptedAt, response);
  }

  private outcome(job: DeliveryJob, attemptedAt: number, r: WebhookResponse): DeliveryOutcome {
    const status = r.statusCode;
    let error = r.error;
    if (status !== null && (status < 200 || status >= 300)) {
      error = status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
    }
    const attempt = {
      id: newId(),
      attemptedAt,
      statusCode: status,
      latencyMs: r.latencyMs,
      error: error === null ? null : error.slice(0, 500),
      responseBody: r.body === null ? null : r.body.slice(0, EXCERPT_CHARS),
    };
    const schedule = this.config.webhooks.retryScheduleMs;
    const attemptsMade = job.attemptCount + 1;
    let result: DeliveryResult;
    let nextAttemptAt = 0;
    if (status !== null && status >= 200 && status < 300) result = 'delivered';
    else if (status === 410) result = 'gone';
    else if (attemptsMade >= schedule.length) result = 'exhausted';
    else {
      result = 'retry';
      const base = schedule[attemptsMade];
      // ±20% so that endpoints that failed together do not retry together.
      let delay = Math.round(base * (0.8 + Math.random() * 0.4));
      if ((status === 429 || status === 503) && r.retryAfterSec !== null) delay = Math.min(r.retryAfterSec * 1000, MAX_RETRY_AFTER_MS);
      nextAttemptAt = Date.now() + delay;
    }
    return { job, attempt, result, nextAttemptAt };
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0);
        const outcomes: DeliveryOutcome[] = [];
        const released: DeliveryJob[] = [];
        for (const p of batch) {
          if (p.outcome) outcomes.push(p.outcome);
          if (p.released) released.push(...p.released);
        }
        let disabled: Awaited<ReturnType<WebhooksRepository['record']>> = [];
        let written = true;
        try {
          disabled = await this.recordWithRetry(outcomes, released);
          this.countRecorded(outcomes, disabled.length);
        } catch (err) {
          // The claims expire and the deliveries are tried again: at least once, never lost.
          written = false;
          this.logger.warn({ msg: 'recording delivery results failed', error: (err as Error).message, count: outcomes.length + released.length });
        }
        const holdUntil = Date.now() + this.config.webhooks.timeoutMs + LEASE_MARGIN_MS;
        for (const p of batch) {
          const q = p.queue;
          q.unwritten -= p.outcome ? 1 : (p.released?.length ?? 0);
          if (!written) {
            // Its deliveries stay claimed by this worker until the leases run out: send nothing behind them meanwhile.
            q.holdUntil = holdUntil;
            this.halt(q);
          }
          if (!busy(q)) {
            q.idleAfterClaim = this.claimsStarted;
            // Let go: what is behind it (beyond a run, or handed back) is claimed afresh.
            if (q.more || q.halted) this.freshWanted = true;
          }
        }
        if (!this.pumping) this.forgetIdle();
        for (const off of disabled) {
          this.logger.warn({ msg: 'webhook disabled', webhookId: off.id, reason: off.reason });
          await this.events
            .publish({ orgId: off.orgId, sessionId: null, type: 'webhook.disabled', data: { webhookId: off.id, reason: off.reason }, occurredAt: Date.now() })
            .catch((err: Error) => this.logger.warn({ msg: 'publishing webhook.disabled failed', error: err.message }));
        }
      }
    } finally {
      this.flushing = undefined;
      this.notifyIdle();
    }
    this.wake();
  }

  /**
   * Results are written in one transaction, so a failed write (a PostgreSQL deadlock with a
   * concurrent publish, a dropped connection) can simply be written again. Leaving it to claim
   * expiry instead would hold the queue for the whole delivery timeout and then send deliveries
   * the receivers already got a second time.
   */
  private async recordWithRetry(outcomes: DeliveryOutcome[], released: DeliveryJob[]): ReturnType<WebhooksRepository['record']> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.repo.record(outcomes, Date.now(), released);
      } catch (err) {
        if (attempt >= RECORD_ATTEMPTS || this.stopped) throw err;
        this.logger.warn({ msg: 'recording delivery results failed; writing them again', attempt, error: (err as Error).message });
        await new Promise((resolve) => setTimeout(resolve, RECORD_RETRY_DELAY_MS * attempt));
      }
    }
  }

  /** Counted once written: a batch whose write failed is delivered again and counted then. */
  private countRecorded(batch: DeliveryOutcome[], disabled: number): void {
    for (const { job, attempt, result } of batch) {
      if (result === 'delivered') this.metrics.webhookDelivered(job.event.recordedAt, attempt.attemptedAt + attempt.latencyMs);
      else this.metrics.webhookDelivery(METRIC_OUTCOME[result]);
    }
    for (let i = 0; i < disabled; i++) this.metrics.webhookDelivery('disabled');
  }

  private notifyIdle(): void {
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }
}

function busy(q: HeldQueue): boolean {
  return q.sending || q.waiting.length > 0 || q.unwritten > 0;
}

/** Claimed deliveries by queue, each queue's in the order given (sequence order). */
function groupByQueue(jobs: DeliveryJob[]): Map<string, DeliveryJob[]> {
  const queues = new Map<string, DeliveryJob[]>();
  for (const job of jobs) {
    const key = `${job.webhookId}\u0000${job.sessionKey}`;
    const list = queues.get(key);
    if (list) list.push(job);
    else queues.set(key, [job]);
  }
  return queues;
}

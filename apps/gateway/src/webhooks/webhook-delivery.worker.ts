import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AddressPolicy, newId } from '@wa/domain';
import { GatewayConfig } from '../config/gateway.config';
import { EventsService } from '../events/events.service';
import { GatewayMetrics, type WebhookDeliveryOutcome } from '../metrics/gateway-metrics';
import { WebhookHttpClient, type WebhookResponse } from './webhook-http.client';
import { signWebhook } from './webhook-signature';
import { WebhooksRepository, type DeliveryJob, type DeliveryOutcome, type DeliveryResult } from './webhooks.repository';

const RECORD_ATTEMPTS = 4;
const RECORD_RETRY_DELAY_MS = 100;
const CLAIM_BATCH = 200;
const LEASE_MARGIN_MS = 30_000;
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
const EXCERPT_CHARS = 1024;
const METRIC_OUTCOME: Record<Exclude<DeliveryResult, 'delivered'>, WebhookDeliveryOutcome> = { retry: 'retried', gone: 'failed', exhausted: 'failed' };

/**
 * Sends due deliveries: claims heads of (endpoint, session) queues in batches, posts them with
 * bounded concurrency over keep-alive connections, and writes results back in batches. Woken at
 * once by publishes on this replica, and by polling for work recorded by other replicas or
 * coming due after a backoff. A slow endpoint only holds its own in-flight slots.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDeliveryWorker.name);
  private readonly token = `w-${newId()}`;
  private readonly client: WebhookHttpClient;
  private inFlight = 0;
  private pumping = false;
  private pumpAgain = false;
  private pending: DeliveryOutcome[] = [];
  private flushing: Promise<void> | undefined;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private unsubscribe?: () => void;
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
    this.unsubscribe = this.events.onPublished(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.config.webhooks.pollIntervalMs);
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    // Let in-flight requests finish and their results land, within the delivery timeout.
    const deadline = Date.now() + this.config.webhooks.timeoutMs + 1000;
    while ((this.inFlight > 0 || this.flushing || this.pumping) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.idle.add(resolve);
        setTimeout(resolve, 50);
      });
    }
    this.client.close();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const room = Math.min(CLAIM_BATCH, this.config.webhooks.concurrency - this.inFlight);
        if (room <= 0 || this.stopped) break;
        const jobs = await this.repo.claim(this.token, Date.now(), this.config.webhooks.timeoutMs + LEASE_MARGIN_MS, room);
        for (const job of jobs) {
          this.inFlight++;
          void this.deliver(job);
        }
        if (jobs.length === room) this.pumpAgain = true;
      } while (this.pumpAgain && !this.stopped);
    } catch (err) {
      this.logger.warn({ msg: 'claiming deliveries failed', error: (err as Error).message });
    } finally {
      this.pumping = false;
      this.notifyIdle();
    }
  }

  private async deliver(job: DeliveryJob): Promise<void> {
    const body = this.events.envelopeJson(job.event);
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
    this.pending.push(this.outcome(job, attemptedAt, response));
    this.scheduleFlush();
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
        let disabled: Awaited<ReturnType<WebhooksRepository['record']>> = [];
        try {
          disabled = await this.recordWithRetry(batch);
          this.countRecorded(batch, disabled.length);
        } catch (err) {
          // The claims expire and the deliveries are tried again: at least once, never lost.
          this.logger.warn({ msg: 'recording delivery results failed', error: (err as Error).message, count: batch.length });
        }
        this.inFlight -= batch.length;
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
  private async recordWithRetry(batch: Parameters<WebhooksRepository['record']>[0]): ReturnType<WebhooksRepository['record']> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.repo.record(batch, Date.now());
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

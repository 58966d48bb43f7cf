import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type WebhookDeliveryOutcome = 'delivered' | 'failed' | 'retried' | 'disabled';

/** Seconds from fast local answers to a sync send that waits for WhatsApp. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Hand-overs are paced per session (SEND_MIN_INTERVAL_MS) and retried with backoff, so the tail is long. */
const HANDOVER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
/** Deliveries are retried for hours (WEBHOOK_RETRY_SCHEDULE_MS). */
const DELIVERY_LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000];

/**
 * The gateway's Prometheus metrics, in a registry of its own (not prom-client's global one), so
 * that two gateways in one process (tests) count apart. The recording methods are synchronous
 * increments: they sit on request, send and delivery paths.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'wa_gateway_http_request_duration_seconds',
    help: 'HTTP requests answered, by method, route pattern and status code, with how long they took.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });

  private readonly handover = new Histogram({
    name: 'wa_gateway_send_handover_seconds',
    help: 'Time from accepting a send into the outbox to handing it to the session runner.',
    buckets: HANDOVER_BUCKETS,
    registers: [this.registry],
  });

  private readonly deliveries = new Counter({
    name: 'wa_gateway_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered, retried (will be tried again), failed (given up: 410 or retries exhausted); disabled counts endpoints switched off.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly deliveryLag = new Histogram({
    name: 'wa_gateway_webhook_delivery_lag_seconds',
    help: 'Time from recording an event to its successful delivery to a webhook endpoint.',
    buckets: DELIVERY_LAG_BUCKETS,
    registers: [this.registry],
  });

  private readonly eventsRecorded = new Counter({
    name: 'wa_gateway_events_recorded_total',
    help: 'Events recorded (stored for the event feed and webhooks), by event type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every outcome from the first scrape on, so that rate() works before the first failure.
    for (const outcome of ['delivered', 'failed', 'retried', 'disabled'] as const) this.deliveries.inc({ outcome }, 0);
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  handedOver(acceptedAt: number, now: number): void {
    this.handover.observe(Math.max(0, now - acceptedAt) / 1000);
  }

  webhookDelivery(outcome: WebhookDeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }

  webhookDelivered(recordedAt: number, deliveredAt: number): void {
    this.deliveries.inc({ outcome: 'delivered' });
    this.deliveryLag.observe(Math.max(0, deliveredAt - recordedAt) / 1000);
  }

  eventRecorded(type: string): void {
    this.eventsRecorded.inc({ type });
  }
}

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { SESSION_STATUSES } from '@wa/contracts';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { GatewayMetrics } from './gateway-metrics';

/** Scrapes closer together than this share one query (several Prometheus servers, a dashboard refresh). */
const SNAPSHOT_TTL_MS = 2000;
/** The statuses an entry the dispatcher still has to hand over can have. */
const PENDING_OUTBOX_STATUSES = ['queued', 'sending'] as const;

/**
 * Outbox entries still to hand over come from the partial index `ix_outbox_pending`, so the
 * query stays cheap however long the delivered history grows; sessions are one row each.
 */
const SNAPSHOT_SQL =
  "SELECT 'outbox' AS kind, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE next_attempt_at IS NOT NULL GROUP BY status " +
  "UNION ALL SELECT 'sessions' AS kind, status, COUNT(*) AS n, NULL AS oldest FROM sessions GROUP BY status";

interface Snapshot {
  takenAt: number;
  outbox: Map<string, { count: number; oldest: number }>;
  sessions: Map<string, number>;
}

/** Gauges read from the database when Prometheus scrapes, not kept up to date on every write. */
@Injectable()
export class StoreGauges implements OnModuleInit {
  private cached: Promise<Snapshot> | undefined;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly ds: DataSource,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const snapshot = (): Promise<Snapshot> => this.snapshot();
    new Gauge({
      name: 'wa_gateway_outbox_entries',
      help: 'Outbox entries not yet handed to a session runner, by status.',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const s = await snapshot();
        for (const status of PENDING_OUTBOX_STATUSES) this.set({ status }, s.outbox.get(status)?.count ?? 0);
      },
    });
    new Gauge({
      name: 'wa_gateway_outbox_oldest_age_seconds',
      help: 'Age of the oldest outbox entry not yet handed to a session runner, by status (0 when there is none).',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const s = await snapshot();
        for (const status of PENDING_OUTBOX_STATUSES) {
          const oldest = s.outbox.get(status)?.oldest;
          this.set({ status }, oldest === undefined ? 0 : Math.max(0, s.takenAt - oldest) / 1000);
        }
      },
    });
    new Gauge({
      name: 'wa_gateway_sessions',
      help: 'Sessions of all organizations by the status their runner last reported.',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const s = await snapshot();
        for (const status of SESSION_STATUSES) this.set({ status }, s.sessions.get(status) ?? 0);
      },
    });
  }

  private snapshot(): Promise<Snapshot> {
    if (this.cached) return this.cached;
    const pending = this.query();
    this.cached = pending;
    const forget = (): void => {
      if (this.cached === pending) this.cached = undefined;
    };
    // A failed query is not kept: the next scrape tries again.
    pending.then(() => setTimeout(forget, SNAPSHOT_TTL_MS).unref(), forget);
    return pending;
  }

  private async query(): Promise<Snapshot> {
    const rows = (await this.ds.query(SNAPSHOT_SQL)) as { kind: string; status: string; n: number | string; oldest: number | string | null }[];
    const snapshot: Snapshot = { takenAt: Date.now(), outbox: new Map(), sessions: new Map() };
    for (const r of rows) {
      if (r.kind === 'outbox') snapshot.outbox.set(r.status, { count: Number(r.n), oldest: Number(r.oldest) });
      else snapshot.sessions.set(r.status, Number(r.n));
    }
    return snapshot;
  }
}

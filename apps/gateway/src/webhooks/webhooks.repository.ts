import { Injectable } from '@nestjs/common';
import type { WebhookDeliveryStatus, WebhookStatus } from '@wa/contracts';
import { newId } from '@wa/domain';
import { DataSource, type EntityManager } from 'typeorm';
import { placeholders, SqlDialect, valuesList } from '../database/sql-dialect';
import type { StoredEvent } from '../events/events.repository';

export interface WebhookRecord {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  sessionIds: string[];
  description: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  status: WebhookStatus;
  disabledReason: string | null;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeliveryJob {
  id: string;
  webhookId: string;
  sessionKey: string;
  attemptCount: number;
  claimToken: string;
  event: StoredEvent;
  url: string;
  secrets: string[];
}

export interface AttemptRecord {
  id: string;
  attemptedAt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface DeliveryRecord {
  id: string;
  eventId: string;
  eventType: string;
  sessionId: string | null;
  sequence: number;
  status: WebhookDeliveryStatus;
  nextAttemptAt: number;
  createdAt: number;
  deliveredAt: number | null;
  attempts: AttemptRecord[];
}

export type DeliveryResult = 'delivered' | 'retry' | 'gone' | 'exhausted';

export interface DeliveryOutcome {
  job: DeliveryJob;
  attempt: AttemptRecord;
  result: DeliveryResult;
  /** For `retry`: when to try again. */
  nextAttemptAt: number;
}

/** What the fan-out may claim for a worker of this process (queues as `webhookId NUL sessionKey`). */
export interface DeliveryOffer {
  token: string;
  leaseEnds: number;
  /** Queues the worker holds and is sending. */
  held: ReadonlySet<string>;
  /** Queues the worker stopped at a failure: nothing of theirs. */
  halted: ReadonlySet<string>;
  /** How many queues besides `held` it may take up. */
  newQueues: number;
}

export interface FanOutResult {
  created: number;
  /** The new deliveries claimed for the offer, in the order created (sequence order per queue). */
  claimed: DeliveryJob[];
}

export interface DisabledWebhook {
  id: string;
  orgId: string;
  reason: string;
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const CHUNK = 200;

function toWebhook(r: Row): WebhookRecord {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    url: r.url as string,
    events: JSON.parse(r.events as string) as string[],
    sessionIds: JSON.parse(r.session_ids as string) as string[],
    description: r.description as string,
    secret: r.secret as string,
    previousSecret: (r.previous_secret as string | null) ?? null,
    previousSecretExpiresAt: numOrNull(r.previous_secret_expires_at),
    status: r.status as WebhookStatus,
    disabledReason: (r.disabled_reason as string | null) ?? null,
    disabledAt: numOrNull(r.disabled_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

function toAttempt(r: Row): AttemptRecord {
  return {
    id: r.id as string,
    attemptedAt: num(r.attempted_at),
    statusCode: numOrNull(r.status_code),
    latencyMs: num(r.latency_ms),
    error: (r.error as string | null) ?? null,
    responseBody: (r.response_body as string | null) ?? null,
  };
}

/**
 * The only place that touches the webhooks, webhook_deliveries and webhook_attempts tables.
 * Every method serving an API caller takes the org; the worker's methods work across orgs by
 * nature (a delivery carries its own org).
 */
@Injectable()
export class WebhooksRepository {
  private readonly sql: SqlDialect;

  constructor(private readonly ds: DataSource) {
    this.sql = SqlDialect.of(ds);
  }

  async insert(w: WebhookRecord): Promise<void> {
    await this.sql.query(
      this.ds,
      `INSERT INTO webhooks (id, org_id, url, events, session_ids, description, secret, previous_secret, previous_secret_expires_at,
         status, disabled_reason, disabled_at, created_at, updated_at) VALUES ${valuesList(1, 14)}`,
      [w.id, w.orgId, w.url, JSON.stringify(w.events), JSON.stringify(w.sessionIds), w.description, w.secret, w.previousSecret,
        w.previousSecretExpiresAt, w.status, w.disabledReason, w.disabledAt, w.createdAt, w.updatedAt],
    );
  }

  async listForOrg(orgId: string): Promise<WebhookRecord[]> {
    return (await this.sql.query(this.ds, 'SELECT * FROM webhooks WHERE org_id = $1 ORDER BY id', [orgId])).map(toWebhook);
  }

  async findForOrg(orgId: string, id: string): Promise<WebhookRecord | undefined> {
    const [row] = await this.sql.query(this.ds, 'SELECT * FROM webhooks WHERE org_id = $1 AND id = $2', [orgId, id]);
    return row ? toWebhook(row) : undefined;
  }

  async update(orgId: string, id: string, patch: Pick<WebhookRecord, 'url' | 'events' | 'sessionIds' | 'description' | 'updatedAt'>): Promise<void> {
    await this.sql.query(
      this.ds,
      'UPDATE webhooks SET url = $1, events = $2, session_ids = $3, description = $4, updated_at = $5 WHERE org_id = $6 AND id = $7',
      [patch.url, JSON.stringify(patch.events), JSON.stringify(patch.sessionIds), patch.description, patch.updatedAt, orgId, id],
    );
  }

  async rotateSecret(orgId: string, id: string, secret: string, previous: string, previousExpiresAt: number, now: number): Promise<void> {
    await this.sql.query(
      this.ds,
      'UPDATE webhooks SET secret = $1, previous_secret = $2, previous_secret_expires_at = $3, updated_at = $4 WHERE org_id = $5 AND id = $6',
      [secret, previous, previousExpiresAt, now, orgId, id],
    );
  }

  /**
   * Deliveries and attempts go with it (foreign keys cascade). The cascade locks the endpoint
   * before its deliveries, the delivery worker's result writes the other way round: a deadlock
   * between the two is retried.
   */
  async delete(orgId: string, id: string): Promise<boolean> {
    const rows = await this.sql.retryingConflicts(() => this.sql.query(this.ds, 'DELETE FROM webhooks WHERE org_id = $1 AND id = $2 RETURNING id', [orgId, id]));
    return rows.length > 0;
  }

  /** Enables the endpoint and gives its waiting deliveries a fresh retry schedule, due now (endpoint, then deliveries: see `delete`). */
  async enable(orgId: string, id: string, now: number): Promise<void> {
    await this.sql.retryingConflicts(() => this.enableOnce(orgId, id, now));
  }

  private async enableOnce(orgId: string, id: string, now: number): Promise<void> {
    await this.sql.transaction(this.ds, async (tx) => {
      await this.sql.query(
        tx,
        "UPDATE webhooks SET status = 'enabled', disabled_reason = NULL, disabled_at = NULL, updated_at = $1 WHERE org_id = $2 AND id = $3",
        [now, orgId, id],
      );
      await this.sql.query(
        tx,
        "UPDATE webhook_deliveries SET attempt_count = 0, next_attempt_at = $1 WHERE org_id = $2 AND webhook_id = $3 AND status = 'pending'",
        [now, orgId, id],
      );
    });
  }

  /** Returns whether this call disabled it (false when it already was). */
  async disable(id: string, reason: string, now: number, tx: EntityManager | DataSource = this.ds): Promise<DisabledWebhook | undefined> {
    const [row] = await this.sql.query<{ id: string; org_id: string }>(
      tx,
      "UPDATE webhooks SET status = 'disabled', disabled_reason = $1, disabled_at = $2, updated_at = $2 WHERE id = $3 AND status = 'enabled' RETURNING id, org_id",
      [reason, now, id],
    );
    return row ? { id: row.id, orgId: row.org_id, reason } : undefined;
  }

  /**
   * Fan-out inside the publishing transaction: one pending delivery per matching endpoint.
   *
   * With an `offer` from a worker of this process, the new deliveries of the queues it offers are
   * claimed for it in the same transaction, under its token, when nothing of their queue is
   * pending ahead of them but deliveries that worker holds already (a live claim of the same
   * token): the worker gets them from the publisher when the transaction commits and sends them
   * behind whatever it holds, with no claim of its own. Anything else (another holder ahead, a
   * delivery waiting for its retry, deliveries handed back) stays unclaimed, for the claim to
   * find in order.
   */
  async createDeliveries(tx: EntityManager, events: StoredEvent[], onlyWebhookId: string | undefined, now: number, offer?: DeliveryOffer): Promise<FanOutResult> {
    const orgIds = [...new Set(events.map((e) => e.orgId))];
    const hooks = onlyWebhookId
      ? (await this.sql.query(tx, `SELECT * FROM webhooks WHERE id = $1 AND org_id IN (${placeholders(orgIds.length, 1)})`, [onlyWebhookId, ...orgIds])).map(toWebhook)
      : (await this.sql.query(tx, `SELECT * FROM webhooks WHERE status = 'enabled' AND org_id IN (${placeholders(orgIds.length)})`, orgIds)).map(toWebhook);
    if (hooks.length === 0) return { created: 0, claimed: [] };
    const params: unknown[] = [];
    let rows = 0;
    const flush = async (): Promise<void> => {
      if (rows === 0) return;
      await this.sql.query(
        tx,
        `INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, session_key, sequence, status, attempt_count, next_attempt_at, created_at)
         VALUES ${valuesList(rows, 10)}`,
        params.splice(0),
      );
      rows = 0;
    };
    let created = 0;
    const offered: DeliveryJob[] = [];
    const newKeys = new Set<string>();
    for (const event of events) {
      for (const hook of hooks) {
        if (hook.orgId !== event.orgId) continue;
        if (!onlyWebhookId) {
          if (event.type === 'webhook.ping') continue;
          if (!hook.events.includes('*') && !hook.events.includes(event.type)) continue;
          if (event.sessionId !== null && hook.sessionIds.length > 0 && !hook.sessionIds.includes(event.sessionId)) continue;
        }
        const id = newId();
        const sessionKey = event.sessionId ?? '';
        params.push(id, event.orgId, hook.id, event.id, sessionKey, event.sequence, 'pending', 0, now, now);
        rows++;
        created++;
        const key = `${hook.id}\u0000${sessionKey}`;
        if (offer && !onlyWebhookId && hook.status === 'enabled' && !offer.halted.has(key) && (offer.held.has(key) || newKeys.has(key) || newKeys.size < offer.newQueues)) {
          if (!offer.held.has(key)) newKeys.add(key);
          const secrets = [hook.secret];
          if (hook.previousSecret && (hook.previousSecretExpiresAt ?? 0) > now) secrets.push(hook.previousSecret);
          offered.push({ id, webhookId: hook.id, sessionKey, attemptCount: 0, claimToken: offer.token, url: hook.url, secrets, event });
        }
        if (rows === CHUNK) await flush();
      }
    }
    await flush();
    if (!offer || offered.length === 0) return { created, claimed: [] };
    // Each queue's new deliveries are its tail, in order: judged by the first of them. It is
    // claimed when every pending delivery ahead of it is held by this token; then so is the rest.
    const firsts = new Map<string, DeliveryJob>();
    for (const j of offered) if (!firsts.has(`${j.webhookId}\u0000${j.sessionKey}`)) firsts.set(`${j.webhookId}\u0000${j.sessionKey}`, j);
    const heads = await this.sql.query<{ webhook_id: string; session_key: string }>(
      tx,
      `UPDATE webhook_deliveries SET claimed_by = $1, claim_expires_at = $2
       WHERE ${this.sql.inList('id', 4)} AND status = 'pending' AND claimed_by IS NULL AND next_attempt_at <= $3
       AND NOT EXISTS (
         SELECT 1 FROM webhook_deliveries x ${this.sql.indexedBy('ix_deliveries_pending_queue')}
         WHERE x.status = 'pending' AND x.webhook_id = webhook_deliveries.webhook_id AND x.session_key = webhook_deliveries.session_key
           AND x.sequence <= webhook_deliveries.sequence AND (x.sequence < webhook_deliveries.sequence OR x.id < webhook_deliveries.id)
           AND NOT (x.claimed_by IS NOT NULL AND x.claimed_by = $1 AND x.claim_expires_at >= $3))
       RETURNING webhook_id, session_key`,
      [offer.token, offer.leaseEnds, now, this.sql.list([...firsts.values()].map((j) => j.id))],
    );
    if (heads.length === 0) return { created, claimed: [] };
    const passed = new Set(heads.map((h) => `${h.webhook_id}\u0000${h.session_key}`));
    const claimed = offered.filter((j) => passed.has(`${j.webhookId}\u0000${j.sessionKey}`));
    const rest = claimed.filter((j) => firsts.get(`${j.webhookId}\u0000${j.sessionKey}`) !== j).map((j) => j.id);
    if (rest.length > 0) {
      await this.sql.query(
        tx,
        `UPDATE webhook_deliveries SET claimed_by = $1, claim_expires_at = $2 WHERE ${this.sql.inList('id', 3)}`,
        [offer.token, offer.leaseEnds, this.sql.list(rest)],
      );
    }
    return { created, claimed };
  }

  /**
   * Claims runs of due deliveries for this worker: for up to `queues` (endpoint, session) queues,
   * the head (its first pending delivery by sequence, then id) and the deliveries right behind it,
   * up to `run` in all, leased together under one token. A run is the queue's longest prefix
   * that is due and not held by a live claim, so a queue never has deliveries in flight from two
   * claims and its run goes out in sequence order; the worker sends a run back to back and hands
   * back (releases) whatever it did not send. The candidates are found queue by queue, not row by
   * row: the recursive `heads` hops through ix_deliveries_pending_queue from one queue to the next
   * (a loose index scan), taking each queue's first entry, so finding the queues costs one index
   * probe per queue however long the backlog behind the heads is; each chosen queue then reads at
   * most `run` entries of the same index. A head that is in flight, not due yet or whose endpoint
   * is disabled is dropped, and its queue gives nothing. Exclusive across replicas: on PostgreSQL
   * the chosen heads are locked (`SKIP LOCKED`, so a queue another claim is taking is passed by),
   * and the conditional UPDATE leaves out any row someone else claimed first.
   *
   * Up to `ownQueues` queues whose head this token already holds (a live claim: its run is still
   * going out) are extended too, besides the `queues` fresh ones: the claim passes over the
   * token's own claimed deliveries and takes the due ones behind them, keeping at most `run`
   * claimed per queue. So the worker
   * gets a queue's next deliveries while the last ones are in flight, and need not wait for their
   * results to be written before claiming more; it sends them after the ones it holds.
   * Returned in queue order: each queue's run consecutive, by sequence.
   */
  async claim(token: string, now: number, leaseMs: number, queues: number, run = 1, ownQueues = 0): Promise<DeliveryJob[]> {
    // SQLite has no statistics to tell it that the partial queue index beats the (status, next_attempt_at) one here.
    const q = this.sql.indexedBy('ix_deliveries_pending_queue');
    const claimed = await this.sql.query<{ id: string }>(
      this.ds,
      `WITH RECURSIVE heads(id, webhook_id, session_key) AS (
         SELECT id, webhook_id, session_key FROM (
           SELECT f.id, f.webhook_id, f.session_key FROM webhook_deliveries f ${q} WHERE f.status = 'pending'
           ORDER BY f.webhook_id, f.session_key, f.sequence, f.id LIMIT 1) first_queue
         UNION ALL
         SELECT n.id, n.webhook_id, n.session_key FROM heads h JOIN webhook_deliveries n ON n.id = COALESCE(
           (SELECT x.id FROM webhook_deliveries x ${q} WHERE x.status = 'pending' AND x.webhook_id = h.webhook_id AND x.session_key > h.session_key
            ORDER BY x.session_key, x.sequence, x.id LIMIT 1),
           (SELECT x.id FROM webhook_deliveries x ${q} WHERE x.status = 'pending' AND x.webhook_id > h.webhook_id
            ORDER BY x.webhook_id, x.session_key, x.sequence, x.id LIMIT 1))),
       fresh AS (
         SELECT d.id, d.webhook_id, d.session_key FROM heads h CROSS JOIN webhook_deliveries d CROSS JOIN webhooks w
         WHERE d.id = h.id AND w.id = d.webhook_id AND d.next_attempt_at <= $3 AND (d.claimed_by IS NULL OR d.claim_expires_at < $3) AND w.status = 'enabled'
         ORDER BY d.next_attempt_at, d.id
         LIMIT $4 ${this.sql.skipLocked('d')}),
       mine AS (
         SELECT d.id, d.webhook_id, d.session_key FROM heads h CROSS JOIN webhook_deliveries d CROSS JOIN webhooks w
         WHERE d.id = h.id AND w.id = d.webhook_id AND d.claimed_by = $1 AND d.claim_expires_at >= $3 AND w.status = 'enabled'
         ORDER BY d.id
         LIMIT $7),
       chosen AS (SELECT id, webhook_id, session_key FROM fresh UNION ALL SELECT id, webhook_id, session_key FROM mine),
       bounded AS MATERIALIZED (
         SELECT c.webhook_id, c.session_key, COALESCE((
           SELECT x.sequence FROM webhook_deliveries x ${q} WHERE x.status = 'pending' AND x.webhook_id = c.webhook_id AND x.session_key = c.session_key
           ORDER BY x.sequence, x.id LIMIT 1 OFFSET $5), ${Number.MAX_SAFE_INTEGER}) AS last_sequence
         FROM chosen c),
       ranked AS (
         SELECT x.id,
           ROW_NUMBER() OVER (PARTITION BY x.webhook_id, x.session_key ORDER BY x.sequence, x.id) AS pos,
           SUM(CASE WHEN x.next_attempt_at > $3 OR (x.claimed_by IS NOT NULL AND x.claim_expires_at >= $3 AND x.claimed_by <> $1) THEN 1 ELSE 0 END)
             OVER (PARTITION BY x.webhook_id, x.session_key ORDER BY x.sequence, x.id ROWS UNBOUNDED PRECEDING) AS blocked
         FROM bounded b CROSS JOIN webhook_deliveries x ${q}
         WHERE x.status = 'pending' AND x.webhook_id = b.webhook_id AND x.session_key = b.session_key AND x.sequence <= b.last_sequence)
       UPDATE webhook_deliveries SET claimed_by = $1, claim_expires_at = $2
       WHERE id IN (SELECT r.id FROM ranked r WHERE r.blocked = 0 AND r.pos <= $6)
       AND status = 'pending' AND (claimed_by IS NULL OR claim_expires_at < $3)
       RETURNING id`,
      [token, now + leaseMs, now, queues, Math.max(0, run - 1), run, ownQueues],
    );
    if (claimed.length === 0) return [];
    const rows = await this.sql.query(
      this.ds,
      `SELECT d.id, d.webhook_id, d.session_key, d.sequence AS queue_sequence, d.attempt_count, e.id AS event_id, e.org_id, e.session_id, e.type, e.data,
              e.occurred_at, e.recorded_at, e.sequence, e.position, w.url, w.secret, w.previous_secret, w.previous_secret_expires_at
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
       WHERE ${this.sql.inList('d.id', 1)}`,
      [this.sql.list(claimed.map((r) => r.id))],
    );
    // Queue order: a run's deliveries must reach the worker in the order they are to be sent.
    rows.sort((a, b) => {
      const qa = `${a.webhook_id as string}\u0000${a.session_key as string}`;
      const qb = `${b.webhook_id as string}\u0000${b.session_key as string}`;
      if (qa !== qb) return qa < qb ? -1 : 1;
      const bySeq = num(a.queue_sequence) - num(b.queue_sequence);
      if (bySeq !== 0) return bySeq;
      return (a.id as string) < (b.id as string) ? -1 : 1;
    });
    return rows.map((r) => {
      const secrets = [r.secret as string];
      if (r.previous_secret && num(r.previous_secret_expires_at) > now) secrets.push(r.previous_secret as string);
      return {
        id: r.id as string,
        webhookId: r.webhook_id as string,
        sessionKey: r.session_key as string,
        attemptCount: num(r.attempt_count),
        claimToken: token,
        url: r.url as string,
        secrets,
        event: {
          id: r.event_id as string,
          orgId: r.org_id as string,
          sessionId: (r.session_id as string | null) ?? null,
          type: r.type as StoredEvent['type'],
          data: r.data as string,
          occurredAt: num(r.occurred_at),
          recordedAt: num(r.recorded_at),
          sequence: num(r.sequence),
          position: num(r.position),
        },
      };
    });
  }

  /**
   * Writes a batch of attempt results in one transaction, with the claimed deliveries the worker
   * hands back unsent (`released`: the rest of a run behind a failure, or one it had no time left
   * for): those lose their claim, keep their place and attempt count, and are claimed again in
   * order, after a failed head's retry. Returns the endpoints this disabled.
   */
  async record(outcomes: DeliveryOutcome[], now: number, released: DeliveryJob[] = []): Promise<DisabledWebhook[]> {
    return this.sql.transaction(this.ds, async (tx) => {
      const disabled: DisabledWebhook[] = [];
      // Released first, so that a failed head's retry below pushes its released followers back with it.
      for (let i = 0; i < released.length; i += CHUNK) {
        const chunk = released.slice(i, i + CHUNK);
        for (const token of new Set(chunk.map((j) => j.claimToken))) {
          const ids = chunk.filter((j) => j.claimToken === token).map((j) => j.id);
          await this.sql.query(
            tx,
            // Due no earlier than anything pending ahead of it (a failed head waiting for its retry):
            // the deliveries API shows when it can really go, whichever write handed it back.
            `UPDATE webhook_deliveries SET claimed_by = NULL, claim_expires_at = NULL,
               next_attempt_at = COALESCE((
                 SELECT MAX(x.next_attempt_at) FROM webhook_deliveries x
                 WHERE x.status = 'pending' AND x.webhook_id = webhook_deliveries.webhook_id AND x.session_key = webhook_deliveries.session_key
                   AND x.sequence < webhook_deliveries.sequence AND x.next_attempt_at > webhook_deliveries.next_attempt_at), next_attempt_at)
             WHERE claimed_by = $1 AND status = 'pending' AND id IN (${placeholders(ids.length, 1)})`,
            [token, ...ids],
          );
        }
      }
      for (let i = 0; i < outcomes.length; i += CHUNK) {
        const chunk = outcomes.slice(i, i + CHUNK);
        const params: unknown[] = [];
        for (const o of chunk) {
          const a = o.attempt;
          params.push(a.id, o.job.id, a.attemptedAt, a.statusCode, a.latencyMs, a.error, a.responseBody);
        }
        await this.sql.query(
          tx,
          `INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, latency_ms, error, response_body) VALUES ${valuesList(chunk.length, 7)}`,
          params,
        );
      }
      const delivered = outcomes.filter((o) => o.result === 'delivered');
      for (let i = 0; i < delivered.length; i += CHUNK) {
        const chunk = delivered.slice(i, i + CHUNK);
        // One statement per batch: every row of a worker's batch carries the same claim token.
        await this.sql.query(
          tx,
          `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1, attempt_count = attempt_count + 1, claimed_by = NULL, claim_expires_at = NULL
           WHERE claimed_by = $2 AND id IN (${placeholders(chunk.length, 2)})`,
          [now, chunk[0].job.claimToken, ...chunk.map((o) => o.job.id)],
        );
      }
      for (const o of outcomes) {
        if (o.result === 'delivered') continue;
        const next = o.result === 'retry' ? o.nextAttemptAt : now;
        await this.sql.query(
          tx,
          'UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, next_attempt_at = $1, claimed_by = NULL, claim_expires_at = NULL WHERE id = $2 AND claimed_by = $3',
          [next, o.job.id, o.job.claimToken],
        );
        if (o.result === 'retry') {
          // The rest of the queue waits behind its head, so none of it goes before the head's retry: the
          // deliveries API shows that as their next attempt. (The claim needs no help: it reads heads only.)
          await this.sql.query(
            tx,
            `UPDATE webhook_deliveries SET next_attempt_at = $1
             WHERE webhook_id = $2 AND session_key = $3 AND status = 'pending' AND next_attempt_at < $1 AND claimed_by IS NULL`,
            [next, o.job.webhookId, o.job.sessionKey],
          );
        } else {
          const off = await this.disable(o.job.webhookId, o.result === 'gone' ? 'gone' : 'failing', now, tx);
          if (off) disabled.push(off);
        }
      }
      return disabled;
    });
  }

  async listDeliveries(orgId: string, webhookId: string, limit: number, beforeId?: string): Promise<DeliveryRecord[]> {
    const params: unknown[] = [orgId, webhookId, limit];
    const rows = await this.sql.query(
      this.ds,
      `SELECT d.id, d.event_id, d.sequence, d.status, d.next_attempt_at, d.created_at, d.delivered_at, e.type, e.session_id
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.org_id = $1 AND d.webhook_id = $2 ${beforeId ? 'AND d.id < $4' : ''}
       ORDER BY d.id DESC LIMIT $3`,
      beforeId ? [...params, beforeId] : params,
    );
    return this.withAttempts(rows);
  }

  async findDelivery(orgId: string, webhookId: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const rows = await this.sql.query(
      this.ds,
      `SELECT d.id, d.event_id, d.sequence, d.status, d.next_attempt_at, d.created_at, d.delivered_at, e.type, e.session_id
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
       WHERE d.org_id = $1 AND d.webhook_id = $2 AND d.id = $3`,
      [orgId, webhookId, deliveryId],
    );
    return (await this.withAttempts(rows))[0];
  }

  /** A replay is a new delivery of the same event (same `webhook-id`), queued in its sequence place. */
  async replay(orgId: string, webhookId: string, deliveryId: string, now: number): Promise<string | undefined> {
    const id = newId();
    const rows = await this.sql.query(
      this.ds,
      `INSERT INTO webhook_deliveries (id, org_id, webhook_id, event_id, session_key, sequence, status, attempt_count, next_attempt_at, created_at)
       SELECT $1, org_id, webhook_id, event_id, session_key, sequence, 'pending', 0, $2, $2 FROM webhook_deliveries
       WHERE org_id = $3 AND webhook_id = $4 AND id = $5
       RETURNING id`,
      [id, now, orgId, webhookId, deliveryId],
    );
    return rows.length ? id : undefined;
  }

  private async withAttempts(rows: Row[]): Promise<DeliveryRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id as string);
    const attempts = await this.sql.query(
      this.ds,
      `SELECT * FROM webhook_attempts WHERE delivery_id IN (${placeholders(ids.length)}) ORDER BY id`,
      ids,
    );
    const byDelivery = new Map<string, AttemptRecord[]>();
    for (const a of attempts) {
      const list = byDelivery.get(a.delivery_id as string) ?? [];
      list.push(toAttempt(a));
      byDelivery.set(a.delivery_id as string, list);
    }
    return rows.map((r) => ({
      id: r.id as string,
      eventId: r.event_id as string,
      eventType: r.type as string,
      sessionId: (r.session_id as string | null) ?? null,
      sequence: num(r.sequence),
      status: r.status as WebhookDeliveryStatus,
      nextAttemptAt: num(r.next_attempt_at),
      createdAt: num(r.created_at),
      deliveredAt: numOrNull(r.delivered_at),
      attempts: byDelivery.get(r.id as string) ?? [],
    }));
  }
}

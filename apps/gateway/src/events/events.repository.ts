import { Injectable } from '@nestjs/common';
import type { EventInput, EventType } from '@wa/contracts';
import { newId } from '@wa/domain';
import { DataSource, type EntityManager } from 'typeorm';
import { placeholders, SqlDialect, valuesList } from '../database/sql-dialect';

/** An event as stored; `data` is the JSON text exactly as it is delivered. */
export interface StoredEvent {
  id: string;
  orgId: string;
  sessionId: string | null;
  type: EventType;
  data: string;
  occurredAt: number;
  recordedAt: number;
  sequence: number;
  position: number;
}

interface EventRow {
  id: string;
  org_id: string;
  session_id: string | null;
  type: string;
  data: string;
  occurred_at: number | string;
  recorded_at: number | string;
  sequence: number | string;
  position: number | string;
  source_id?: string | null;
}

const COLUMNS = 'id, org_id, session_id, type, data, occurred_at, recorded_at, sequence, position';
const INSERT_CHUNK = 200;

function toStored(row: EventRow): StoredEvent {
  return {
    id: row.id,
    orgId: row.org_id,
    sessionId: row.session_id,
    type: row.type as EventType,
    data: row.data,
    occurredAt: Number(row.occurred_at),
    recordedAt: Number(row.recorded_at),
    sequence: Number(row.sequence),
    position: Number(row.position),
  };
}

/** The only place that touches the events and event_counters tables. */
@Injectable()
export class EventsRepository {
  readonly sql: SqlDialect;

  constructor(private readonly ds: DataSource) {
    this.sql = SqlDialect.of(ds);
  }

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.sql.transaction(this.ds, work);
  }

  async findBySourceIds(tx: EntityManager, orgId: string, sourceIds: string[]): Promise<Map<string, StoredEvent>> {
    const out = new Map<string, StoredEvent>();
    for (let i = 0; i < sourceIds.length; i += INSERT_CHUNK) {
      const chunk = sourceIds.slice(i, i + INSERT_CHUNK);
      const rows = await this.sql.query<EventRow>(
        tx,
        `SELECT ${COLUMNS}, source_id FROM events WHERE org_id = $1 AND source_id IN (${placeholders(chunk.length, 1)})`,
        [orgId, ...chunk],
      );
      for (const row of rows) out.set(row.source_id as string, toStored(row));
    }
    return out;
  }

  /**
   * Reserves consecutive values of several counters of one org in one statement and returns the
   * first of each, by scope. The upsert takes the rows' locks on PostgreSQL until commit, in the
   * order given (callers pass scopes sorted, so concurrent publishers queue behind each other
   * instead of deadlocking), so values are gap-free and handed out in commit order; SQLite has
   * one writer at a time. One round trip however many sessions a publish touches: a publish
   * that waited for one per session spent most of its time waiting for its turn on a busy event
   * loop, on PostgreSQL.
   */
  async reserveMany(tx: EntityManager, orgId: string, counts: ReadonlyArray<readonly [scope: string, count: number]>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < counts.length; i += INSERT_CHUNK) {
      const chunk = counts.slice(i, i + INSERT_CHUNK);
      const params: unknown[] = [];
      for (const [scope, count] of chunk) params.push(orgId, scope, count);
      const rows = await this.sql.query<{ scope: string; last_value: number | string }>(
        tx,
        `INSERT INTO event_counters (org_id, scope, last_value) VALUES ${valuesList(chunk.length, 3)}
         ON CONFLICT (org_id, scope) DO UPDATE SET last_value = event_counters.last_value + excluded.last_value
         RETURNING scope, last_value`,
        params,
      );
      const wanted = new Map(chunk);
      for (const row of rows) out.set(row.scope, Number(row.last_value) - (wanted.get(row.scope) as number) + 1);
    }
    return out;
  }

  async insert(tx: EntityManager, events: Array<StoredEvent & { sourceId: string | null }>): Promise<void> {
    for (let i = 0; i < events.length; i += INSERT_CHUNK) {
      const chunk = events.slice(i, i + INSERT_CHUNK);
      const params: unknown[] = [];
      for (const e of chunk) params.push(e.id, e.orgId, e.sessionId, e.type, e.data, e.occurredAt, e.recordedAt, e.sequence, e.position, e.sourceId);
      await this.sql.query(tx, `INSERT INTO events (${COLUMNS}, source_id) VALUES ${valuesList(chunk.length, 10)}`, params);
    }
  }

  /**
   * The organization's events after `position`, in position order, optionally only one session's
   * and only some types: filtered here rather than in memory, so a stream that wants one session
   * walks that session's index range (`ix_events_org_session_position`).
   */
  async listAfter(orgId: string, position: number, limit: number, filter: { sessionId?: string; types?: ReadonlySet<string> } = {}): Promise<StoredEvent[]> {
    const params: unknown[] = [orgId, position];
    let where = 'org_id = $1 AND position > $2';
    if (filter.sessionId !== undefined) {
      params.push(filter.sessionId);
      where += ` AND session_id = $${params.length}`;
    }
    if (filter.types && filter.types.size > 0) {
      const types = [...filter.types];
      where += ` AND type IN (${placeholders(types.length, params.length)})`;
      params.push(...types);
    }
    params.push(limit);
    const rows = await this.sql.query<EventRow>(this.ds, `SELECT ${COLUMNS} FROM events WHERE ${where} ORDER BY position LIMIT $${params.length}`, params);
    return rows.map(toStored);
  }

  async positionOf(orgId: string, eventId: string): Promise<number | undefined> {
    const [row] = await this.sql.query<{ position: number | string }>(this.ds, 'SELECT position FROM events WHERE org_id = $1 AND id = $2', [orgId, eventId]);
    return row ? Number(row.position) : undefined;
  }

  /** The last position recorded before `at` (Unix ms); 0 when there is none. */
  async positionBefore(orgId: string, at: number): Promise<number> {
    const [row] = await this.sql.query<{ p: number | string | null }>(
      this.ds,
      'SELECT MAX(position) AS p FROM events WHERE org_id = $1 AND recorded_at < $2',
      [orgId, at],
    );
    return row?.p === null || row?.p === undefined ? 0 : Number(row.p);
  }

  async latestPosition(orgId: string): Promise<number> {
    const [row] = await this.sql.query<{ last_value: number | string }>(
      this.ds,
      "SELECT last_value FROM event_counters WHERE org_id = $1 AND scope = ''",
      [orgId],
    );
    return row ? Number(row.last_value) : 0;
  }

  /**
   * Deletes events recorded before `before` that no enabled endpoint still waits for; their
   * deliveries and attempts go with them (foreign keys cascade). Counters stay, so sequence
   * numbers never restart.
   */
  async prune(before: number, limit: number): Promise<number> {
    const rows = await this.sql.query<{ id: string }>(
      this.ds,
      `DELETE FROM events WHERE id IN (
         SELECT e.id FROM events e WHERE e.recorded_at < $1
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                           WHERE d.event_id = e.id AND d.status = 'pending' AND w.status = 'enabled')
         LIMIT $2)
       RETURNING id`,
      [before, limit],
    );
    return rows.length;
  }

  newEventId(): string {
    return newId();
  }

  static orgInputs(inputs: EventInput[]): Map<string, EventInput[]> {
    const byOrg = new Map<string, EventInput[]>();
    for (const input of inputs) {
      const list = byOrg.get(input.orgId) ?? [];
      list.push(input);
      byOrg.set(input.orgId, list);
    }
    return byOrg;
  }
}

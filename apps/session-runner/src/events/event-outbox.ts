import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { InjectRepository } from '@nestjs/typeorm';
import { HotSql, RPC, runStep, type EventDataByType, type SqlStep, type EventType, type GatewayEventsPayload, type GatewayEventsResult, type RunnerEvent } from '@wa/contracts/runtime';
import { newId } from '@wa/domain';
import { firstValueFrom, timeout } from 'rxjs';
import { Repository, type EntityManager } from 'typeorm';
import { RunnerConfig } from '../config/runner.config';
import { RunnerEventEntity } from './runner-event.entity';

export const GATEWAY_EVENTS_CLIENT = Symbol('GATEWAY_EVENTS_CLIENT');

const BATCH_SIZE = 200;
/** The table and columns an event is inserted into, in the order of `EventOutbox.step`'s parameters. */
export const EVENT_INSERT_INTO = 'runner_events (id, org_id, session_id, type, data, occurred_at)';
const INSERT_EVENT = `INSERT INTO ${EVENT_INSERT_INTO} VALUES ($1, $2, $3, $4, $5, $6)`;
/** The oldest events, read and deleted with prepared statements (a batch per forwarded page). */
const OLDEST_EVENTS = `SELECT id, org_id, session_id, type, data, occurred_at FROM runner_events ORDER BY id ASC LIMIT ${BATCH_SIZE}`;
/** Deletes forwarded ids in groups of this many: a handful of prepared texts rather than one per batch size. */
const DELETE_GROUP = [1, 8, 32, BATCH_SIZE];
const deleteEvents = (n: number) => `DELETE FROM runner_events WHERE id IN (${Array.from({ length: n }, (_v, i) => `$${i + 1}`).join(', ')})`;
const IDLE_POLL_MS = 1_000;
/**
 * After a batch during which events were recorded, the next one goes this much later: soon, not
 * a poll later, and not at the next event's wake-up either, so that a steady flow of events
 * travels in batches (each one an RPC and a gateway transaction), not one or two at a time.
 */
const BUSY_POLL_MS = 50;
const MAX_BACKOFF_MS = 30_000;

/**
 * Events leave the runner only through this table: they are written (with the state change
 * they describe, when there is one) before any attempt to hand them to a gateway, and deleted
 * only once a gateway acknowledged recording them. A gateway that is down delays events; it
 * never loses them. Gateways deduplicate by the row id, so a lost acknowledgement is harmless.
 */
@Injectable()
export class EventOutbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventOutbox.name);
  private running = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private failures = 0;
  private hotSql?: HotSql;
  /** A wake-up that came while a batch was on its way: forward again at once instead of polling later. */
  private woken = false;

  constructor(
    @InjectRepository(RunnerEventEntity) private readonly repo: Repository<RunnerEventEntity>,
    @Inject(GATEWAY_EVENTS_CLIENT) private readonly gateway: ClientProxy,
    private readonly config: RunnerConfig,
  ) {}

  private get sql(): HotSql {
    return (this.hotSql ??= HotSql.of(this.repo.manager.connection));
  }

  /** The insert of an event, for a caller's batch (call `wake` once it committed). */
  step<T extends EventType>(orgId: string, sessionId: string, type: T, data: EventDataByType[T]): SqlStep {
    return { sql: INSERT_EVENT, params: [newId(), orgId, sessionId, type, JSON.stringify(data), Date.now()] };
  }

  async record<T extends EventType>(orgId: string, sessionId: string, type: T, data: EventDataByType[T], manager?: EntityManager): Promise<void> {
    const step = this.step(orgId, sessionId, type, data);
    if (manager) {
      await runStep(manager, step);
      return;
    }
    await this.sql.run(step.sql, step.params);
    this.wake();
  }

  /** Call after committing a transaction that recorded events. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.forward();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await this.gateway.close();
  }

  private async forward(): Promise<void> {
    while (this.running) {
      let sent = 0;
      this.woken = false;
      try {
        sent = await this.forwardBatch();
        if (this.failures > 0) this.logger.log({ msg: 'gateway reachable again; forwarding events', after: this.failures });
        this.failures = 0;
      } catch (err) {
        this.failures++;
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.logger.warn({ msg: 'could not hand events to a gateway; will retry', failures: this.failures, error: (err as Error).message });
        }
      }
      if (sent === BATCH_SIZE && this.failures === 0) continue;
      const woken = this.woken;
      const delay = this.failures === 0 ? (woken ? BUSY_POLL_MS : IDLE_POLL_MS) : Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures, 7)) * (0.5 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        // The short wait after a busy batch lets the next events gather; only an idle wait is cut short.
        if (this.failures === 0 && woken && this.running) return;
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private async forwardBatch(): Promise<number> {
    const sql = this.sql;
    const rows = await sql.all(OLDEST_EVENTS, []);
    if (rows.length === 0) return 0;
    const events: RunnerEvent[] = rows.map((r) => ({
      id: r.id as string,
      orgId: r.org_id as string,
      sessionId: r.session_id as string,
      type: r.type as EventType,
      data: JSON.parse(r.data as string) as unknown,
      occurredAt: Number(r.occurred_at),
    }));
    const payload: GatewayEventsPayload = { runnerId: this.config.runnerId, events };
    await firstValueFrom(this.gateway.send<GatewayEventsResult, GatewayEventsPayload>(RPC.gatewayEvents, payload).pipe(timeout(10_000)));
    const ids = events.map((e) => e.id);
    const steps = [];
    for (let at = 0; at < ids.length; ) {
      const n = DELETE_GROUP.findLast((g) => g <= ids.length - at)!;
      steps.push({ sql: deleteEvents(n), params: ids.slice(at, at + n) });
      at += n;
    }
    // On PostgreSQL one statement whose steps are CTEs: each deletes rows of its own, none depends on another.
    await sql.batch(steps);
    return rows.length;
  }
}

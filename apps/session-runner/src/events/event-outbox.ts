import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { InjectRepository } from '@nestjs/typeorm';
import { HotSql, RPC, runStep, type EventDataByType, type EventType, type GatewayEventsPayload, type GatewayEventsResult, type RunnerEvent } from '@wa/contracts/runtime';
import { newId } from '@wa/domain';
import { firstValueFrom, timeout } from 'rxjs';
import { In, Repository, type EntityManager } from 'typeorm';
import { RunnerConfig } from '../config/runner.config';
import { RunnerEventEntity } from './runner-event.entity';

export const GATEWAY_EVENTS_CLIENT = Symbol('GATEWAY_EVENTS_CLIENT');

const BATCH_SIZE = 200;
const INSERT_EVENT = 'INSERT INTO runner_events (id, org_id, session_id, type, data, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)';
const IDLE_POLL_MS = 1_000;
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

  constructor(
    @InjectRepository(RunnerEventEntity) private readonly repo: Repository<RunnerEventEntity>,
    @Inject(GATEWAY_EVENTS_CLIENT) private readonly gateway: ClientProxy,
    private readonly config: RunnerConfig,
  ) {}

  async record<T extends EventType>(orgId: string, sessionId: string, type: T, data: EventDataByType[T], manager?: EntityManager): Promise<void> {
    const step = { sql: INSERT_EVENT, params: [newId(), orgId, sessionId, type, JSON.stringify(data), Date.now()] };
    if (manager) {
      await runStep(manager, step);
      return;
    }
    await (this.hotSql ??= HotSql.of(this.repo.manager.connection)).run(step.sql, step.params);
    this.wake();
  }

  /** Call after committing a transaction that recorded events. */
  wake(): void {
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
      const delay = this.failures === 0 ? IDLE_POLL_MS : Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(this.failures, 7)) * (0.5 + Math.random() / 2);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private async forwardBatch(): Promise<number> {
    const rows = await this.repo.find({ order: { id: 'ASC' }, take: BATCH_SIZE });
    if (rows.length === 0) return 0;
    const events: RunnerEvent[] = rows.map((r) => ({
      id: r.id,
      orgId: r.orgId,
      sessionId: r.sessionId,
      type: r.type as EventType,
      data: JSON.parse(r.data) as unknown,
      occurredAt: r.occurredAt,
    }));
    const payload: GatewayEventsPayload = { runnerId: this.config.runnerId, events };
    await firstValueFrom(this.gateway.send<GatewayEventsResult, GatewayEventsPayload>(RPC.gatewayEvents, payload).pipe(timeout(10_000)));
    await this.repo.delete({ id: In(rows.map((r) => r.id)) });
    return rows.length;
  }
}

import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_TYPES, type EventEnvelope, type EventInput } from '@wa/contracts';
import { AppError } from '@wa/domain';
import type { EntityManager } from 'typeorm';
import { GatewayConfig } from '../config/gateway.config';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { EventsRepository, type StoredEvent } from './events.repository';

export interface PublishOptions {
  /** Deliver only to this endpoint (a `webhook.ping`); other endpoints get no delivery. */
  onlyWebhookId?: string;
}

/**
 * Runs inside the publishing transaction, so whatever it writes (deliveries) commits with the
 * events. What it returns, if anything, is called once the transaction has ended: `committed`
 * says whether its writes stand.
 */
export type EventFanOut = (tx: EntityManager, events: StoredEvent[], options: PublishOptions) => Promise<void | ((committed: boolean) => void)>;
export type PublishedListener = (orgIds: ReadonlySet<string>) => void;

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);
const MAX_ATTEMPTS = 3;
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_BATCH = 5000;

/**
 * The single entry point for everything the gateway tells its users: producers hand events
 * here; they are numbered and stored, with their deliveries, in one transaction before anyone
 * is told, so a crash can delay an event but never lose it.
 */
@Injectable()
export class EventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventsService.name);
  private readonly fanOuts: EventFanOut[] = [];
  private readonly listeners = new Set<PublishedListener>();
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly repo: EventsRepository,
    private readonly config: GatewayConfig,
    private readonly metrics: GatewayMetrics,
  ) {}

  registerFanOut(fanOut: EventFanOut): void {
    this.fanOuts.push(fanOut);
  }

  /** In-process wake-up after a commit; other replicas find the same rows by polling. */
  onPublished(listener: PublishedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Records events and their deliveries atomically and returns their envelopes in input order.
   * An input whose `sourceId` was already recorded for its org returns the stored event and
   * records nothing, so producers may retry freely.
   */
  async publish(inputs: EventInput | EventInput[], options: PublishOptions = {}): Promise<EventEnvelope[]> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length === 0) return [];
    for (const input of list) this.check(input);
    for (let attempt = 1; ; attempt++) {
      const ended: Array<(committed: boolean) => void> = [];
      try {
        const { stored, fresh } = await this.repo.transaction((tx) => this.record(tx, list, options, ended));
        this.ended(ended, true);
        for (const e of fresh) this.metrics.eventRecorded(e.type);
        if (fresh.length > 0) this.notify(new Set(fresh.map((e) => e.orgId)));
        return stored.map((e) => this.toEnvelope(e));
      } catch (err) {
        this.ended(ended, false);
        // A concurrent publisher recorded the same source id first: the retry finds its event.
        if (attempt < MAX_ATTEMPTS && this.repo.sql.isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  toEnvelope(e: StoredEvent): EventEnvelope {
    return JSON.parse(this.envelopeJson(e)) as EventEnvelope;
  }

  /** The delivered body, built around the stored JSON text so it is never re-serialised. */
  envelopeJson(e: StoredEvent): string {
    return (
      `{"id":${JSON.stringify(e.id)},"type":${JSON.stringify(e.type)},"timestamp":${e.occurredAt},"orgId":${JSON.stringify(e.orgId)},` +
      `"sessionId":${e.sessionId === null ? 'null' : JSON.stringify(e.sessionId)},"sequence":${e.sequence},"data":${e.data}}`
    );
  }

  onApplicationBootstrap(): void {
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruneTimer);
  }

  async prune(now = Date.now()): Promise<number> {
    const before = now - this.config.events.retentionDays * 86_400_000;
    let total = 0;
    try {
      for (let n = PRUNE_BATCH; n === PRUNE_BATCH; total += n) n = await this.repo.prune(before, PRUNE_BATCH);
    } catch (err) {
      this.logger.warn({ msg: 'event pruning failed', error: (err as Error).message });
    }
    return total;
  }

  private check(input: EventInput): void {
    if (!KNOWN_TYPES.has(input.type)) throw new AppError('validation_error', `unknown event type "${String(input.type)}"`);
    if (!input.orgId) throw new AppError('validation_error', 'an event needs an orgId');
    if (!Number.isFinite(input.occurredAt)) throw new AppError('validation_error', 'an event needs occurredAt (Unix ms)');
  }

  private ended(callbacks: Array<(committed: boolean) => void>, committed: boolean): void {
    for (const callback of callbacks.splice(0)) {
      try {
        callback(committed);
      } catch (err) {
        this.logger.warn({ msg: 'fan-out callback failed', error: (err as Error).message });
      }
    }
  }

  private async record(tx: EntityManager, inputs: EventInput[], options: PublishOptions, ended: Array<(committed: boolean) => void>): Promise<{ stored: StoredEvent[]; fresh: StoredEvent[] }> {
    const now = Date.now();
    const result = new Map<EventInput, StoredEvent>();
    const fresh: StoredEvent[] = [];
    const byOrg = EventsRepository.orgInputs(inputs);
    // Counters are locked in one global order (org stream, then sessions, all sorted) so that
    // concurrent publishers on PostgreSQL queue behind each other instead of deadlocking.
    for (const orgId of [...byOrg.keys()].sort()) {
      const orgInputs = byOrg.get(orgId) as EventInput[];
      const sourceIds = [...new Set(orgInputs.map((i) => i.sourceId).filter((s): s is string => !!s))];
      const existing = sourceIds.length ? await this.repo.findBySourceIds(tx, orgId, sourceIds) : new Map<string, StoredEvent>();
      const newBySource = new Map<string, EventInput>();
      const toRecord: EventInput[] = [];
      for (const input of orgInputs) {
        if (input.sourceId && (existing.has(input.sourceId) || newBySource.has(input.sourceId))) continue;
        if (input.sourceId) newBySource.set(input.sourceId, input);
        toRecord.push(input);
      }
      if (toRecord.length > 0) {
        const perSession = new Map<string, number>();
        for (const input of toRecord) if (input.sessionId !== null) perSession.set(input.sessionId, (perSession.get(input.sessionId) ?? 0) + 1);
        // The org stream ('') first, then the sessions sorted: one statement, locks in that order.
        const counts: Array<[string, number]> = [['', toRecord.length], ...[...perSession.keys()].sort().map((s): [string, number] => [s, perSession.get(s) as number])];
        const nextSequence = await this.repo.reserveMany(tx, orgId, counts);
        let position = nextSequence.get('') as number;
        const rows = toRecord.map((input) => {
          let sequence = 0;
          if (input.sessionId !== null) {
            sequence = nextSequence.get(input.sessionId) as number;
            nextSequence.set(input.sessionId, sequence + 1);
          }
          const event: StoredEvent & { sourceId: string | null } = {
            id: this.repo.newEventId(),
            orgId,
            sessionId: input.sessionId,
            type: input.type,
            data: JSON.stringify(input.data ?? {}),
            occurredAt: input.occurredAt,
            recordedAt: now,
            sequence,
            position: position++,
            sourceId: input.sourceId ?? null,
          };
          result.set(input, event);
          return event;
        });
        await this.repo.insert(tx, rows);
        fresh.push(...rows);
      }
      for (const input of orgInputs) {
        if (result.has(input)) continue;
        const source = input.sourceId as string;
        result.set(input, existing.get(source) ?? (result.get(newBySource.get(source) as EventInput) as StoredEvent));
      }
    }
    if (fresh.length > 0) {
      for (const fanOut of this.fanOuts) {
        const after = await fanOut(tx, fresh, options);
        if (after) ended.push(after);
      }
    }
    return { stored: inputs.map((i) => result.get(i) as StoredEvent), fresh };
  }

  private notify(orgIds: ReadonlySet<string>): void {
    for (const listener of this.listeners) {
      try {
        listener(orgIds);
      } catch (err) {
        this.logger.warn({ msg: 'event listener failed', error: (err as Error).message });
      }
    }
  }
}

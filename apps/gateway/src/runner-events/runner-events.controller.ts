import { Controller, Logger } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { EVENT_TYPES, RPC, type EventInput, type RunnerEvent, type GatewayEventsPayload, type GatewayEventsResult } from '@wa/contracts';
import { EventsService } from '../events/events.service';
import { OutboxEvents } from '../messages/outbox.events';
import { SessionsService } from '../sessions/sessions.service';

/**
 * Where runners hand over their events. The reply is the acknowledgement: a runner deletes its
 * copies only after it, so everything here must be durable before returning.
 */
const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

/** An event this gateway can record; anything else would be refused on every retry. */
function recordable(e: RunnerEvent): boolean {
  return KNOWN_TYPES.has(e.type) && typeof e.orgId === 'string' && e.orgId !== '' && typeof e.sessionId === 'string' && Number.isFinite(e.occurredAt);
}

@Controller()
export class RunnerEventsController {
  private readonly logger = new Logger(RunnerEventsController.name);

  constructor(
    private readonly sessions: SessionsService,
    private readonly events: EventsService,
    private readonly outbox: OutboxEvents,
  ) {}

  /**
   * State first, then the public event: a receiver that reacts to `session.status` by reading the
   * session sees the new status. The runner's row id is the event's source id, so a batch that is
   * handed over again after a lost acknowledgement records nothing twice.
   */
  @MessagePattern(RPC.gatewayEvents)
  async ingest(@Payload() payload: GatewayEventsPayload): Promise<GatewayEventsResult> {
    // The runner retries a batch until it is acknowledged, so one event this gateway can never
    // record (a type from a newer runner, a malformed row) would hold back every later event of
    // that runner. It is logged with its ids and acknowledged; the rest is recorded.
    const events = payload.events.filter(recordable);
    for (const e of payload.events) {
      if (!recordable(e)) this.logger.error({ msg: 'dropping a runner event this gateway cannot record', runnerId: payload.runnerId, eventId: e.id, type: e.type });
    }
    await this.sessions.applyRunnerEvents(events);
    const outboxIds = await this.outbox.apply(events);
    const inputs: EventInput[] = events.map((e) => ({
      orgId: e.orgId,
      sessionId: e.sessionId,
      type: e.type,
      // A status of a message sent through the API names its outbox entry.
      data: (outboxIds.has(e.id) ? { ...(e.data as object), outboxId: outboxIds.get(e.id) } : e.data) as EventInput['data'],
      occurredAt: e.occurredAt,
      sourceId: e.id,
    }));
    await this.events.publish(inputs);
    return { recorded: inputs.length };
  }
}

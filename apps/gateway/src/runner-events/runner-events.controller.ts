import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, type EventInput, type GatewayEventsPayload, type GatewayEventsResult } from '@wa/contracts';
import { EventsService } from '../events/events.service';
import { OutboxEvents } from '../messages/outbox.events';
import { SessionsService } from '../sessions/sessions.service';

/**
 * Where runners hand over their events. The reply is the acknowledgement: a runner deletes its
 * copies only after it, so everything here must be durable before returning.
 */
@Controller()
export class RunnerEventsController {
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
    await this.sessions.applyRunnerEvents(payload.events);
    await this.outbox.apply(payload.events);
    const inputs: EventInput[] = payload.events.map((e) => ({
      orgId: e.orgId,
      sessionId: e.sessionId,
      type: e.type,
      data: e.data as EventInput['data'],
      occurredAt: e.occurredAt,
      sourceId: e.id,
    }));
    await this.events.publish(inputs);
    return { recorded: inputs.length };
  }
}

import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC, type GatewayEventsPayload, type GatewayEventsResult } from '@wa/contracts';
import { SessionsService } from '../sessions/sessions.service';

/**
 * Where runners hand over their events. The reply is the acknowledgement: a runner deletes its
 * copies only after it, so everything here must be durable before returning.
 */
@Controller()
export class RunnerEventsController {
  constructor(private readonly sessions: SessionsService) {}

  @MessagePattern(RPC.gatewayEvents)
  async ingest(@Payload() payload: GatewayEventsPayload): Promise<GatewayEventsResult> {
    await this.sessions.applyRunnerEvents(payload.events);
    return { recorded: payload.events.length };
  }
}

import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC_PRESENCE, type PresenceSetPayload, type PresenceSubscribePayload } from '@wa/contracts/runtime';
import { PresenceService } from './presence.service';

/** The runner's half of the presence RPC. */
@Controller()
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @MessagePattern(RPC_PRESENCE.set)
  set(@Payload() p: PresenceSetPayload): Promise<Record<string, never>> {
    return this.presence.set(p);
  }

  @MessagePattern(RPC_PRESENCE.subscribe)
  subscribe(@Payload() p: PresenceSubscribePayload): Promise<Record<string, never>> {
    return this.presence.subscribe(p);
  }
}

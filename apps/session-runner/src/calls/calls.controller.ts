import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC_CALLS, type CallRejectPayload, type CallSettingsPayload, type CallSettingsResult, type SessionRef } from '@wa/contracts/runtime';
import { CallsService } from './calls.service';

/** The runner's half of the calls RPC. */
@Controller()
export class CallsController {
  constructor(private readonly calls: CallsService) {}

  @MessagePattern(RPC_CALLS.reject)
  reject(@Payload() p: CallRejectPayload): Promise<Record<string, never>> {
    return this.calls.reject(p);
  }

  @MessagePattern(RPC_CALLS.settingsGet)
  settings(@Payload() p: SessionRef): Promise<CallSettingsResult> {
    return this.calls.settings(p);
  }

  @MessagePattern(RPC_CALLS.settingsSet)
  updateSettings(@Payload() p: CallSettingsPayload): Promise<CallSettingsResult> {
    return this.calls.updateSettings(p);
  }
}

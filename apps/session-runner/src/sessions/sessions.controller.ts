import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  RPC,
  type SessionPairingCodePayload,
  type SessionPairingCodeResult,
  type SessionQrResult,
  type SessionRef,
  type SessionStateResult,
} from '@wa/contracts/runtime';
import { SessionManager } from './session-manager';

@Controller()
export class SessionsController {
  constructor(private readonly sessions: SessionManager) {}

  @MessagePattern(RPC.sessionStart)
  start(@Payload() ref: SessionRef): Promise<SessionStateResult> {
    return this.sessions.start(ref);
  }

  @MessagePattern(RPC.sessionStop)
  stop(@Payload() ref: SessionRef): Promise<SessionStateResult> {
    return this.sessions.stop(ref);
  }

  @MessagePattern(RPC.sessionLogout)
  logout(@Payload() ref: SessionRef): Promise<SessionStateResult> {
    return this.sessions.logout(ref);
  }

  @MessagePattern(RPC.sessionDelete)
  async delete(@Payload() ref: SessionRef): Promise<{ deleted: true }> {
    await this.sessions.delete(ref);
    return { deleted: true };
  }

  @MessagePattern(RPC.sessionQr)
  async qr(@Payload() ref: SessionRef): Promise<SessionQrResult> {
    return { qr: await this.sessions.qr(ref) };
  }

  @MessagePattern(RPC.sessionPairingCode)
  async pairingCode(@Payload() payload: SessionPairingCodePayload): Promise<SessionPairingCodeResult> {
    return { code: await this.sessions.pairingCode(payload, payload.phoneNumber) };
  }

  @MessagePattern(RPC.sessionState)
  state(@Payload() ref: SessionRef): Promise<SessionStateResult> {
    return this.sessions.state(ref);
  }
}

import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AppError } from '@wa/domain';
import { RunnerConfig } from '../config/runner.config';
import { SessionLeaseRepository } from './session-lease.repository';
import { SessionManager } from './session-manager';

/**
 * Commands reach any runner of the queue group. One that arrives at a runner while another live
 * runner owns the session is answered with that owner's id, so the gateway can resend it to the
 * owner directly; acting on it here would mean a second socket on the account.
 */
@Injectable()
export class SessionOwnershipGuard implements CanActivate {
  constructor(
    private readonly sessions: SessionManager,
    private readonly leases: SessionLeaseRepository,
    private readonly config: RunnerConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'rpc') return true;
    const data: unknown = context.switchToRpc().getData();
    const sessionId = data && typeof data === 'object' ? (data as { sessionId?: unknown }).sessionId : undefined;
    if (typeof sessionId !== 'string' || this.sessions.owns(sessionId)) return true;
    const owner = await this.leases.liveOwner(sessionId);
    if (owner && owner !== this.config.runnerId) {
      throw new AppError('session_unavailable', 'another session runner owns this session', { ownerRunnerId: owner });
    }
    return true;
  }
}

import { Injectable } from '@nestjs/common';
import {
  RPC,
  type RunnerEvent,
  type SessionCreateDto,
  type SessionPairingCodeResult,
  type SessionQrResult,
  type SessionRef,
  type SessionResponseDto,
  type SessionStateResult,
  type SessionStatusEventData,
} from '@wa/contracts';
import { AppError, newId } from '@wa/domain';
import { decodeCursor, pageOf } from '../http/cursor';
import { RunnerClient } from '../runner/runner-client';
import type { SessionEntity } from './session.entity';
import { SessionsRepository } from './sessions.repository';

const METADATA_MAX_BYTES = 4096;
/** Session lifecycle calls may open a socket or log a device out; they get more time than reads. */
const LIFECYCLE_TIMEOUT_MS = 30_000;

const notFound = (): AppError => new AppError('not_found', 'session not found');

export function toSessionResponse(s: SessionEntity): SessionResponseDto {
  return {
    id: s.id,
    name: s.name,
    metadata: s.metadata,
    status: s.status,
    statusReason: s.statusReason,
    me: s.meJid ? { jid: s.meJid, ...(s.meLid ? { lid: s.meLid } : {}), ...(s.mePushName ? { pushName: s.mePushName } : {}) } : null,
    createdAt: new Date(s.createdAt).toISOString(),
    updatedAt: new Date(s.updatedAt).toISOString(),
  };
}

@Injectable()
export class SessionsService {
  constructor(
    private readonly repo: SessionsRepository,
    private readonly runner: RunnerClient,
  ) {}

  async create(orgId: string, dto: SessionCreateDto): Promise<SessionResponseDto> {
    const metadata = dto.metadata ?? {};
    if (Buffer.byteLength(JSON.stringify(metadata)) > METADATA_MAX_BYTES) {
      throw new AppError('validation_error', `metadata must be at most ${METADATA_MAX_BYTES} bytes of JSON`, {
        fields: [{ field: 'metadata', problems: ['too large'] }],
      });
    }
    const now = Date.now();
    const row: SessionEntity = {
      id: newId(now),
      orgId,
      name: dto.name,
      metadata,
      status: 'stopped',
      statusReason: null,
      statusAt: now,
      meJid: null,
      meLid: null,
      mePushName: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.repo.insert(row);
    return toSessionResponse(row);
  }

  async list(orgId: string, limit = 50, cursor?: string): Promise<{ data: SessionResponseDto[]; nextCursor: string }> {
    const rows = await this.repo.listForOrg(orgId, limit + 1, decodeCursor(cursor));
    return pageOf(rows, limit, toSessionResponse);
  }

  async get(orgId: string, id: string): Promise<SessionResponseDto> {
    return toSessionResponse(await this.require(orgId, id));
  }

  async start(orgId: string, id: string, relink = false): Promise<SessionResponseDto> {
    const session = await this.require(orgId, id);
    if (session.status === 'logged_out' && !relink) {
      throw new AppError('conflict', 'this session was logged out from the phone; to pair it again, start it with {"relink": true}', {
        status: 'logged_out',
      });
    }
    return this.command(session, RPC.sessionStart);
  }

  async stop(orgId: string, id: string): Promise<SessionResponseDto> {
    return this.command(await this.require(orgId, id), RPC.sessionStop);
  }

  async logout(orgId: string, id: string): Promise<SessionResponseDto> {
    return this.command(await this.require(orgId, id), RPC.sessionLogout);
  }

  /** The row goes only after the runner let go of the device: a failure here loses nothing. */
  async delete(orgId: string, id: string): Promise<void> {
    const session = await this.require(orgId, id);
    await this.runner.call<{ deleted: true }, SessionRef>(RPC.sessionDelete, { orgId, sessionId: session.id }, LIFECYCLE_TIMEOUT_MS);
    await this.repo.deleteForOrg(orgId, id);
  }

  async qr(orgId: string, id: string): Promise<string> {
    const session = await this.require(orgId, id);
    const result = await this.runner.call<SessionQrResult, SessionRef>(RPC.sessionQr, { orgId, sessionId: session.id });
    return result.qr;
  }

  async pairingCode(orgId: string, id: string, phoneNumber: string): Promise<string> {
    const session = await this.require(orgId, id);
    const result = await this.runner.call<SessionPairingCodeResult>(
      RPC.sessionPairingCode,
      { orgId, sessionId: session.id, phoneNumber },
      LIFECYCLE_TIMEOUT_MS,
    );
    return result.code;
  }

  async me(orgId: string, id: string): Promise<{ jid: string; lid?: string; pushName?: string }> {
    const session = toSessionResponse(await this.require(orgId, id));
    if (session.status !== 'connected' || !session.me) {
      throw new AppError('session_not_connected', `the session is ${session.status}`, { status: session.status });
    }
    return session.me;
  }

  /** Applies what runners reported; status events update the stored status. */
  async applyRunnerEvents(events: RunnerEvent[]): Promise<void> {
    for (const e of events) {
      if (e.type === 'session.status') await this.repo.applyStatus(e.orgId, e.sessionId, e.data as SessionStatusEventData, e.occurredAt);
    }
  }

  private async require(orgId: string, id: string): Promise<SessionEntity> {
    const session = await this.repo.findForOrg(orgId, id);
    if (!session) throw notFound();
    return session;
  }

  private async command(session: SessionEntity, pattern: typeof RPC.sessionStart | typeof RPC.sessionStop | typeof RPC.sessionLogout): Promise<SessionResponseDto> {
    const startedAt = Date.now();
    const state = await this.runner.call<SessionStateResult, SessionRef>(pattern, { orgId: session.orgId, sessionId: session.id }, LIFECYCLE_TIMEOUT_MS);
    await this.repo.applyStatus(session.orgId, session.id, { status: state.status, reason: state.reason, me: state.me }, startedAt);
    return this.get(session.orgId, session.id);
  }
}

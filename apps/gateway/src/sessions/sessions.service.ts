import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import {
  RPC,
  type RunnerEvent,
  type SessionCreateDto,
  type SessionPairingCodeResult,
  type SessionQrResult,
  type SessionRef,
  type SessionResponseDto,
  type SessionStateResult,
  type SessionStatus,
  type SessionStatusEventData,
} from '@wa/contracts';
import { AppError, newId } from '@wa/domain';
import { decodeCursor, pageOf } from '../http/cursor';
import { GatewayConfig } from '../config/gateway.config';
import { isRunnerTimeout, RunnerClient } from '../runner/runner-client';
import type { SessionEntity } from './session.entity';
import { SessionsRepository } from './sessions.repository';

const METADATA_MAX_BYTES = 4096;
/** Session lifecycle calls may open a socket or log a device out; they get more time than reads. */
const LIFECYCLE_TIMEOUT_MS = 30_000;

const notFound = (): AppError => new AppError('not_found', 'session not found');

/** The states a QR code can still come out of; from any other, waiting for one is pointless. */
const QR_ON_THE_WAY: ReadonlySet<SessionStatus> = new Set(['starting', 'qr', 'reconnecting']);
/**
 * A waiting request wakes up at once when this gateway records a status change; statuses that
 * another replica records reach it only through the database, read this often (never the runner).
 */
const QR_WAIT_RECHECK_MS = 1_000;
/** The shortest a QR request to the runner is given when the caller's wait is nearly over. */
const QR_RETRY_MIN_TIMEOUT_MS = 1_000;

const isNoQrPending = (err: unknown): boolean => err instanceof AppError && err.code === 'not_found' && err.details.reason === 'no_qr_pending';

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
export class SessionsService implements OnModuleDestroy {
  /** Emits a session id whenever this gateway stored a new status for it. */
  private readonly statusChanged = new EventEmitter().setMaxListeners(0);
  private closing = false;
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly repo: SessionsRepository,
    private readonly runner: RunnerClient,
    private readonly config: GatewayConfig,
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

  /**
   * The pending QR code. With `waitMs`, waits for one on the statuses this gateway records, and
   * asks the runner only once a QR is pending: as soon as one is, or the session went where no
   * QR comes from (409), or the time is up (404 `no_qr_pending`, as without waiting). A runner
   * that does not answer within RUNNER_TIMEOUT_MS is asked again while the wait lasts: 503
   * `session_unavailable` only once the wait is over.
   */
  async qr(orgId: string, id: string, waitMs = 0): Promise<string> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const session = await this.require(orgId, id);
      if (waitMs === 0 || session.status === 'qr') {
        try {
          // A retry asks for no longer than the caller still waits (but long enough to be answered).
          const timeoutMs = Math.min(this.config.runnerTimeoutMs, Math.max(deadline - Date.now(), QR_RETRY_MIN_TIMEOUT_MS));
          const result = await this.runner.call<SessionQrResult, SessionRef>(RPC.sessionQr, { orgId, sessionId: session.id }, timeoutMs);
          return result.qr;
        } catch (err) {
          if (waitMs > 0 && isRunnerTimeout(err) && Date.now() < deadline && !this.closing) {
            // A runner whose event loop stalled (20 pairings at once on a busy machine) past
            // RUNNER_TIMEOUT_MS: the caller still waits, so ask again rather than answer 503.
            this.logger.warn({ msg: 'the runner did not answer a QR request in time; asking again', sessionId: session.id });
            continue;
          }
          // A stored `qr` that the runner has already moved past: the next status says where to.
          if (waitMs === 0 || !isNoQrPending(err)) throw err;
        }
      } else if (!QR_ON_THE_WAY.has(session.status)) {
        const why = session.statusReason ? ` (${session.statusReason})` : '';
        throw new AppError('conflict', `session is ${session.status}${why}; no QR code will come`, {
          reason: 'no_qr_expected',
          status: session.status,
          statusReason: session.statusReason,
        });
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closing) {
        throw new AppError('not_found', 'no QR code is pending for this session', { reason: 'no_qr_pending', sessionId: session.id, status: session.status });
      }
      await this.nextStatus(session.id, Math.min(left, QR_WAIT_RECHECK_MS));
    }
  }

  /** Waiting requests answer now instead of holding the server's close for up to a minute. */
  onModuleDestroy(): void {
    this.closing = true;
    for (const sessionId of this.statusChanged.eventNames()) this.statusChanged.emit(sessionId, sessionId);
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
      if (e.type === 'session.status') {
        await this.repo.applyStatus(e.orgId, e.sessionId, e.data as SessionStatusEventData, e.occurredAt);
        this.statusChanged.emit(e.sessionId, e.sessionId);
      }
    }
  }

  private nextStatus(sessionId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.statusChanged.off(sessionId, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.statusChanged.on(sessionId, done);
    });
  }

  private async require(orgId: string, id: string): Promise<SessionEntity> {
    const session = await this.repo.findForOrg(orgId, id);
    if (!session) throw notFound();
    return session;
  }

  private async command(session: SessionEntity, pattern: typeof RPC.sessionStart | typeof RPC.sessionStop | typeof RPC.sessionLogout): Promise<SessionResponseDto> {
    const startedAt = Date.now();
    const state = await this.runner.call<SessionStateResult, SessionRef>(pattern, { orgId: session.orgId, sessionId: session.id }, LIFECYCLE_TIMEOUT_MS);
    // As of the runner's answer (older runners send no `at`: then as of the call): status events
    // from during the command that arrive after it must not roll the answer back.
    await this.repo.applyStatus(session.orgId, session.id, { status: state.status, reason: state.reason, me: state.me }, state.at ?? startedAt);
    this.statusChanged.emit(session.id, session.id);
    return this.get(session.orgId, session.id);
  }
}

import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { CallRejectPayload, CallSettingsPayload, CallSettingsResult, SessionRef } from '@wa/contracts/runtime';
import { AppError, generateMessageId } from '@wa/domain';
import type { WaCall, WaConnection } from '@wa/wa-adapter';
import { Repository } from 'typeorm';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { RunnerSessionEntity } from '../sessions/runner-session.entity';
import { SessionManager } from '../sessions/session-manager';

/** Ringing calls remembered per session (to reject by id); older ones are forgotten. */
const RINGING_KEPT = 200;
/** How long the reply to an auto-rejected call waits for a login in progress to finish. */
const REPLY_WAIT_MS = 60_000;

/** Whether the connection is (or within `ms` becomes) connected; false once it goes elsewhere. */
function connectedWithin(connection: WaConnection, ms: number): Promise<boolean> {
  if (connection.status.state === 'connected') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (connected: boolean): void => {
      clearTimeout(timer);
      off();
      resolve(connected);
    };
    const timer = setTimeout(() => done(false), ms);
    const off = connection.on('status', (status) => {
      if (status.state === 'connected') done(true);
      else if (status.state !== 'starting' && status.state !== 'reconnecting') done(false);
    });
  });
}

/**
 * Incoming calls: a `call.received` event per offer, rejection by id, and the session's setting
 * to reject every call at once (with an optional text to the caller), kept with the session.
 */
@Injectable()
export class CallsService implements OnModuleInit {
  private readonly logger = new Logger(CallsService.name);
  private readonly ringing = new Map<string, Map<string, string>>();

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly events: EventOutbox,
    @InjectRepository(RunnerSessionEntity) private readonly rows: Repository<RunnerSessionEntity>,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) =>
      connection.on('call', (call) => {
        if (!this.sessions.owns(ref.sessionId)) return;
        this.onCall(ref, connection, call).catch((err: unknown) => this.logger.error({ msg: 'failed to handle a call', sessionId: ref.sessionId, error: (err as Error).message }));
      }),
    );
  }

  async settings(p: SessionRef): Promise<CallSettingsResult> {
    const row = await this.row(p);
    return { autoReject: row.callAutoReject, rejectMessage: row.callRejectMessage };
  }

  async updateSettings(p: CallSettingsPayload): Promise<CallSettingsResult> {
    await this.row(p);
    await this.rows.update({ sessionId: p.sessionId }, { callAutoReject: p.autoReject, callRejectMessage: p.rejectMessage ?? null });
    return this.settings(p);
  }

  async reject(p: CallRejectPayload): Promise<Record<string, never>> {
    const connection = this.sessions.connected(p);
    const from = this.ringing.get(p.sessionId)?.get(p.callId);
    if (!from) throw new AppError('not_found', 'no call with this id is ringing', { callId: p.callId });
    await connection.rejectCall(p.callId, from);
    this.ringing.get(p.sessionId)?.delete(p.callId);
    return {};
  }

  /** The session's row holds its settings; a session never started on a runner has none yet. */
  private async row(p: SessionRef): Promise<RunnerSessionEntity> {
    const row = await this.rows.findOneBy({ sessionId: p.sessionId });
    if (!row || row.orgId !== p.orgId) throw new AppError('session_not_connected', 'start the session once before changing its call settings', { sessionId: p.sessionId });
    return row;
  }

  private async onCall(ref: SessionRef, connection: WaConnection, call: WaCall): Promise<void> {
    const ringing = this.ringing.get(ref.sessionId) ?? new Map<string, string>();
    this.ringing.set(ref.sessionId, ringing);
    if (call.status !== 'offer') {
      ringing.delete(call.callId);
      return;
    }
    const row = await this.rows.findOneBy({ sessionId: ref.sessionId });
    const autoReject = !!row?.callAutoReject && !call.offline;
    if (!autoReject) {
      ringing.set(call.callId, call.from);
      if (ringing.size > RINGING_KEPT) ringing.delete(ringing.keys().next().value as string);
    }
    const from = await this.store.pairOf(ref.sessionId, call.from, call.callerPn);
    await this.events.record(ref.orgId, ref.sessionId, 'call.received', {
      callId: call.callId,
      from,
      video: call.video,
      group: call.group,
      ...(call.groupJid ? { groupJid: call.groupJid } : {}),
      autoRejected: autoReject,
      offline: call.offline,
      timestamp: call.timestampMs,
    });
    if (!autoReject) return;
    await connection.rejectCall(call.callId, call.from);
    if (row?.callRejectMessage) {
      // A call can ring before the login finished; the reply is a message, sent once it has.
      if (!(await connectedWithin(connection, REPLY_WAIT_MS))) {
        this.logger.warn({ msg: 'the reply to an auto-rejected call was not sent: the session did not connect', sessionId: ref.sessionId, callId: call.callId });
        return;
      }
      const to = from.pn ?? call.from;
      const sent = await connection.sendMessage(to, { type: 'text', text: row.callRejectMessage }, { messageId: generateMessageId() });
      await this.store.save({ sessionId: ref.sessionId, key: sent.key, type: 'text', timestampMs: sent.timestampMs, raw: sent.raw });
    }
  }
}

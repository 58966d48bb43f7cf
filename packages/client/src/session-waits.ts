import type { Client } from 'openapi-fetch';
import { EventStream, type EventStreamConnection } from './event-stream';
import { GatewayError, unwrap } from './gateway.error';
import type { components, paths } from './generated/openapi';

export type SessionResponse = components['schemas']['SessionResponseDto'];
export type SessionStatus = SessionResponse['status'];

export interface WaitOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** States a session does not leave on its own: waiting past them would only time out. */
const DEAD_ENDS: ReadonlySet<SessionStatus> = new Set(['failed', 'logged_out']);

/**
 * Runs `wait` with a stream of the session's events that is open before `wait` looks at the
 * current state, so a change between the look and the first event cannot be missed.
 */
async function withSessionEvents<R>(
  connection: EventStreamConnection,
  sessionId: string,
  types: Array<'session.status' | 'session.qr'>,
  options: WaitOptions,
  what: string,
  wait: (events: EventStream<'session.status' | 'session.qr'>) => Promise<R>,
): Promise<R> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  let events: EventStream<'session.status' | 'session.qr'> | undefined;
  try {
    events = await EventStream.open(connection, { types, sessionId, signal });
    const result = await wait(events);
    return result;
  } catch (err) {
    if (timeout.signal.aborted && !options.signal?.aborted) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    throw err;
  } finally {
    clearTimeout(timer);
    events?.close();
  }
}

function abortedError(what: string, signal: AbortSignal | undefined): Error {
  return signal?.aborted ? new Error(`aborted while waiting for ${what}`) : new Error(`event stream ended while waiting for ${what}`);
}

export function waitForStatus(
  client: Client<paths>,
  connection: EventStreamConnection,
  sessionId: string,
  status: SessionStatus,
  options: WaitOptions = {},
): Promise<SessionResponse> {
  const what = `session ${sessionId} to be ${status}`;
  const read = (): Promise<SessionResponse> => unwrap(client.GET('/api/v1/sessions/{id}', { params: { path: { id: sessionId } } }));
  const check = (current: SessionStatus, reason?: string | null): boolean => {
    if (current === status) return true;
    if (DEAD_ENDS.has(current)) throw new Error(`session ${sessionId} is ${current}${reason ? ` (${reason})` : ''}, not ${status}`);
    return false;
  };
  return withSessionEvents(connection, sessionId, ['session.status'], options, what, async (events) => {
    const session = await read();
    if (check(session.status, session.statusReason)) return session;
    for await (const event of events) {
      if (event.type === 'session.status' && check(event.data.status, event.data.reason)) return read();
    }
    throw abortedError(what, options.signal);
  });
}

export function waitForQr(client: Client<paths>, connection: EventStreamConnection, sessionId: string, options: WaitOptions = {}): Promise<string> {
  const what = `a QR code of session ${sessionId}`;
  return withSessionEvents(connection, sessionId, ['session.qr', 'session.status'], options, what, async (events) => {
    const pending = await client.GET('/api/v1/sessions/{id}/qr', {
      params: { path: { id: sessionId } },
      headers: { accept: 'application/json' },
      parseAs: 'json',
    });
    if (pending.response.ok) return (pending.data as components['schemas']['SessionQrDto']).qr;
    const error = GatewayError.fromBody(pending.response.status, pending.error);
    if (error.details.reason !== 'no_qr_pending') throw error;
    for await (const event of events) {
      if (event.type === 'session.qr') return event.data.qr;
      if (event.type === 'session.status' && (event.data.status === 'connected' || event.data.status === 'stopped' || DEAD_ENDS.has(event.data.status))) {
        throw new Error(`session ${sessionId} became ${event.data.status} before showing a QR code`);
      }
    }
    throw abortedError(what, options.signal);
  });
}

/**
 * Message patterns between the gateway and the session runner. They are wire names: never rename
 * one without keeping the old name answered until every deployed gateway has moved on.
 * Each pattern has its payload and result types beside it.
 */
export const RPC = {
  /** Liveness of a runner; the gateway's readiness check uses it. */
  runnerPing: 'runner.ping',
  /** Gateway -> runner: open (or keep open) a session's connection. */
  sessionStart: 'sessions.start',
  /** Gateway -> runner: close the connection, keep the credentials. */
  sessionStop: 'sessions.stop',
  /** Gateway -> runner: unlink the device at WhatsApp and wipe the credentials. */
  sessionLogout: 'sessions.logout',
  /** Gateway -> runner: logout when linked, then forget everything the runner holds for it. */
  sessionDelete: 'sessions.delete',
  /** Gateway -> runner: the pending QR code, if any. */
  sessionQr: 'sessions.qr',
  /** Gateway -> runner: link by phone number instead of QR. */
  sessionPairingCode: 'sessions.pairing-code',
  /** Gateway -> runner: the live state of a session's connection. */
  sessionState: 'sessions.state',
  /** Runner -> gateway: a batch of durable runner events, acknowledged once recorded. */
  gatewayEvents: 'gateway.events',
} as const;

import { RPC_MEDIA } from './media-rpc';
import { RPC_MESSAGING } from './messaging-rpc';
import type { RPC_CONTACTS } from './contacts.dto';
import type { RPC_CALLS } from './calls.dto';
import type { RPC_GROUP_ADMIN } from './group-admin.dto';
import type { RPC_COMMUNITIES } from './communities.dto';
import type { RPC_GROUP_POLICIES } from './group-policies.dto';
import type { RPC_CHANNELS } from './channels';
import type { RPC_PRESENCE } from './presence.dto';
import type { RPC_HISTORY } from './history.dto';
import type { RPC_PROFILE } from './profile.dto';

export type RpcPattern =
  | (typeof RPC)[keyof typeof RPC]
  | (typeof RPC_MESSAGING)[keyof typeof RPC_MESSAGING]
  | (typeof RPC_PROFILE)[keyof typeof RPC_PROFILE]
  | (typeof RPC_CONTACTS)[keyof typeof RPC_CONTACTS]
  | (typeof RPC_PRESENCE)[keyof typeof RPC_PRESENCE]
  | (typeof RPC_CALLS)[keyof typeof RPC_CALLS]
  | (typeof RPC_MEDIA)[keyof typeof RPC_MEDIA]
  | (typeof RPC_GROUP_POLICIES)[keyof typeof RPC_GROUP_POLICIES]
  | (typeof RPC_GROUP_ADMIN)[keyof typeof RPC_GROUP_ADMIN]
  | (typeof RPC_COMMUNITIES)[keyof typeof RPC_COMMUNITIES]
  | (typeof RPC_CHANNELS)[keyof typeof RPC_CHANNELS]
  | (typeof RPC_HISTORY)[keyof typeof RPC_HISTORY];

export type RunnerPingPayload = Record<string, never>;
export interface RunnerPingResult {
  runnerId: string;
  startedAt: number;
  transport: 'tcp' | 'nats';
}

/**
 * What a runner answers instead of a result when a call fails: the same `{code, message,
 * details}` as the public error envelope, so the gateway maps it to HTTP in one place.
 */
export interface RpcErrorPayload {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Every session command names the org too: the runner refuses a session of another org. */
export interface SessionRef {
  orgId: string;
  sessionId: string;
}

export interface SessionPairingCodePayload extends SessionRef {
  phoneNumber: string;
}

export interface SessionStateResult {
  sessionId: string;
  status: import('./events').SessionStatus;
  reason?: string;
  me?: { jid: string; lid?: string; pushName?: string };
  /** Whether stored credentials are a completed login, i.e. starting needs no QR. */
  linked: boolean;
  /**
   * Unix ms (the runner's clock, as events' `occurredAt`) at which this was the state: status
   * events that happened earlier but arrive later must not overwrite it.
   */
  at?: number;
}

export interface SessionQrResult {
  qr: string;
}

export interface SessionPairingCodeResult {
  code: string;
}

/** One event as the runner stored it; `id` is the runner's row id, used as `sourceId`. */
export interface RunnerEvent {
  id: string;
  orgId: string;
  sessionId: string;
  type: import('./events').EventType;
  data: unknown;
  occurredAt: number;
}

export interface GatewayEventsPayload {
  runnerId: string;
  events: RunnerEvent[];
}

export interface GatewayEventsResult {
  recorded: number;
}

import type { WaFailureReason } from './wa-engine.port';

export type DisconnectAction =
  | { kind: 'logged_out' }
  | { kind: 'fail'; reason: Exclude<WaFailureReason, 'too_many_restarts'>; message: string }
  | { kind: 'restart' }
  | { kind: 'reconnect' };

/**
 * What to do when a socket ends with `statusCode`. 440 never reconnects: another socket is live
 * on the same credentials and fighting it gets the account logged out.
 */
export function classifyDisconnect(statusCode: number | undefined): DisconnectAction {
  switch (statusCode) {
    case 401:
      return { kind: 'logged_out' };
    case 403:
      return { kind: 'fail', reason: 'banned', message: 'WhatsApp refused this account (403): it is banned or restricted' };
    case 405:
      return {
        kind: 'fail',
        reason: 'version_rejected',
        message: 'WhatsApp rejected the client version (405): set WA_VERSION to a current WhatsApp Web version',
      };
    case 440:
      return {
        kind: 'fail',
        reason: 'replaced',
        message: 'another connection opened with these credentials (440); this one stopped and will not reconnect',
      };
    case 515:
      return { kind: 'restart' };
    default:
      return { kind: 'reconnect' };
  }
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Exponential backoff with full jitter in the upper half, so reconnecting sessions spread out. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

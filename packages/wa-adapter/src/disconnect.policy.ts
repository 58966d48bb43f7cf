import type { WaFailureReason } from './wa-engine.port';

export type DisconnectAction =
  | { kind: 'logged_out' }
  | { kind: 'fail'; reason: Exclude<WaFailureReason, 'too_many_restarts'>; message: string }
  | { kind: 'restart' }
  | { kind: 'reconnect' };

/**
 * The check a refused noise certificate failed (`leaf_expired`, `static_key_mismatch`, ...), as
 * the patched Baileys handshake names it in its error's `data.noiseCertificate`; undefined for
 * every other end of a socket.
 */
export function refusedCertificateCheck(error: unknown): string | undefined {
  const check = (error as { data?: { noiseCertificate?: unknown } } | undefined)?.data?.noiseCertificate;
  return typeof check === 'string' ? check : undefined;
}

/**
 * What to do when a socket ends with `statusCode` (and `error`, its reason). 440 never reconnects:
 * another socket is live on the same credentials and fighting it gets the account logged out. A
 * server that fails authentication is not retried either: it is not WhatsApp, and until someone
 * fixes the network path every attempt would meet it again.
 */
export function classifyDisconnect(statusCode: number | undefined, error?: unknown): DisconnectAction {
  const check = refusedCertificateCheck(error);
  if (check) {
    return {
      kind: 'fail',
      reason: 'server_untrusted',
      message:
        `the WhatsApp server failed authentication (${check}): the connection may be intercepted. ` +
        'The session stopped before pairing or login and kept its credentials; check the network path, WA_WS_URL, ' +
        'WA_ROOT_PUBLIC_KEY and the system clock, then start it again',
    };
  }
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

import type { EventInput } from '@wa/contracts';
import type { TestIdentityProvider } from './auth-fixture';
import type { GatewayHandle } from './harness';
import { HANG_MS } from './deadlines';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
}

/** A JSON call to the gateway as a person of `org` with `role`. */
export async function api<T = Record<string, unknown>>(
  gw: GatewayHandle,
  idp: TestIdentityProvider,
  org: string,
  method: string,
  path: string,
  body?: unknown,
  role = 'owner',
): Promise<ApiAnswer<T>> {
  const headers = idp.headers(org, role);
  if (body === undefined) delete headers['content-type'];
  const res = await fetch(`${gw.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, text };
}

let counter = 0;

/** A message.received event for `session`, unique per call. */
export function messageEvent(orgId: string, sessionId: string, text = `hello ${++counter}`): EventInput<'message.received'> {
  return {
    orgId,
    sessionId,
    type: 'message.received',
    occurredAt: Date.now(),
    data: {
      messageId: `3EB0${(++counter).toString(16).toUpperCase().padStart(16, '0')}`,
      chat: { jid: '491701234567@s.whatsapp.net', pn: '491701234567@s.whatsapp.net', lid: '123456789@lid' },
      sender: { jid: '491701234567@s.whatsapp.net', pn: '491701234567@s.whatsapp.net', lid: '123456789@lid' },
      fromMe: false,
      timestamp: Date.now(),
      type: 'text',
      content: { text },
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it yields a value; the deadline only ends a wait for something that never comes. */
export async function until<T>(probe: () => Promise<T | undefined | false>, timeoutMs = HANG_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

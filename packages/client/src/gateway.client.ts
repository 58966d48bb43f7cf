import { randomUUID } from 'node:crypto';
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { EventStream, type EventStreamOptions, type GatewayEventType } from './event-stream';
import { IDEMPOTENT_OPERATIONS } from './generated/idempotent-operations';
import type { paths } from './generated/openapi';
import { waitForQr, waitForStatus, type SessionResponse, type SessionStatus, type WaitOptions } from './session-waits';

export interface GatewayClientOptions {
  /** Where the gateway listens, e.g. `https://wa.example.com` (paths start with /api/v1). */
  baseUrl: string;
  /** An API key (`wag_...`) or a login JWT, sent as `Authorization: Bearer`. */
  token: string;
  /**
   * How often a write is tried again after a network error or a 502/503/504, with the same
   * Idempotency-Key so the gateway sends it at most once. Default 2.
   */
  writeRetries?: number;
  /** Replaces the global fetch (a proxy agent, instrumentation). */
  fetch?: typeof globalThis.fetch;
}

export interface GatewayClient extends Client<paths> {
  /**
   * Resolves with the session once it has `status` (at once if it already has it); rejects when
   * it fails or is logged out instead, on timeout, or when `signal` aborts.
   */
  waitForStatus(sessionId: string, status: SessionStatus, options?: WaitOptions): Promise<SessionResponse>;
  /** The raw QR string to show or scan: the pending one, or the next one the session emits. */
  waitForQr(sessionId: string, options?: WaitOptions): Promise<string>;
  /** The organization's events as they happen (see EventStream). */
  events<T extends GatewayEventType>(options?: EventStreamOptions<T>): Promise<EventStream<T>>;
}

/** Spread into `params.header` of a write to be answered 202 once the entry is in the outbox. */
export const RESPOND_ASYNC = { Prefer: 'respond-async' } as const;

const IDEMPOTENCY_HEADER = 'idempotency-key';
const RETRYABLE_STATUS = new Set([502, 503, 504]);
const RETRY_BASE_MS = 200;

/**
 * Every write operation of the document gets a fresh random Idempotency-Key unless the caller
 * gave one; the key is fixed before the first attempt, so the retries below reuse it.
 */
const idempotencyKeys: Middleware = {
  onRequest({ request, schemaPath }) {
    if (IDEMPOTENT_OPERATIONS.has(`${request.method} ${schemaPath}`) && !request.headers.has(IDEMPOTENCY_HEADER)) {
      request.headers.set(IDEMPOTENCY_HEADER, randomUUID());
    }
    return request;
  },
};

/** Only requests that carry an Idempotency-Key are retried: the gateway replays, never re-sends. */
function retryingFetch(fetchImpl: typeof globalThis.fetch, retries: number): (request: Request) => Promise<Response> {
  return async (request) => {
    if (!request.headers.has(IDEMPOTENCY_HEADER) || retries === 0) return fetchImpl(request);
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries;
      try {
        const response = await fetchImpl(last ? request : request.clone());
        if (last || !RETRYABLE_STATUS.has(response.status)) return response;
        await response.body?.cancel();
      } catch (err) {
        if (last || request.signal.aborted) throw err;
      }
      await backoff(attempt, request.signal);
    }
  };
}

/** Exponential with full jitter, so clients that failed together do not retry together. */
function backoff(attempt: number, signal: AbortSignal): Promise<void> {
  const ms = Math.random() * RETRY_BASE_MS * 2 ** attempt;
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The openapi-fetch client of the gateway's API (typed from its OpenAPI document) with bearer
 * auth, idempotent retried writes, and waits for session states built on the event stream.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.token}` },
    fetch: retryingFetch(fetchImpl, options.writeRetries ?? 2),
  });
  client.use(idempotencyKeys);
  const connection = { baseUrl: options.baseUrl, token: options.token, fetch: fetchImpl };
  const gateway: GatewayClient = Object.assign(client, {
    waitForStatus: (sessionId: string, status: SessionStatus, waitOptions?: WaitOptions) => waitForStatus(client, connection, sessionId, status, waitOptions),
    waitForQr: (sessionId: string, waitOptions?: WaitOptions) => waitForQr(client, connection, sessionId, waitOptions),
    events: <T extends GatewayEventType>(streamOptions?: EventStreamOptions<T>) => EventStream.open<T>(connection, streamOptions),
  });
  return gateway;
}

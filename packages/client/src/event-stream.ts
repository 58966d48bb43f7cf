import { GatewayError } from './gateway.error';
import type { paths } from './generated/openapi';
import { SseParser } from './sse.parser';

/** Every event envelope the gateway emits, as a union discriminated by `type`. */
export type GatewayEvent = paths['/api/v1/events']['get']['responses'][200]['content']['text/event-stream'];
export type GatewayEventType = GatewayEvent['type'];
export type GatewayEventOf<T extends GatewayEventType> = Extract<GatewayEvent, { type: T }>;

export interface EventStreamConnection {
  baseUrl: string;
  token: string;
  fetch?: typeof globalThis.fetch;
}

export interface EventStreamOptions<T extends GatewayEventType = GatewayEventType> {
  /** Only these types (the gateway filters); all when omitted. */
  types?: readonly T[];
  /** Only events of this session. */
  sessionId?: string;
  /** Resume after this event id instead of starting at the current end. */
  lastEventId?: string;
  signal?: AbortSignal;
}

/** Used until the server sends its own `retry:`; also the delay after a failed reconnect. */
const DEFAULT_RETRY_MS = 1000;

/**
 * The organization's live events over `GET /api/v1/events`, with the bearer token in the
 * Authorization header (which EventSource cannot send). A dropped connection is resumed with
 * `Last-Event-ID`, so no event is lost or repeated. `open` resolves once the gateway has
 * answered, i.e. once every event recorded from then on is sure to be delivered.
 */
export class EventStream<T extends GatewayEventType = GatewayEventType> implements AsyncIterable<GatewayEventOf<T>> {
  private readonly abort = new AbortController();
  private lastEventId: string | undefined;
  private retryMs = DEFAULT_RETRY_MS;
  private iterating = false;

  private constructor(
    private readonly connection: EventStreamConnection,
    private readonly options: EventStreamOptions<T>,
    private response: Response | undefined,
  ) {
    this.lastEventId = options.lastEventId;
  }

  static async open<T extends GatewayEventType>(connection: EventStreamConnection, options: EventStreamOptions<T> = {}): Promise<EventStream<T>> {
    const stream = new EventStream(connection, options, undefined);
    if (options.signal?.aborted) stream.close();
    else options.signal?.addEventListener('abort', () => stream.close(), { once: true });
    stream.response = await stream.connect();
    return stream;
  }

  /** The id of the last event delivered, to resume elsewhere. */
  get position(): string | undefined {
    return this.lastEventId;
  }

  close(): void {
    this.abort.abort();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<GatewayEventOf<T>> {
    if (this.iterating) throw new Error('an EventStream can be iterated once');
    this.iterating = true;
    try {
      while (!this.abort.signal.aborted) {
        const response = this.response ?? (await this.reconnect());
        this.response = undefined;
        if (!response) return;
        try {
          yield* this.read(response);
        } catch (err) {
          if (this.abort.signal.aborted) return;
          if (err instanceof GatewayError) throw err;
          // The connection broke mid-stream: resume after the last event we got.
        }
      }
    } finally {
      this.close();
    }
  }

  private async connect(): Promise<Response> {
    const url = new URL('/api/v1/events', this.connection.baseUrl);
    if (this.options.types?.length) url.searchParams.set('types', this.options.types.join(','));
    if (this.options.sessionId) url.searchParams.set('sessionId', this.options.sessionId);
    const headers: Record<string, string> = { authorization: `Bearer ${this.connection.token}`, accept: 'text/event-stream' };
    if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
    const response = await (this.connection.fetch ?? fetch)(url, { headers, signal: this.abort.signal });
    if (!response.ok) throw await GatewayError.fromResponse(response);
    return response;
  }

  /**
   * A new connection after a drop; client errors (bad token, bad filter) end the stream with
   * their GatewayError, anything else is retried after the server's `retry` delay.
   */
  private async reconnect(): Promise<Response | undefined> {
    while (!this.abort.signal.aborted) {
      await this.delay(this.retryMs);
      if (this.abort.signal.aborted) return undefined;
      try {
        return await this.connect();
      } catch (err) {
        if (this.abort.signal.aborted) return undefined;
        if (err instanceof GatewayError && err.status >= 400 && err.status < 500 && err.status !== 429) throw err;
      }
    }
    return undefined;
  }

  private async *read(response: Response): AsyncGenerator<GatewayEventOf<T>> {
    if (!response.body) return;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        const messages = parser.push(decoder.decode(value, { stream: true }));
        if (parser.retryMs !== undefined) this.retryMs = parser.retryMs;
        for (const message of messages) {
          if (message.id) this.lastEventId = message.id;
          yield JSON.parse(message.data) as GatewayEventOf<T>;
        }
      }
    } finally {
      reader.releaseLock();
      await response.body.cancel().catch(() => undefined);
    }
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }
}

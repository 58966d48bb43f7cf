import type { components } from './generated/openapi';

export type ErrorCode = components['schemas']['ErrorBodyDto']['code'];

/**
 * An error answer of the gateway: the envelope's `code`, `message` and `details` plus the HTTP
 * status. A body that is not an envelope (a proxy's error page, say) has the code
 * `unexpected_response` and the start of the body in `details.body`.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'unexpected_response',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The request id the gateway put in `details` of internal errors, for support tickets. */
  get requestId(): string | undefined {
    return typeof this.details.requestId === 'string' ? this.details.requestId : undefined;
  }

  static fromBody(status: number, body: unknown): GatewayError {
    const error = (body as { error?: unknown } | null)?.error as { code?: unknown; message?: unknown; details?: unknown } | undefined;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      const details = error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : {};
      return new GatewayError(status, error.code as ErrorCode, error.message, details);
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? null);
    return new GatewayError(status, 'unexpected_response', `HTTP ${status} without an error envelope`, { body: text.slice(0, 500) });
  }

  static async fromResponse(response: Response): Promise<GatewayError> {
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text for `unexpected_response`.
    }
    return GatewayError.fromBody(response.status, body);
  }
}

/** What openapi-fetch resolves with; `data` is undefined on errors and for 204 answers. */
type Outcome = { data?: unknown; error?: unknown; response: Response };
type DataOf<R extends Outcome> = [Exclude<R['data'], undefined>] extends [never] ? undefined : Exclude<R['data'], undefined>;

/**
 * The data of an openapi-fetch call, or a GatewayError carrying the error envelope and status:
 * `const session = await unwrap(gw.GET('/api/v1/sessions/{id}', { params: { path: { id } } }))`.
 */
export async function unwrap<R extends Outcome>(call: Promise<R>): Promise<DataOf<R>> {
  const outcome = await call;
  if (outcome.response.ok) return outcome.data as DataOf<R>;
  throw GatewayError.fromBody(outcome.response.status, outcome.error);
}

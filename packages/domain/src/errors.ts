/**
 * Every error the API can answer with. The HTTP status of each code is fixed here, once, so
 * that the gateway and the runner (whose errors cross the wire as `{code, message, details}`)
 * agree on it.
 */
export const ERROR_STATUS = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  session_not_connected: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  idempotency_key_reused: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  service_unavailable: 503,
  session_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorDetails = Record<string, unknown>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

/** An expected failure with a public code; its message and details are safe to show to callers. */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuilds an AppError from its wire form; anything unrecognised becomes `internal_error`. */
  static fromWire(value: unknown): AppError {
    if (value && typeof value === 'object') {
      const v = value as { code?: unknown; message?: unknown; details?: unknown };
      if (isErrorCode(v.code) && typeof v.message === 'string') {
        const details = v.details && typeof v.details === 'object' ? (v.details as ErrorDetails) : {};
        return new AppError(v.code, v.message, details);
      }
    }
    return new AppError('internal_error', 'internal error');
  }
}

export const notFound = (what: string): AppError => new AppError('not_found', `${what} not found`);

import { HttpException, HttpStatus } from '@nestjs/common';
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorDetails } from '@wa/domain';

export interface ErrorResponse {
  status: number;
  body: { error: { code: ErrorCode; message: string; details: ErrorDetails } };
  headers: Record<string, string>;
  /** True when the error was not expected and must be logged with its stack. */
  unexpected: boolean;
}

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'validation_error',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'idempotency_key_reused',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** Fastify's own errors (body parsing, content types) carry a `code` and a `statusCode`. */
interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

function envelope(code: ErrorCode, message: string, details: ErrorDetails = {}, headers: Record<string, string> = {}): ErrorResponse {
  return { status: ERROR_STATUS[code], body: { error: { code, message, details } }, headers, unexpected: false };
}

function fromFastify(err: FastifyLikeError): ErrorResponse | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return envelope('payload_too_large', 'request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return envelope('unsupported_media_type', 'unsupported Content-Type; send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return envelope('validation_error', 'request body is empty but Content-Type is application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return envelope('validation_error', 'Content-Length does not match the body');
    default:
      break;
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return envelope('validation_error', 'request body is not valid JSON');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    const code = STATUS_CODES[err.statusCode] ?? 'validation_error';
    return { ...envelope(code, err.message ?? 'bad request'), status: err.statusCode };
  }
  return undefined;
}

function fromHttpException(err: HttpException): ErrorResponse {
  const status = err.getStatus();
  const response = err.getResponse();
  const message =
    typeof response === 'object' && response !== null && 'message' in response && typeof (response as { message: unknown }).message === 'string'
      ? (response as { message: string }).message
      : err.message;
  if (status === HttpStatus.NOT_FOUND && /^Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /.test(message)) {
    // The query is left out: it may carry a token, and the answer may be logged on its way back.
    return envelope('not_found', `no route ${message.slice('Cannot '.length).replace(/\?.*$/, '')}`);
  }
  const code = STATUS_CODES[status];
  if (!code) {
    return status >= 500 ? { ...envelope('internal_error', 'internal error'), unexpected: true } : { ...envelope('validation_error', message), status };
  }
  return { ...envelope(code, message), status };
}

/**
 * Maps anything thrown while serving a request to the public error envelope. Unknown errors
 * become `internal_error` with the request id and never leak their message or stack.
 */
export function toErrorResponse(err: unknown, requestId: string): ErrorResponse {
  if (err instanceof AppError) {
    const headers: Record<string, string> = {};
    const retryAfter = err.details.retryAfterSeconds;
    if (typeof retryAfter === 'number') headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfter)));
    return envelope(err.code, err.message, err.details, headers);
  }
  if (err instanceof HttpException) {
    const mapped = fromHttpException(err);
    if (mapped.unexpected) mapped.body.error.details = { requestId };
    return mapped;
  }
  if (err && typeof err === 'object') {
    const mapped = fromFastify(err as FastifyLikeError);
    if (mapped) return mapped;
  }
  return { ...envelope('internal_error', 'internal error', { requestId }), unexpected: true };
}

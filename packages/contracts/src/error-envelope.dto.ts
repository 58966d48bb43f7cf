import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiResponse, getSchemaPath, type ApiResponseOptions } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '@wa/domain';

export class ErrorBodyDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), description: 'Stable, machine-readable error code; each code always comes with the same HTTP status.' })
  code!: ErrorCode;

  @ApiProperty({ description: 'Human-readable explanation; may change between versions.' })
  message!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Structured context: per-field problems for validation errors, `requestId` for internal errors; `{}` when there is none.',
  })
  details!: Record<string, unknown>;
}

/** The body of every error response: `{"error": {"code", "message", "details"}}`. */
export class ErrorEnvelopeDto {
  @ApiProperty({ type: ErrorBodyDto })
  error!: ErrorBodyDto;
}

/**
 * One realistic answer per code, shown as the example of every response that can carry it, so
 * a 404 never shows a 409's body. Messages are the ones the gateway actually writes.
 */
export const ERROR_EXAMPLES: Record<ErrorCode, { message: string; details: Record<string, unknown> }> = {
  validation_error: {
    message: 'invalid request: chat: chat has an invalid format',
    details: { fields: [{ field: 'chat', problems: ['chat has an invalid format (expected something like "491701234567@s.whatsapp.net")'] }] },
  },
  unauthorized: { message: 'missing "Authorization: Bearer <token>" header', details: {} },
  forbidden: { message: 'this action needs the "manage" capability', details: { capability: 'manage' } },
  not_found: { message: 'session not found', details: {} },
  request_timeout: { message: 'the request was not received in time', details: {} },
  conflict: { message: 'a request with this Idempotency-Key is still in flight', details: {} },
  session_not_connected: { message: 'the session is not connected', details: { status: 'stopped' } },
  payload_too_large: { message: 'request body is larger than the server accepts', details: {} },
  uri_too_long: { message: 'the request URL is too long', details: {} },
  unsupported_media_type: { message: 'Content-Type "text/plain" is not accepted; send application/json', details: { contentType: 'text/plain' } },
  range_not_satisfiable: { message: 'the range bytes=90000- is outside the file (84211 bytes)', details: { size: 84211 } },
  idempotency_key_reused: { message: 'this Idempotency-Key was used with a different request', details: {} },
  rate_limited: { message: 'too many failed authentications; retry later', details: { scope: 'ip', retryAfterSeconds: 30 } },
  headers_too_large: { message: 'the request headers are too large', details: {} },
  internal_error: { message: 'internal error', details: { requestId: 'req-1f3c9a' } },
  service_unavailable: { message: 'not ready', details: { checks: { database: 'ok', runner: 'failed: no runner answered' } } },
  session_unavailable: { message: 'no session runner is reachable', details: {} },
};

/** `{"error": {...}}` for `code`, as the example above. */
export function errorExample(code: ErrorCode): { error: { code: ErrorCode; message: string; details: Record<string, unknown> } } {
  return { error: { code, ...ERROR_EXAMPLES[code] } };
}

const RETRY_AFTER_HEADER = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } },
};

export interface ErrorResponseOptions {
  /** Adds the `Retry-After` header (429 and 503 answers). */
  retryAfter?: boolean;
}

/** The OpenAPI response object of an error status: the envelope, with one example per code. */
export function errorResponseObject(status: number, codes: readonly ErrorCode[], description: string, options: ErrorResponseOptions = {}): Record<string, unknown> {
  for (const code of codes) {
    // A mismatch is a programming error and fails at startup, not in a reader's client.
    if (ERROR_STATUS[code] !== status) throw new Error(`error code ${code} is answered with ${ERROR_STATUS[code]}, not ${status}`);
  }
  const examples = Object.fromEntries(codes.map((code) => [code, { summary: code, value: errorExample(code) }]));
  return {
    description,
    ...(options.retryAfter ? { headers: RETRY_AFTER_HEADER } : {}),
    content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorEnvelopeDto) }, examples } },
  };
}

/** Documents one error status as the error envelope with an example of each code it can carry here. */
export function ApiErrorResponse(status: number, codes: readonly ErrorCode[], description: string, options: ErrorResponseOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(ApiExtraModels(ErrorEnvelopeDto), ApiResponse({ status, ...errorResponseObject(status, codes, description, options) } as ApiResponseOptions));
}

/** 500: any route can fail unexpectedly; the answer names the request id to quote in a report. */
export const ApiInternalErrorResponse = (): MethodDecorator & ClassDecorator =>
  ApiErrorResponse(500, ['internal_error'], '`internal_error`: an unexpected failure; `details.requestId` identifies the request in the server logs.');

/**
 * The errors every authenticated route can give, declared here once: 401 (no or bad token),
 * 403 when a capability is required, 429 (rate limits, with `Retry-After`), 500, and 503 (the
 * database or the session runners are unavailable).
 */
export function ApiAuthenticatedErrors(capability?: string): MethodDecorator & ClassDecorator {
  const decorators = [
    ApiErrorResponse(401, ['unauthorized'], '`unauthorized`: missing, malformed, expired or revoked token.'),
    ApiErrorResponse(429, ['rate_limited'], '`rate_limited`: too many requests or failed authentications; see `Retry-After`.', { retryAfter: true }),
    ApiInternalErrorResponse(),
    ApiErrorResponse(503, ['session_unavailable', 'service_unavailable'], '`session_unavailable`: no session runner could take the call; `service_unavailable`: a dependency is down. Retry later.'),
  ];
  if (capability) decorators.push(ApiErrorResponse(403, ['forbidden'], `\`forbidden\`: the caller lacks the \`${capability}\` capability.`));
  return applyDecorators(...decorators);
}

/**
 * The errors of any request that carries a body (every method but GET and HEAD), whether the
 * route reads one or not: the edge refuses other media types and oversized or malformed JSON
 * before the route runs. The document builder adds them to every such operation.
 */
export const BODY_ERROR_RESPONSES: Readonly<Record<number, Record<string, unknown>>> = {
  400: errorResponseObject(400, ['validation_error'], '`validation_error`: the body is not valid JSON, or the request does not match the schema; `details.fields` lists each problem.'),
  413: errorResponseObject(413, ['payload_too_large'], '`payload_too_large`: the body (or a media item in it) is larger than the server accepts.'),
  415: errorResponseObject(415, ['unsupported_media_type'], '`unsupported_media_type`: the body is not `application/json` in UTF-8, or is compressed.'),
};

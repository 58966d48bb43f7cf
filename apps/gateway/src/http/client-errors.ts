import { AppError, newId, type ErrorCode } from '@wa/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { bodyLeftUnread } from './edge.hooks';
import { toErrorResponse } from './error-response';
import { lingerBeforeClose } from './lingering-close';
import { redactUrl } from './log-redaction';

/**
 * Answers for requests that never reach Fastify's routing (Node's `clientError`: slow or
 * oversized heads, bodies that arrive too slowly, malformed HTTP) and for URLs its router
 * refuses (`frameworkErrors`), in the same envelope and with a request id like every other answer.
 */

function clientErrorCode(code: string | undefined): [ErrorCode, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['request_timeout', 'the request was not received in time'];
    case 'HPE_HEADER_OVERFLOW':
      return ['headers_too_large', 'the request line and headers are larger than the server accepts'];
    default:
      return ['validation_error', 'malformed HTTP request'];
  }
}

/** A complete HTTP/1.1 error response for writing straight to a socket that is then closed. */
export function rawErrorResponse(code: ErrorCode, message: string, requestId: string): string {
  const response = toErrorResponse(new AppError(code, message), requestId);
  const body = JSON.stringify(response.body);
  return [
    `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

export function createClientErrorHandler(logger: Logger): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // The response of a request that was already dispatched carries the request id it was given.
    const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
    const given = pending?.getHeader('x-request-id');
    const requestId = typeof given === 'string' ? given : newId();
    const [code, message] = clientErrorCode(err.code);
    logger.info({ requestId, code, cause: err.code }, 'client error');
    if (!socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(code, message, requestId), () => socket.destroy());
  };
}

export function createFrameworkErrorHandler(logger: Logger): (err: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => void {
  return (err, request, reply) => {
    const [code, message]: [ErrorCode, string] =
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? ['uri_too_long', 'a path segment of the URL is longer than the server accepts']
        : err.code === 'FST_ERR_BAD_URL'
          ? ['validation_error', 'the URL is not valid: bad percent-encoding']
          : ['validation_error', 'the request could not be routed'];
    const response = toErrorResponse(new AppError(code, message), String(request.id));
    const unread = bodyLeftUnread(request.raw);
    if (unread) lingerBeforeClose(request.raw);
    logger.info({ requestId: request.id, method: request.method, url: redactUrl(request.raw.url ?? ''), status: response.status, cause: err.code }, 'request');
    void reply
      .status(response.status)
      .headers({ 'x-request-id': String(request.id), ...(unread ? { connection: 'close' } : {}) })
      .type('application/json; charset=utf-8')
      .send(response.body);
  };
}

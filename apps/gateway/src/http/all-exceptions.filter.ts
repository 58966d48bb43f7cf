import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { RpcErrorPayload } from '@wa/contracts';
import { AppError, newId } from '@wa/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throwError, type Observable } from 'rxjs';
import { toErrorResponse } from './error-response';
import { redactUrl } from './log-redaction';

/**
 * The one place where errors become HTTP answers. Fastify's own error handler (body parsing,
 * hooks) and its not-found handler delegate here too, so every response uses the envelope.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') return this.rpcError(exception);
    const ctx = host.switchToHttp();
    this.reply(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>());
  }

  /** Runner events that could not be recorded go back to the runner, which keeps and retries them. */
  private rpcError(exception: unknown): Observable<never> {
    if (exception instanceof AppError) return throwError(() => exception.toJSON() satisfies RpcErrorPayload);
    const errorId = newId();
    this.logger.error({ err: exception, errorId, msg: 'unexpected error in an RPC handler' });
    return throwError(() => ({ code: 'internal_error', message: 'internal error in the gateway', details: { errorId } }) satisfies RpcErrorPayload);
  }

  reply(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const response = toErrorResponse(exception, String(request.id));
    if (response.unexpected) {
      this.logger.error({ err: exception, requestId: request.id, method: request.method, url: redactUrl(request.url), msg: 'unexpected error' });
    }
    if (reply.sent) return;
    // Set here as well as in the request hook: an error can be answered before that hook ran.
    void reply.status(response.status).headers({ ...response.headers, 'x-request-id': String(request.id) }).type('application/json; charset=utf-8').send(response.body);
  }
}

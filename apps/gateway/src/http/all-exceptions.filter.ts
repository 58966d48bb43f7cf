import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toErrorResponse } from './error-response';

/**
 * The one place where errors become HTTP answers. Fastify's own error handler (body parsing,
 * hooks) and its not-found handler delegate here too, so every response uses the envelope.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    this.reply(exception, ctx.getRequest<FastifyRequest>(), ctx.getResponse<FastifyReply>());
  }

  reply(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    const response = toErrorResponse(exception, String(request.id));
    if (response.unexpected) {
      this.logger.error({ err: exception, requestId: request.id, method: request.method, url: request.url, msg: 'unexpected error' });
    }
    if (reply.sent) return;
    void reply.status(response.status).headers(response.headers).type('application/json; charset=utf-8').send(response.body);
  }
}

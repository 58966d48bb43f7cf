import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { principalOf, type Principal } from '@wa/auth';
import { AppError } from '@wa/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** What every outbox write route takes from the request besides its path and body. */
export interface WriteContext {
  principal: Principal;
  idempotencyKey: string | undefined;
  /** `Prefer: respond-async`: answer 202 as soon as the entry is in the outbox. */
  async: boolean;
  /** The answer's status and `Preference-Applied` header depend on the outcome. */
  reply: FastifyReply;
}

const wantsAsync = (prefer: string | undefined): boolean => prefer !== undefined && /(^|[\s,;])respond-async([\s,;=]|$)/i.test(prefer);

/**
 * The caller, `Idempotency-Key` and `Prefer` of an outbox write. The headers are documented by
 * `ApiHeader` on the route, not by this decorator.
 */
export const Write = createParamDecorator((_data: unknown, ctx: ExecutionContext): WriteContext => {
  const http = ctx.switchToHttp();
  const request = http.getRequest<FastifyRequest>();
  const principal = principalOf(request);
  if (!principal) throw new AppError('unauthorized', 'this route has no authenticated caller');
  return {
    principal,
    idempotencyKey: request.headers['idempotency-key'] as string | undefined,
    async: wantsAsync(request.headers.prefer as string | undefined),
    reply: http.getResponse<FastifyReply>(),
  };
});

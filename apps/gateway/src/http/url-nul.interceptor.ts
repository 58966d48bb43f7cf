import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { AppError } from '@wa/domain';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';

/**
 * PostgreSQL cannot store NUL in text, so a `%00` anywhere in the URL is refused alike on both
 * databases. Interceptors run after the guards: the caller's capability is checked first, as
 * for any other bad value.
 */
@Injectable()
export class UrlNulInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http' && context.switchToHttp().getRequest<FastifyRequest>().url.includes('%00')) {
      throw new AppError('validation_error', 'the URL must not contain NUL characters (%00)', { fields: [{ field: 'url', problems: ['must not contain %00'] }] });
    }
    return next.handle();
  }
}

import { Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { RpcErrorPayload } from '@wa/contracts/runtime';
import { AppError, newId } from '@wa/domain';
import { throwError, type Observable } from 'rxjs';

/**
 * Sends every failure back to the gateway as `{code, message, details}`. Unexpected errors are
 * logged here with an error id and cross the wire as `internal_error` without their message.
 */
@Catch()
export class RpcExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('rpc');

  catch(exception: unknown): Observable<never> {
    if (exception instanceof AppError) return throwError(() => exception.toJSON() satisfies RpcErrorPayload);
    const errorId = newId();
    this.logger.error({ msg: 'unexpected error in RPC handler', errorId, err: exception });
    return throwError(() => ({ code: 'internal_error', message: 'internal error in the session runner', details: { errorId } }) satisfies RpcErrorPayload);
  }
}

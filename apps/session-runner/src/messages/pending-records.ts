import { Injectable, SetMetadata, type BeforeApplicationShutdown, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, switchMap, type Observable } from 'rxjs';

/**
 * A send's records that are still being written after its answer went back: its `relayed` mark,
 * the Signal keys its encryption moved on and the stored message, in one commit, then what an own
 * vote, edit or delete changes. A sync send answers once WhatsApp acknowledged the message, not
 * once that commit is done (on PostgreSQL the commit often ended milliseconds after the ack).
 *
 * So nothing reads the session before them: every command that names the session waits for its
 * pending records first (`PendingRecordsInterceptor`), and a shutdown waits for all of them. An
 * answer of `sent` is never followed by a read that misses the message.
 */
@Injectable()
export class PendingRecords implements BeforeApplicationShutdown {
  private readonly bySession = new Map<string, Set<Promise<void>>>();

  /** `work` must not reject: it handles its own failures. */
  track(sessionId: string, work: Promise<void>): void {
    let pending = this.bySession.get(sessionId);
    if (!pending) this.bySession.set(sessionId, (pending = new Set()));
    const mine = pending;
    mine.add(work);
    void work.finally(() => {
      mine.delete(work);
      if (mine.size === 0 && this.bySession.get(sessionId) === mine) this.bySession.delete(sessionId);
    });
  }

  /** Resolves once the session's records pending now are written; undefined when there are none. */
  settled(sessionId: string): Promise<void> | undefined {
    const pending = this.bySession.get(sessionId);
    return pending?.size ? Promise.all(pending).then(() => undefined) : undefined;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.bySession.values()].flatMap((pending) => [...pending]));
  }
}

const NO_WAIT = 'pendingRecords:noWait';

/** A command that does not wait for the session's pending records (a send: its own come after it). */
export const WithoutWaitingForRecords = (): MethodDecorator => SetMetadata(NO_WAIT, true);

/** Holds each command that names a session until that session's pending records are written. */
@Injectable()
export class PendingRecordsInterceptor implements NestInterceptor {
  constructor(
    private readonly records: PendingRecords,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc' || this.reflector.get<boolean>(NO_WAIT, context.getHandler())) return next.handle();
    const data: unknown = context.switchToRpc().getData();
    const sessionId = data && typeof data === 'object' ? (data as { sessionId?: unknown }).sessionId : undefined;
    const pending = typeof sessionId === 'string' ? this.records.settled(sessionId) : undefined;
    return pending ? from(pending).pipe(switchMap(() => next.handle())) : next.handle();
  }
}

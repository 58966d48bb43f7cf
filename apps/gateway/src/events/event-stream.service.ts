import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { isId, idTime } from '@wa/domain';
import type { ServerResponse } from 'node:http';
import { GatewayConfig } from '../config/gateway.config';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

export interface StreamRequest {
  orgId: string;
  lastEventId?: string;
  types?: ReadonlySet<string>;
  sessionId?: string;
}

const PAGE = 500;

/**
 * One Server-Sent Events stream per client, fed from the database by organization position
 * (gap-free and in commit order), so a stream resumed with `Last-Event-ID` continues exactly
 * after the last event it got, whichever replica recorded the events.
 */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly repo: EventsRepository,
    private readonly events: EventsService,
    private readonly config: GatewayConfig,
  ) {}

  /** Where the stream starts: after the given event, or at the current end for a fresh stream. */
  async startPosition(orgId: string, lastEventId: string | undefined): Promise<number> {
    if (!lastEventId) return this.repo.latestPosition(orgId);
    const known = await this.repo.positionOf(orgId, lastEventId);
    if (known !== undefined) return known;
    // Pruned or from another org: resume from the time encoded in the id rather than skip ahead.
    return isId(lastEventId) ? this.repo.positionBefore(orgId, idTime(lastEventId) + 1) : this.repo.latestPosition(orgId);
  }

  async stream(res: ServerResponse, request: StreamRequest, startAt: number): Promise<void> {
    let cursor = startAt;
    let closed = false;
    let running = false;
    let again = false;

    const write = async (chunk: string): Promise<void> => {
      if (closed) return;
      if (!res.write(chunk)) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
    };

    const pump = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const page = await this.repo.listAfter(request.orgId, cursor, PAGE, { sessionId: request.sessionId, types: request.types });
          for (const e of page) {
            if (closed) return;
            await write(`id: ${e.id}\nevent: ${e.type}\ndata: ${this.events.envelopeJson(e)}\n\n`);
            cursor = e.position;
          }
          if (page.length === PAGE) again = true;
        } while (again && !closed);
      } catch {
        // A failed read is retried by the next poll; the cursor only moved past events written out.
      } finally {
        running = false;
      }
    };

    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      clearInterval(heartbeat);
      unsubscribe();
      this.open.delete(end);
      finish();
    };
    const end = (): void => {
      close();
      res.end();
    };
    const unsubscribe = this.events.onPublished((orgIds) => {
      if (orgIds.has(request.orgId)) void pump();
    });
    const poll = setInterval(() => void pump(), this.config.events.ssePollIntervalMs);
    const heartbeat = setInterval(() => void write(': keep-alive\n\n'), this.config.events.sseHeartbeatMs);
    this.open.add(end);
    res.once('close', close);

    await write('retry: 2000\n\n');
    await pump();
    await done;
  }

  /** Open streams would hold the HTTP server's close forever. */
  onModuleDestroy(): void {
    for (const end of [...this.open]) end();
  }
}

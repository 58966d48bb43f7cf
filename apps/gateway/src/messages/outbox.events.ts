import { Injectable } from '@nestjs/common';
import type { MessageStatusEventData, RunnerEvent, SessionStatusEventData } from '@wa/contracts';
import { OutboxDispatcher } from './outbox.dispatcher';
import { OutboxStore } from './outbox.store';

/**
 * What runner events mean for the outbox: receipts and error acks advance entries (never
 * backwards), and a session that connected gets its waiting entries going at once.
 */
@Injectable()
export class OutboxEvents {
  constructor(
    private readonly store: OutboxStore,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  /**
   * Applies `events` to the outbox and answers, by event id, the outbox entry each
   * `message.status` is about (for messages sent through the API), for the public event.
   */
  async apply(events: RunnerEvent[]): Promise<Map<string, string>> {
    const moved: string[] = [];
    const outboxIds = new Map<string, string>();
    let connected = false;
    for (const e of events) {
      if (e.type === 'message.status') {
        const data = e.data as MessageStatusEventData;
        const ids = await this.store.advance(e.sessionId, data.messageId, data.status, data.status === 'failed' ? (data.error ?? 'failed') : null, Date.now());
        moved.push(...ids);
        const outboxId = ids[0] ?? (await this.store.idForWaMessage(e.orgId, e.sessionId, data.messageId));
        if (outboxId) outboxIds.set(e.id, outboxId);
      } else if (e.type === 'session.status' && (e.data as SessionStatusEventData).status === 'connected') {
        await this.store.wakeSession(e.sessionId, Date.now());
        connected = true;
      }
    }
    this.dispatcher.settled(moved);
    if (connected) this.dispatcher.kick();
    return outboxIds;
  }
}

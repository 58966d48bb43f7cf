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

  async apply(events: RunnerEvent[]): Promise<void> {
    const moved: string[] = [];
    let connected = false;
    for (const e of events) {
      if (e.type === 'message.status') {
        const data = e.data as MessageStatusEventData;
        moved.push(...(await this.store.advance(e.sessionId, data.messageId, data.status, data.status === 'failed' ? (data.error ?? 'failed') : null, Date.now())));
      } else if (e.type === 'session.status' && (e.data as SessionStatusEventData).status === 'connected') {
        await this.store.wakeSession(e.sessionId, Date.now());
        connected = true;
      }
    }
    this.dispatcher.settled(moved);
    if (connected) this.dispatcher.kick();
  }
}

import { Injectable } from '@nestjs/common';
import type { MessageStatusEventData, RunnerEvent, SessionStatusEventData } from '@wa/contracts';
import { OutboxDispatcher } from './outbox.dispatcher';
import { OutboxStore } from './outbox.store';

/** Messages whose statuses are applied at once: a few, so that a large batch leaves the pool to the requests. */
const STATUS_WORKERS = 8;

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
   * `message.status` is about (for messages sent through the API), for the public event. The
   * statuses of one message are applied in their order (an error ack and a receipt do not
   * commute); different messages' at once, a few at a time (one batch of the runner carries a
   * hundred statuses and more, which one by one took a round trip or, on SQLite, a commit each).
   */
  async apply(events: RunnerEvent[]): Promise<Map<string, string>> {
    const moved: string[] = [];
    const outboxIds = new Map<string, string>();
    const byMessage = new Map<string, RunnerEvent[]>();
    let connected = false;
    for (const e of events) {
      if (e.type === 'message.status') {
        const key = `${e.sessionId}|${(e.data as MessageStatusEventData).messageId}`;
        byMessage.set(key, [...(byMessage.get(key) ?? []), e]);
      } else if (e.type === 'session.status' && (e.data as SessionStatusEventData).status === 'connected') {
        await this.store.wakeSession(e.sessionId, Date.now());
        connected = true;
      }
    }
    const queue = [...byMessage.values()];
    const worker = async (): Promise<void> => {
      for (let statuses = queue.shift(); statuses; statuses = queue.shift()) {
        for (const e of statuses) {
          const data = e.data as MessageStatusEventData;
          const advanced = await this.store.advance(e.orgId, e.sessionId, data.messageId, data.status, data.status === 'failed' ? (data.error ?? 'failed') : null, Date.now());
          moved.push(...advanced.moved);
          if (advanced.entry) outboxIds.set(e.id, advanced.entry);
        }
      }
    };
    // A failure fails the batch (the runner hands it over again; applying a status twice moves
    // nothing), once every worker stopped.
    const results = await Promise.allSettled(Array.from({ length: Math.min(STATUS_WORKERS, queue.length) }, worker));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.dispatcher.settled(moved);
    if (connected) this.dispatcher.kick();
    return outboxIds;
  }
}

import { Injectable } from '@nestjs/common';
import type { MessageStatusEventData, RunnerEvent, SessionStatusEventData } from '@wa/contracts';
import { OutboxDispatcher } from './outbox.dispatcher';
import { OutboxStore, type StatusToApply } from './outbox.store';

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
   * `message.status` is about (for messages sent through the API), for the public event. A batch
   * of the runner carries a hundred statuses and more, which one by one took a round trip (or, on
   * SQLite, a commit) each: they go in rounds instead, the first status of every message in one
   * statement, then the second, and so on, so that each message's statuses keep their order (an
   * error ack and a receipt do not commute).
   */
  async apply(events: RunnerEvent[]): Promise<Map<string, string>> {
    const moved: string[] = [];
    const outboxIds = new Map<string, string>();
    const byMessage = new Map<string, RunnerEvent[]>();
    let connected = false;
    for (const e of events) {
      if (e.type === 'message.status') {
        const key = `${e.sessionId}|${(e.data as MessageStatusEventData).messageId}`;
        const chain = byMessage.get(key);
        if (chain) chain.push(e);
        else byMessage.set(key, [e]);
      } else if (e.type === 'session.status' && (e.data as SessionStatusEventData).status === 'connected') {
        await this.store.wakeSession(e.sessionId, Date.now());
        connected = true;
      }
    }
    const chains = [...byMessage.values()];
    for (let round = 0; ; round++) {
      const batch = chains.filter((c) => c.length > round).map((c) => c[round]!);
      if (batch.length === 0) break;
      const results = await this.store.advanceMany(batch.map(toApply), Date.now());
      results.forEach((r, i) => {
        moved.push(...r.moved);
        if (r.entry) outboxIds.set(batch[i]!.id, r.entry);
      });
    }
    this.dispatcher.settled(moved);
    if (connected) this.dispatcher.kick();
    return outboxIds;
  }
}

function toApply(e: RunnerEvent): StatusToApply {
  const data = e.data as MessageStatusEventData;
  return { orgId: e.orgId, sessionId: e.sessionId, waMessageId: data.messageId, status: data.status, error: data.status === 'failed' ? (data.error ?? 'failed') : null };
}

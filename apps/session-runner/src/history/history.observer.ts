import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { transactionInTurn, type SessionRef } from '@wa/contracts/runtime';
import type { WaConnection, WaHistoryBatch } from '@wa/wa-adapter';
import { DataSource } from 'typeorm';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { SessionManager } from '../sessions/session-manager';
import { jidPair } from '../sessions/session-events.mapper';
import { HistoryRequests } from './history.requests';

/**
 * Stores the older messages the phone sends (once each: a message stored already is left as it
 * is) and records one `history.received` event for the answer, in one transaction. Old messages
 * are not news: none of them becomes a `message.received`, which would re-announce, perhaps
 * years later, what receivers either saw when it happened or never needed.
 */
@Injectable()
export class HistoryObserver implements OnModuleInit {
  private readonly logger = new Logger(HistoryObserver.name);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly events: EventOutbox,
    private readonly dataSource: DataSource,
    private readonly requests: HistoryRequests,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) => this.observe(ref, connection));
  }

  private observe(ref: SessionRef, connection: WaConnection): () => void {
    return connection.on('history', (batch) => {
      if (!this.sessions.owns(ref.sessionId)) return;
      this.record(ref, batch).catch((err: unknown) => this.logger.error({ msg: 'failed to store a history answer', sessionId: ref.sessionId, error: (err as Error).message }));
    });
  }

  private async record(ref: SessionRef, batch: WaHistoryBatch): Promise<void> {
    const { sessionId } = ref;
    const asked = this.requests.take(sessionId, batch.requestId);
    const chat = batch.chatJid ?? asked;
    if (!chat) return;
    if (batch.chatJidAlt) await this.store.saveLidMapping(sessionId, chat.endsWith('@lid') ? { lid: chat, pn: batch.chatJidAlt } : { lid: batch.chatJidAlt, pn: chat });
    const alternate = batch.chatJidAlt ?? (await this.store.alternateJid(sessionId, chat));
    const times = batch.messages.map((m) => m.timestampMs);
    await transactionInTurn(this.dataSource, async (manager) => {
      let stored = 0;
      for (const m of batch.messages) {
        if (await this.store.saveIfNew({ sessionId, key: m.key, type: m.type, timestampMs: m.timestampMs, raw: m.raw }, manager)) stored++;
      }
      await this.events.record(
        ref.orgId,
        sessionId,
        'history.received',
        {
          ...(batch.requestId ? { requestId: batch.requestId } : {}),
          chat: jidPair(chat, alternate),
          count: batch.messages.length,
          stored,
          ...(times.length ? { oldest: Math.min(...times), newest: Math.max(...times) } : {}),
          timestamp: Date.now(),
        },
        manager,
      );
    });
    this.events.wake();
  }
}

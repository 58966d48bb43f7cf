import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { SessionRef } from '@wa/contracts/runtime';
import type { WaBlocklistUpdate, WaConnection } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { SessionManager } from '../sessions/session-manager';

/** Turns WhatsApp's blocklist notifications (from any of our devices or the phone) into events. */
@Injectable()
export class ContactsObserver implements OnModuleInit {
  private readonly logger = new Logger(ContactsObserver.name);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly events: EventOutbox,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) => this.observe(ref, connection));
  }

  private observe(ref: SessionRef, connection: WaConnection): () => void {
    return connection.on('blocklist', (update) => {
      if (!this.sessions.owns(ref.sessionId)) return;
      this.record(ref, update).catch((err: unknown) => this.logger.error({ msg: 'failed to record a blocklist change', sessionId: ref.sessionId, error: (err as Error).message }));
    });
  }

  private async record(ref: SessionRef, update: WaBlocklistUpdate): Promise<void> {
    const timestamp = Date.now();
    for (const jid of update.jids) {
      const contact = await this.store.pairOf(ref.sessionId, jid);
      await this.events.record(ref.orgId, ref.sessionId, update.blocked ? 'contact.blocked' : 'contact.unblocked', { contact, timestamp });
    }
  }
}

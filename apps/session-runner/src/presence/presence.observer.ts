import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { SessionRef } from '@wa/contracts/runtime';
import type { WaConnection, WaPresenceUpdate } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { SessionManager } from '../sessions/session-manager';

/** Turns the presence and chat states WhatsApp forwards into `presence.update` events. */
@Injectable()
export class PresenceObserver implements OnModuleInit {
  private readonly logger = new Logger(PresenceObserver.name);

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
    return connection.on('presence', (update) => {
      if (!this.sessions.owns(ref.sessionId)) return;
      this.record(ref, update).catch((err: unknown) => this.logger.error({ msg: 'failed to record a presence update', sessionId: ref.sessionId, error: (err as Error).message }));
    });
  }

  private async record(ref: SessionRef, u: WaPresenceUpdate): Promise<void> {
    const pair = async (jid: string) => (jid.endsWith('@g.us') ? { jid } : await this.store.pairOf(ref.sessionId, jid));
    await this.events.record(ref.orgId, ref.sessionId, 'presence.update', {
      chat: await pair(u.chatJid),
      contact: await pair(u.participant),
      presence: u.presence,
      ...(u.lastSeenMs ? { lastSeen: u.lastSeenMs } : {}),
      timestamp: Date.now(),
    });
  }
}

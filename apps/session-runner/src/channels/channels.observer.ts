import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { SessionRef } from '@wa/contracts/runtime';
import type { WaConnection, WaIncomingMessage } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import { ConnectionObservers } from '../sessions/connection-observers';
import { publicMessageType } from '../sessions/session-events.mapper';

/**
 * A post in a followed channel arrives as a plaintext message from the channel's jid: besides
 * the `message.received` every message gets (and the stored copy), a `channel.message` event
 * carries its server id, which reactions name. Recorded in arrival order per session.
 */
@Injectable()
export class ChannelsObserver implements OnModuleInit {
  private readonly logger = new Logger(ChannelsObserver.name);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly events: EventOutbox,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) => this.observe(ref, connection));
  }

  private observe(ref: SessionRef, connection: WaConnection): () => void {
    let turn = Promise.resolve();
    return connection.on('message', (m) => {
      if (!m.key.chatJid.endsWith('@newsletter')) return;
      turn = turn.then(() => this.onPost(ref, m)).catch((err: unknown) => this.logger.error({ msg: 'failed to record a channel post', sessionId: ref.sessionId, error: (err as Error).message }));
    });
  }

  private async onPost(ref: SessionRef, m: WaIncomingMessage): Promise<void> {
    await this.events.record(ref.orgId, ref.sessionId, 'channel.message', {
      channel: m.key.chatJid,
      messageId: m.key.id,
      ...(m.serverId ? { serverId: m.serverId } : {}),
      type: publicMessageType(m.type),
      ...(m.text ? { text: m.text } : {}),
      timestamp: m.timestampMs,
    });
  }
}

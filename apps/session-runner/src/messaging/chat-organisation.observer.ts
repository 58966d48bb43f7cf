import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { jidPair, STATUS_JID, type SessionRef } from '@wa/contracts/runtime';
import { normalizeJid } from '@wa/domain';
import type { WaChatUpdate, WaConnection, WaContactName, WaIncomingMessage, WaLabel, WaLabelAssociation, WaStarUpdate } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { publicMessageType } from '../sessions/session-events.mapper';
import { ChatOrganisation } from './chat-organisation.service';
import { ChatStateStore } from './chat-state.store';
import { LabelStore } from './label.store';

/**
 * Records what the account's app state tells every device: archive, pin, mute, read state and
 * deletions of chats, stars, labels and contacts' saved names, whether this session or the phone
 * made them. One session's changes are recorded one at a time, in the order Baileys reported
 * them, so `chat.updated` and `contact.updated` events keep that order.
 */
@Injectable()
export class ChatOrganisationObserver implements OnModuleInit {
  private readonly logger = new Logger(ChatOrganisationObserver.name);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly states: ChatStateStore,
    private readonly store: MessageStore,
    private readonly events: EventOutbox,
    private readonly chats: ChatOrganisation,
    private readonly labels: LabelStore,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) => this.observe(ref, connection));
  }

  private observe(ref: SessionRef, connection: WaConnection): () => void {
    let turn = Promise.resolve();
    const inOrder = (work: () => Promise<void>): void => {
      turn = turn.then(work).catch((err: unknown) => this.logger.error({ msg: 'failed to record chat organisation', sessionId: ref.sessionId, error: (err as Error).message }));
    };
    const offs = [
      connection.on('chatUpdate', (u) => inOrder(() => this.onChatUpdate(ref, u))),
      connection.on('messageStar', (u) => inOrder(() => this.onStar(ref, u))),
      connection.on('labelEdit', (l) => inOrder(() => this.onLabelEdit(ref, l))),
      connection.on('labelAssociation', (a) => inOrder(() => this.onLabelAssociation(ref, a))),
      connection.on('contactName', (c) => inOrder(() => this.onContactName(ref, c))),
      connection.on('message', (m) => {
        if (m.key.chatJid === STATUS_JID && !m.key.fromMe) inOrder(() => this.onStatus(ref, m));
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  private async onChatUpdate(ref: SessionRef, u: WaChatUpdate): Promise<void> {
    const chat = normalizeJid(u.chatJid);
    if (u.deleted) await this.chats.forgetChat(ref.sessionId, chat, false);
    else await this.states.apply(ref.sessionId, chat, { archived: u.archived, pinnedAt: u.pinnedAt, mutedUntil: u.mutedUntil, unread: u.unread }, u.timestampMs);
    await this.events.record(ref.orgId, ref.sessionId, 'chat.updated', {
      chat: await this.store.pairOf(ref.sessionId, chat),
      ...(u.archived !== undefined ? { archived: u.archived } : {}),
      ...(u.pinnedAt !== undefined ? { pinned: u.pinnedAt !== null } : {}),
      ...(u.mutedUntil !== undefined ? { mutedUntil: u.mutedUntil } : {}),
      ...(u.unread !== undefined ? { unread: u.unread } : {}),
      ...(u.deleted ? { deleted: true } : {}),
      timestamp: u.timestampMs,
    });
  }

  private async onStar(ref: SessionRef, u: WaStarUpdate): Promise<void> {
    const chat = normalizeJid(u.key.chatJid);
    await this.events.record(ref.orgId, ref.sessionId, 'message.starred', {
      messageId: u.key.id,
      chat: await this.store.pairOf(ref.sessionId, chat),
      fromMe: u.key.fromMe,
      starred: u.starred,
      timestamp: u.timestampMs,
    });
  }

  private async onLabelEdit(ref: SessionRef, l: WaLabel & { timestampMs: number }): Promise<void> {
    const saved = await this.labels.save(ref.sessionId, l, l.timestampMs);
    await this.events.record(ref.orgId, ref.sessionId, 'label.updated', {
      labelId: l.id,
      ...(saved.deleted ? { deleted: true } : { name: saved.name, color: saved.color }),
      timestamp: l.timestampMs,
    });
  }

  private async onLabelAssociation(ref: SessionRef, a: WaLabelAssociation): Promise<void> {
    const chat = normalizeJid(a.chatJid);
    await this.labels.associate(ref.sessionId, a.labelId, chat, a.messageId ?? '', a.labeled);
    await this.events.record(ref.orgId, ref.sessionId, 'label.association', {
      labelId: a.labelId,
      chat: await this.store.pairOf(ref.sessionId, chat),
      ...(a.messageId ? { messageId: a.messageId } : {}),
      labeled: a.labeled,
      timestamp: a.timestampMs,
    });
  }

  private async onContactName(ref: SessionRef, c: WaContactName): Promise<void> {
    // One id per contact: the pair the app-state action names is recorded (merging rows kept
    // under the LID), and the name is saved under the contact's canonical id.
    const named = normalizeJid(c.jid);
    const other = c.lid ?? c.pn;
    const forms = jidPair(named, other ? normalizeJid(other) : undefined);
    if (forms.pn && forms.lid) await this.store.saveLidMapping(ref.sessionId, { pn: forms.pn, lid: forms.lid });
    const jid = await this.store.canonicalJid(ref.sessionId, named);
    await this.store.saveSavedName(ref.sessionId, jid, c.name);
    await this.events.record(ref.orgId, ref.sessionId, 'contact.updated', {
      contact: await this.store.pairOf(ref.sessionId, jid),
      name: c.name,
      timestamp: c.timestampMs,
    });
  }

  /** A contact's status update (Baileys delivers it as a message of `status@broadcast`). */
  private async onStatus(ref: SessionRef, m: WaIncomingMessage): Promise<void> {
    const author = normalizeJid(m.key.participant ?? m.participantAlt ?? '');
    if (!author) return;
    await this.events.record(ref.orgId, ref.sessionId, 'status.received', {
      messageId: m.key.id,
      sender: await this.store.pairOf(ref.sessionId, author, m.participantAlt),
      type: publicMessageType(m.type),
      ...(m.text ? { text: m.text } : {}),
      timestamp: m.timestampMs,
    });
  }
}

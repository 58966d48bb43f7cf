import { Injectable } from '@nestjs/common';
import type { ContactExistsPayload, ContactExistsResult, MarkReadPayload, MarkReadResult, PresencePayload, PresenceResult } from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import type { WaPresence } from '@wa/wa-adapter';
import { MessageStore } from '../messages/message-store';
import { SessionManager } from '../sessions/session-manager';
import { toJid } from './jid.resolve';
import { MessageReader } from './message-reader.service';

const PRESENCE: Record<PresencePayload['presence'], WaPresence> = { typing: 'composing', recording: 'recording', paused: 'paused' };

/** Read receipts, chat states and number checks: live-connection actions that are not outbox entries. */
@Injectable()
export class ChatActions {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly reader: MessageReader,
  ) {}

  async markRead(p: MarkReadPayload): Promise<MarkReadResult> {
    await this.sessions.requireSession(p);
    const connection = this.sessions.connected(p);
    const chats = await this.reader.formsOf(p.sessionId, toJid(p.chat, 'chat'));
    const ids = Array.isArray(p.messageIds) ? p.messageIds.filter((id) => typeof id === 'string' && id) : undefined;
    const rows = await this.store.unread(p.sessionId, chats, ids);
    if (ids?.length && !rows.length) throw new AppError('not_found', 'none of these messages was received in this chat', { messageIds: ids });
    if (!rows.length) return { read: 0 };
    await connection.read(rows.map((r) => ({ chatJid: r.chatJid, id: r.messageId, fromMe: false, ...(r.participant ? { participant: r.participant } : {}) })));
    await this.store.markRead(p.sessionId, rows, Date.now());
    return { read: rows.length };
  }

  async presence(p: PresencePayload): Promise<PresenceResult> {
    await this.sessions.requireSession(p);
    // An own-property lookup: `constructor` or `toString` from a caller must not find Object's members.
    const presence = Object.hasOwn(PRESENCE, p.presence) ? PRESENCE[p.presence] : undefined;
    if (!presence) throw new AppError('validation_error', 'presence must be typing, recording or paused', { presence: p.presence });
    const connection = this.sessions.connected(p);
    await connection.sendPresence(presence, toJid(p.chat, 'chat'));
    return { sent: true };
  }

  async contactExists(p: ContactExistsPayload): Promise<ContactExistsResult> {
    await this.sessions.requireSession(p);
    const connection = this.sessions.connected(p);
    const check = await connection.onWhatsApp(String(p.phone ?? ''));
    if (check.jid && check.lid) await this.store.saveLidMapping(p.sessionId, { lid: check.lid, pn: check.jid });
    return { phone: p.phone, exists: check.exists, ...(check.jid ? { jid: check.jid } : {}), ...(check.lid ? { lid: check.lid } : {}) };
  }
}

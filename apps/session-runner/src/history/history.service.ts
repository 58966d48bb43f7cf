import { Injectable } from '@nestjs/common';
import { HISTORY_FETCH_MAX, type HistoryFetchPayload, type HistoryFetchResult } from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import { MessageStore } from '../messages/message-store';
import { toJid } from '../messaging/jid.resolve';
import { SessionManager } from '../sessions/session-manager';
import { HistoryRequests } from './history.requests';

/**
 * Asks the account's phone for messages of a chat older than the oldest one stored. WhatsApp
 * keeps no history on its servers: a linked device gets what arrives while it is linked, and
 * the phone, which holds every chat, sends older messages when asked.
 */
@Injectable()
export class HistoryService {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly requests: HistoryRequests,
  ) {}

  async fetch(p: HistoryFetchPayload): Promise<HistoryFetchResult> {
    await this.sessions.requireSession(p);
    if (!Number.isInteger(p.count) || p.count < 1 || p.count > HISTORY_FETCH_MAX) {
      throw new AppError('validation_error', `count must be an integer from 1 to ${HISTORY_FETCH_MAX}`, { count: p.count });
    }
    const chat = toJid(p.chat, 'chat');
    const alternate = await this.store.alternateJid(p.sessionId, chat);
    // The phone answers relative to a message both sides have: without one, nothing to ask from.
    const oldest = await this.store.oldestInChat(p.sessionId, alternate ? [chat, alternate] : [chat]);
    if (!oldest) throw new AppError('not_found', 'no message of this chat is stored, so there is nothing to ask older messages of', { chat });
    const connection = this.sessions.connected(p);
    const requestId = await connection.fetchHistory(
      { chatJid: oldest.chatJid, id: oldest.messageId, fromMe: oldest.fromMe, ...(oldest.participant ? { participant: oldest.participant } : {}) },
      oldest.timestampMs,
      p.count,
    );
    this.requests.remember(p.sessionId, requestId, chat);
    return { requestId, chat, count: p.count, before: { messageId: oldest.messageId, timestamp: oldest.timestampMs } };
  }
}

import { Injectable } from '@nestjs/common';
import type {
  ChatMessagesPayload,
  ChatSummary,
  ContactSummary,
  MessageGetPayload,
  Page,
  PagePayload,
  StoredMessage,
} from '@wa/contracts';
import { AppError, isGroupJid, isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';
import { decodeStoredMessage, type WaMe } from '@wa/wa-adapter';
import { MessageStore } from '../messages/message-store';
import type { WaMessageEntity } from '../messages/wa-message.entity';
import { publicMessageType } from '../sessions/session-events.mapper';
import { SessionManager } from '../sessions/session-manager';
import { toJid } from './jid.resolve';
import { decodeCursor, encodeCursor, pageLimit } from './page.cursor';

/**
 * Answers reads from the message store only, so they work while the session is disconnected.
 * A contact's chat can be stored under its phone jid (what we sent to) and its LID (what the
 * server delivered from); both forms are read as one chat.
 */
@Injectable()
export class MessageReader {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
  ) {}

  async chats(p: PagePayload): Promise<Page<ChatSummary>> {
    await this.sessions.requireSession(p);
    const limit = pageLimit(p.limit);
    const after = decodeCursor<{ t: number; j: string }>(p.cursor, { t: 'number', j: 'string' });
    const twins = await this.twins(p.sessionId);
    const merged = new Map<string, { jid: string; forms: Set<string>; lastMessageAt: number }>();
    for (const head of await this.store.chatHeads(p.sessionId)) {
      const jid = twins.canonical(head.chatJid);
      const chat = merged.get(jid) ?? { jid, forms: new Set<string>(), lastMessageAt: 0 };
      chat.forms.add(head.chatJid);
      chat.lastMessageAt = Math.max(chat.lastMessageAt, head.timestampMs);
      merged.set(jid, chat);
    }
    const ordered = [...merged.values()]
      .sort((a, b) => b.lastMessageAt - a.lastMessageAt || (a.jid < b.jid ? 1 : a.jid > b.jid ? -1 : 0))
      .filter((c) => !after || c.lastMessageAt < after.t || (c.lastMessageAt === after.t && c.jid < after.j));
    const page = ordered.slice(0, limit);
    const names = await this.store.names(p.sessionId);
    const data: ChatSummary[] = [];
    for (const chat of page) {
      const [last] = await this.store.chatPage(p.sessionId, [...chat.forms], 1);
      const pair = twins.pair(chat.jid);
      const name = names.get(chat.jid) ?? (pair.lid ? names.get(pair.lid) : undefined);
      data.push({
        jid: chat.jid,
        ...pair,
        ...(name ? { name } : {}),
        isGroup: isGroupJid(chat.jid),
        lastMessageAt: chat.lastMessageAt,
        lastMessageId: last?.messageId ?? '',
      });
    }
    const tail = page[page.length - 1];
    return { data, nextCursor: ordered.length > limit && tail ? encodeCursor({ t: tail.lastMessageAt, j: tail.jid }) : '' };
  }

  async chatMessages(p: ChatMessagesPayload): Promise<Page<StoredMessage>> {
    await this.sessions.requireSession(p);
    const limit = pageLimit(p.limit);
    const before = decodeCursor<{ t: number; id: string }>(p.cursor, { t: 'number', id: 'string' });
    const forms = await this.formsOf(p.sessionId, toJid(p.chat, 'chat'));
    const rows = await this.store.chatPage(p.sessionId, forms, limit + 1, before ? { timestampMs: before.t, messageId: before.id } : undefined);
    const page = rows.slice(0, limit);
    const me = await this.sessions.me(p.sessionId);
    const data = await Promise.all(page.map((row) => this.toStored(p.sessionId, row, me)));
    const tail = page[page.length - 1];
    return { data, nextCursor: rows.length > limit && tail ? encodeCursor({ t: tail.timestampMs, id: tail.messageId }) : '' };
  }

  async message(p: MessageGetPayload): Promise<StoredMessage> {
    await this.sessions.requireSession(p);
    if (typeof p.id !== 'string' || !p.id) throw new AppError('validation_error', 'id is required');
    const chats = p.chat ? await this.formsOf(p.sessionId, toJid(p.chat, 'chat')) : undefined;
    const row = await this.store.find(p.sessionId, p.id, chats ? { chats } : {});
    if (!row) throw new AppError('not_found', 'message not found', { id: p.id });
    return this.toStored(p.sessionId, row, await this.sessions.me(p.sessionId));
  }

  async contacts(p: PagePayload): Promise<Page<ContactSummary>> {
    await this.sessions.requireSession(p);
    const limit = pageLimit(p.limit);
    const after = decodeCursor<{ j: string }>(p.cursor, { j: 'string' });
    const twins = await this.twins(p.sessionId);
    const me = await this.sessions.me(p.sessionId);
    const own = new Set([me?.jid, me?.lid].filter((j): j is string => Boolean(j)).map(normalizeJid));
    const names = await this.store.names(p.sessionId);
    const seen = new Set<string>();
    for (const jid of [...(await this.store.correspondents(p.sessionId)), ...names.keys(), ...twins.all()]) {
      const j = normalizeJid(jid);
      if (!(isPhoneJid(j) || isLidJid(j)) || own.has(j)) continue;
      seen.add(twins.canonical(j));
    }
    const ordered = [...seen].filter((j) => !own.has(j)).sort().filter((j) => !after || j > after.j);
    const page = ordered.slice(0, limit);
    const data = page.map((jid) => {
      const pair = twins.pair(jid);
      const name = names.get(jid) ?? (pair.lid ? names.get(pair.lid) : undefined) ?? (pair.pn ? names.get(pair.pn) : undefined);
      return { jid, ...pair, ...(name ? { name } : {}) };
    });
    const tail = page[page.length - 1];
    return { data, nextCursor: ordered.length > limit && tail ? encodeCursor({ j: tail }) : '' };
  }

  /** A jid and its LID/phone twin, as the store knows them. */
  async formsOf(sessionId: string, jid: string): Promise<string[]> {
    const alt = await this.store.alternateJid(sessionId, jid);
    return alt ? [jid, alt] : [jid];
  }

  private async toStored(sessionId: string, row: WaMessageEntity, me: WaMe | undefined): Promise<StoredMessage> {
    const decoded = await decodeStoredMessage(Buffer.from(row.raw, 'base64'));
    const stored: StoredMessage = {
      id: row.messageId,
      chat: row.chatJid,
      sender: row.fromMe ? (me?.jid ?? '') : normalizeJid(row.participant ?? row.chatJid),
      fromMe: row.fromMe,
      timestamp: row.timestampMs,
      type: publicMessageType(decoded.type === 'unknown' ? row.type : decoded.type),
      content: row.deletedAt !== null ? {} : withEdit(decoded.type, decoded.content, row.editedText),
      ...(row.fromMe && row.status ? { status: row.status as StoredMessage['status'] } : {}),
      ...(row.editedAt !== null ? { editedAt: row.editedAt } : {}),
      ...(row.deletedAt !== null ? { deletedAt: row.deletedAt } : {}),
    };
    if (decoded.poll && row.deletedAt === null) {
      const votes = await this.store.votesOf(sessionId, row.messageId);
      stored.poll = {
        ...decoded.poll,
        tally: decoded.poll.options.map((option) => {
          const voters = votes.filter((v) => v.selected.includes(option)).map((v) => v.voter);
          return { option, votes: voters.length, voters };
        }),
      };
    }
    return stored;
  }

  private async twins(sessionId: string) {
    const mappings = await this.store.lidMappings(sessionId);
    const pnOf = new Map(mappings.map((m) => [m.lid, m.pn]));
    const lidOf = new Map(mappings.map((m) => [m.pn, m.lid]));
    return {
      /** The phone-number form when known: what callers send to. */
      canonical: (jid: string): string => (isLidJid(jid) ? (pnOf.get(jid) ?? jid) : jid),
      pair: (jid: string): { pn?: string; lid?: string } => {
        if (isLidJid(jid)) return { lid: jid, ...(pnOf.get(jid) ? { pn: pnOf.get(jid) } : {}) };
        if (isPhoneJid(jid)) return { pn: jid, ...(lidOf.get(jid) ? { lid: lidOf.get(jid) } : {}) };
        return {};
      },
      all: (): string[] => mappings.flatMap((m) => [m.pn, m.lid]),
    };
  }
}

/** An edit replaces the text of a text message and the caption of a media message. */
function withEdit(type: string, content: Record<string, unknown>, editedText: string | null): Record<string, unknown> {
  if (editedText === null) return content;
  return { ...content, [type === 'text' ? 'text' : 'caption']: editedText };
}

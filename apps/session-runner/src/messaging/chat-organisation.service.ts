import { Injectable } from '@nestjs/common';
import type {
  ChatListPayload,
  ChatModifyPayload,
  ChatRefPayload,
  ChatState,
  ChatSummary,
  MessageStarPayload,
  MessageStarResult,
  Page,
} from '@wa/contracts/runtime';
import { AppError, isGroupJid, isLidJid } from '@wa/domain';
import type { WaChatChange, WaLastMessage } from '@wa/wa-adapter';
import { EventOutbox } from '../events/event-outbox';
import type { ChatStateRow } from '../messages/list-reads';
import { MessageStore } from '../messages/message-store';
import { jidPair } from '../sessions/session-events.mapper';
import { SessionManager } from '../sessions/session-manager';
import { ChatStateStore, toChatState, type ChatStateFilter } from './chat-state.store';
import { LabelStore } from './label.store';
import { toJid } from './jid.resolve';
import { MessageReader } from './message-reader.service';
import { decodeCursor, encodeCursor, pageLimit } from './page.cursor';

/** Pages of the plain chat list a filtered read may step through before it answers shorter. */
const FILTER_SCAN_PAGES = 20;

/**
 * WhatsApp refuses an app-state write before the phone shared the account's sync keys (Baileys:
 * "App state key not present", 400); anything else from the server is passed on as it is.
 */
export function fromWhatsApp(err: unknown): never {
  const boom = err as { output?: { statusCode?: number }; message?: string };
  if (boom.output?.statusCode === 400 || /app ?state key/i.test(boom.message ?? '')) {
    throw new AppError('conflict', "the phone has not shared the account's app-state keys yet; try again in a moment", { whatsapp: 'app_state_key_missing' });
  }
  throw err;
}

/**
 * Archive, pin, mute, read state, deletion and stars: writes to the account's app state through
 * the live connection, and the chat list read with that state. What Baileys reports back (ours
 * and the phone's changes alike) is recorded by `ChatOrganisationObserver`; the writes here also
 * record the new state at once so the answer and the next read agree.
 */
@Injectable()
export class ChatOrganisation {
  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly reader: MessageReader,
    private readonly states: ChatStateStore,
    private readonly events: EventOutbox,
    private readonly labels: LabelStore,
  ) {}

  async modify(p: ChatModifyPayload): Promise<ChatState> {
    await this.sessions.requireSession(p);
    const chat = toJid(p.chat, 'chat');
    const changes: WaChatChange[] = [];
    for (const name of ['archived', 'pinned', 'unread'] as const) {
      const value = p[name];
      if (value === undefined) continue;
      if (typeof value !== 'boolean') throw new AppError('validation_error', `${name} must be a boolean`, { [name]: value });
      changes.push({ [name]: value } as WaChatChange);
    }
    if (p.mutedUntil !== undefined) {
      if (p.mutedUntil !== null && (!Number.isInteger(p.mutedUntil) || p.mutedUntil < -1)) throw new AppError('validation_error', 'mutedUntil must be Unix ms, -1 or null', { mutedUntil: p.mutedUntil });
      changes.push({ mutedUntil: p.mutedUntil });
    }
    if (!changes.length) throw new AppError('validation_error', 'give archived, pinned, mutedUntil or unread');
    const connection = this.sessions.connected(p);
    const last = await this.lastMessage(p.sessionId, chat);
    for (const change of changes) {
      await connection.modifyChat(chat, change, last).catch(fromWhatsApp);
      await this.states.apply(p.sessionId, chat, toStateChange(change), Date.now());
    }
    return this.stateOf(p.sessionId, chat);
  }

  async delete(p: ChatRefPayload): Promise<Record<string, never>> {
    await this.sessions.requireSession(p);
    const chat = toJid(p.chat, 'chat');
    const connection = this.sessions.connected(p);
    await connection.modifyChat(chat, { deleted: true }, await this.lastMessage(p.sessionId, chat)).catch(fromWhatsApp);
    await this.forgetChat(p.sessionId, chat, false);
    return {};
  }

  /** Baileys does not report a clear it reads from app state, so the event comes from here. */
  async clear(p: ChatRefPayload): Promise<Record<string, never>> {
    await this.sessions.requireSession(p);
    const chat = toJid(p.chat, 'chat');
    const connection = this.sessions.connected(p);
    await connection.modifyChat(chat, { cleared: true }, await this.lastMessage(p.sessionId, chat)).catch(fromWhatsApp);
    await this.forgetChat(p.sessionId, chat, true);
    await this.events.record(p.orgId, p.sessionId, 'chat.updated', {
      chat: await this.store.pairOf(p.sessionId, chat),
      cleared: true,
      timestamp: Date.now(),
    });
    return {};
  }

  async star(p: MessageStarPayload): Promise<MessageStarResult> {
    await this.sessions.requireSession(p);
    if (typeof p.starred !== 'boolean') throw new AppError('validation_error', 'starred must be a boolean', { starred: p.starred });
    const chats = p.chat ? await this.reader.formsOf(p.sessionId, toJid(p.chat, 'chat')) : undefined;
    const row = await this.store.find(p.sessionId, String(p.id ?? ''), chats ? { chats } : {});
    if (!row) throw new AppError('not_found', 'no such message in this session', { id: p.id });
    const connection = this.sessions.connected(p);
    await connection.starMessage({ chatJid: row.chatJid, id: row.messageId, fromMe: row.fromMe }, p.starred).catch(fromWhatsApp);
    return { messageId: row.messageId, chat: row.chatJid, starred: p.starred };
  }

  /** The chat list with each chat's organisation, filtered by it when asked. */
  async list(p: ChatListPayload): Promise<Page<ChatSummary>> {
    const filter: ChatStateFilter = {
      ...(p.archived !== undefined ? { archived: p.archived } : {}),
      ...(p.pinned !== undefined ? { pinned: p.pinned } : {}),
      ...(p.unread !== undefined ? { unread: p.unread } : {}),
    };
    for (const [name, value] of Object.entries(filter)) {
      if (typeof value !== 'boolean') throw new AppError('validation_error', `${name} must be true or false`, { [name]: value });
    }
    if (p.label !== undefined && (typeof p.label !== 'string' || !p.label)) throw new AppError('validation_error', 'label must be a label id', { label: p.label });
    if (Object.values(filter).some((v) => v === true) || p.label) return this.listOrganised(p, filter);
    if (!Object.keys(filter).length) {
      const { page, states, labels } = await this.reader.chatList(p);
      return { data: await this.annotate(p.sessionId, page.data, { states, labels }), nextCursor: page.nextCursor };
    }
    // Only `false` filters: most chats match; step through the plain list leaving the others out.
    const limit = pageLimit(p.limit);
    const data: ChatSummary[] = [];
    let cursor = p.cursor;
    for (let scanned = 0; scanned < FILTER_SCAN_PAGES; scanned++) {
      const { page, states, labels } = await this.reader.chatList({ ...p, limit, cursor });
      const annotated = await this.annotate(p.sessionId, page.data, { states, labels });
      for (const chat of annotated) {
        if (data.length === limit) break;
        if (matchesSummary(chat, filter)) data.push(chat);
      }
      if (data.length === limit) {
        const last = data[data.length - 1]!;
        const more = page.nextCursor !== '' || annotated.indexOf(last) < annotated.length - 1;
        return { data, nextCursor: more ? encodeCursor({ t: last.lastMessageAt, j: last.jid }) : '' };
      }
      cursor = page.nextCursor;
      if (!cursor) return { data, nextCursor: '' };
    }
    return { data, nextCursor: cursor ?? '' };
  }

  async forgetChat(sessionId: string, chat: string, keepSummary: boolean): Promise<void> {
    const forms = await this.reader.formsOf(sessionId, chat);
    await this.store.forgetChatMessages(sessionId, forms, keepSummary);
    if (!keepSummary) await this.states.forget(sessionId, forms);
  }

  /** Chats that are archived, pinned or unread: few, read from their states, then paged here. */
  private async listOrganised(p: ChatListPayload, filter: ChatStateFilter): Promise<Page<ChatSummary>> {
    await this.sessions.requireSession(p);
    const limit = pageLimit(p.limit);
    const after = decodeCursor<{ t: number; j: string }>(p.cursor, { t: 'number', j: 'string' });
    const canonical = new Set<string>();
    const candidates = p.label ? await this.labels.chatsWith(p.sessionId, p.label) : (await this.states.matching(p.sessionId, filter)).map((s) => s.chatJid);
    for (const chatJid of candidates) {
      canonical.add(isLidJid(chatJid) ? ((await this.store.alternateJid(p.sessionId, chatJid)) ?? chatJid) : chatJid);
    }
    const all: ChatSummary[] = [];
    for (const jid of canonical) {
      const forms = await this.reader.formsOf(p.sessionId, jid);
      const heads = await this.store.chatHeadsOf(p.sessionId, forms);
      const head = heads.reduce<(typeof heads)[number] | undefined>((a, b) => (!a || b.lastMessageAt > a.lastMessageAt ? b : a), undefined);
      const alt = forms.find((f) => f !== jid);
      const names = await this.store.names(p.sessionId, forms);
      const name = forms.map((f) => names.get(f)).find((n) => n !== undefined);
      const pair = jidPair(jid, alt);
      all.push({
        jid,
        ...(pair.pn ? { pn: pair.pn } : {}),
        ...(pair.lid ? { lid: pair.lid } : {}),
        ...(name ? { name } : {}),
        isGroup: isGroupJid(jid),
        lastMessageAt: head?.lastMessageAt ?? 0,
        lastMessageId: head?.lastMessageId ?? '',
      });
    }
    const ordered = (await this.annotate(p.sessionId, all))
      .filter((c) => matchesSummary(c, filter) && (!p.label || !!c.labels?.includes(p.label)))
      .filter((c) => !after || c.lastMessageAt < after.t || (c.lastMessageAt === after.t && c.jid < after.j))
      .sort((a, b) => b.lastMessageAt - a.lastMessageAt || (a.jid < b.jid ? 1 : a.jid > b.jid ? -1 : 0));
    const data = ordered.slice(0, limit);
    const last = data[data.length - 1];
    return { data, nextCursor: ordered.length > limit && last ? encodeCursor({ t: last.lastMessageAt, j: last.jid }) : '' };
  }

  /** Each chat with its organisation: as the chat list read it along (`known`), else read here. */
  private async annotate(sessionId: string, chats: ChatSummary[], known?: { states: Map<string, ChatStateRow>; labels: Map<string, string[]> }): Promise<ChatSummary[]> {
    const forms = chats.flatMap((c) => [c.jid, c.pn, c.lid].filter((j): j is string => !!j));
    const states = known?.states ?? (await this.states.statesOf(sessionId, forms));
    const labels = known?.labels ?? (await this.labels.labelsOfChats(sessionId, forms));
    return chats.map((chat) => {
      const found = [chat.jid, chat.pn, chat.lid]
        .map((j) => (j ? states.get(j) : undefined))
        .filter((s): s is NonNullable<typeof s> => !!s)
        .sort((a, b) => b.updatedAt - a.updatedAt)[0];
      const { chat: _jid, ...state } = toChatState(chat.jid, found);
      const onChat = [...new Set([chat.jid, chat.pn, chat.lid].flatMap((j) => (j ? (labels.get(j) ?? []) : [])))].sort();
      return { ...chat, ...state, labels: onChat };
    });
  }

  private async stateOf(sessionId: string, chat: string): Promise<ChatState> {
    const forms = await this.reader.formsOf(sessionId, chat);
    const states = await this.states.statesOf(sessionId, forms);
    const newest = [...states.values()].sort((a, b) => b.updatedAt - a.updatedAt)[0];
    return toChatState(chat, newest);
  }

  /** The chat's newest stored message, which archive, read, delete and clear name as their range. */
  private async lastMessage(sessionId: string, chat: string): Promise<WaLastMessage | undefined> {
    const forms = await this.reader.formsOf(sessionId, chat);
    const heads = await this.store.chatHeadsOf(sessionId, forms);
    const head = heads.reduce<(typeof heads)[number] | undefined>((a, b) => (!a || b.lastMessageAt > a.lastMessageAt ? b : a), undefined);
    if (!head) return undefined;
    const row = await this.store.find(sessionId, head.lastMessageId, { chats: [head.chatJid] });
    if (!row) return undefined;
    return {
      key: { chatJid: row.chatJid, id: row.messageId, fromMe: row.fromMe, ...(row.participant ? { participant: row.participant } : {}) },
      timestampMs: row.timestampMs,
    };
  }
}

function matchesSummary(chat: ChatSummary, filter: ChatStateFilter): boolean {
  return (Object.keys(filter) as (keyof ChatStateFilter)[]).every((k) => filter[k] === undefined || filter[k] === !!chat[k]);
}

function toStateChange(change: WaChatChange) {
  if ('archived' in change) return { archived: change.archived };
  if ('pinned' in change) return { pinnedAt: change.pinned ? Date.now() : null };
  if ('mutedUntil' in change) return { mutedUntil: change.mutedUntil };
  if ('unread' in change) return { unread: change.unread };
  return {};
}

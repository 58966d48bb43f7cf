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
import { mediaUrlFields } from '@wa/contracts';
import { AppError, isGroupJid, isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';
import { decodeStoredMessage, type WaMe } from '@wa/wa-adapter';
import { MessageStore, type ChatHead, type ChatScanPosition } from '../messages/message-store';
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

  /**
   * Chats newest first, from the per-chat summary: a chat stored under both jid forms is one
   * chat, at the place of its newest form, under its phone-number jid when known. Reads about a
   * page of summary rows (more when rows of twins already listed must be stepped over, at most
   * `SCAN_MAX` beyond the page: then the page is shorter and its cursor resumes the scan).
   */
  async chats(p: PagePayload): Promise<Page<ChatSummary>> {
    await this.sessions.requireSession(p);
    const limit = pageLimit(p.limit);
    const after = decodeCursor<{ t: number; j: string }>(p.cursor, { t: 'number', j: 'string' });
    const isAfter = (t: number, j: string) => !after || t < after.t || (t === after.t && j < after.j);
    const found = new Map<string, { jid: string; forms: string[]; lastMessageAt: number; lastMessageId: string }>();
    let from: ChatScanPosition | undefined = after ? { ts: after.t } : undefined;
    let scanned = 0;
    let exhausted = false;
    let capped = false;
    const whole = () => [...found.values()].filter((c) => from === undefined || c.lastMessageAt > from.ts);
    for (;;) {
      const size = scanned ? Math.min(limit * 2, 400) : limit + 1;
      const rows = await this.store.chatHeads(p.sessionId, size, from);
      scanned += rows.length;
      exhausted = rows.length < size;
      const twins = await this.twinsOf(p.sessionId, rows.map((r) => r.chatJid));
      const known = new Map(rows.map((r) => [r.chatJid, r]));
      const missing = rows.flatMap((r) => twins.forms(r.chatJid)).filter((f) => !known.has(f));
      for (const r of await this.store.chatHeadsOf(p.sessionId, [...new Set(missing)])) known.set(r.chatJid, r);
      for (const row of rows) {
        const forms = twins.forms(row.chatJid);
        // The chat is listed at its newest form only (ties: greater id, then greater jid).
        const lead = forms
          .map((f) => known.get(f))
          .filter((r): r is NonNullable<typeof r> => r !== undefined)
          .reduce((a, b) => (newer(b, a) ? b : a));
        if (lead.chatJid !== row.chatJid) continue;
        const jid = twins.canonical(row.chatJid);
        if (!isAfter(row.lastMessageAt, jid)) continue;
        found.set(jid, { jid, forms, lastMessageAt: row.lastMessageAt, lastMessageId: row.lastMessageId });
      }
      const tail = rows[rows.length - 1];
      if (tail) from = { ts: tail.lastMessageAt, jid: tail.chatJid };
      if (exhausted) break;
      // Chats newer than the last row read are all found; older ones may still come.
      if (whole().length > limit) break;
      if (scanned >= limit + SCAN_MAX) {
        capped = true;
        break;
      }
    }
    const ordered = (exhausted ? [...found.values()] : whole()).sort(
      (a, b) => b.lastMessageAt - a.lastMessageAt || (a.jid < b.jid ? 1 : a.jid > b.jid ? -1 : 0),
    );
    const page = ordered.slice(0, limit);
    const pairs = await this.twinsOf(p.sessionId, page.map((c) => c.jid));
    const names = await this.store.names(p.sessionId, [...new Set(page.flatMap((c) => [c.jid, pairs.pair(c.jid).lid ?? c.jid]))]);
    const data: ChatSummary[] = page.map((chat) => {
      const pair = pairs.pair(chat.jid);
      const name = names.get(chat.jid) ?? (pair.lid ? names.get(pair.lid) : undefined);
      return { jid: chat.jid, ...pair, ...(name ? { name } : {}), isGroup: isGroupJid(chat.jid), lastMessageAt: chat.lastMessageAt, lastMessageId: chat.lastMessageId };
    });
    const last = page[page.length - 1];
    let nextCursor = '';
    if (ordered.length > limit && last) nextCursor = encodeCursor({ t: last.lastMessageAt, j: last.jid });
    // Stopped by the bound: everything newer than the scan position is on this page; resume there.
    else if (capped && from) nextCursor = encodeCursor({ t: from.ts, j: AFTER_EVERY_JID });
    return { data, nextCursor };
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

  /**
   * People we exchanged messages with, named contacts and LID pairs, by jid: one entry per
   * person under the phone-number jid when known (a LID with a known twin is listed as the
   * twin). Reads index ranges of about a page per source, at most `SCAN_MAX` jids beyond it.
   */
  async contacts(p: PagePayload): Promise<Page<ContactSummary>> {
    await this.sessions.requireSession(p);
    const limit = pageLimit(p.limit);
    const after = decodeCursor<{ j: string }>(p.cursor, { j: 'string' });
    const me = await this.sessions.me(p.sessionId);
    const own = new Set([me?.jid, me?.lid].filter((j): j is string => Boolean(j)).map(normalizeJid));
    const found = new Set<string>();
    let from = after?.j;
    let scanned = 0;
    let complete: string | undefined;
    for (;;) {
      const batch = await this.store.contactCandidates(p.sessionId, from, limit + 1);
      complete = batch.complete;
      scanned += batch.jids.length;
      const jids = [...new Set(batch.jids.map(normalizeJid))].filter((j) => (isPhoneJid(j) || isLidJid(j)) && !own.has(j) && (!after || j > after.j));
      // A LID with a known phone-number twin is listed as the twin, which the pairs list anyway.
      const paired = new Set((await this.store.lidMappingsOf(p.sessionId, jids.filter(isLidJid), [])).map((m) => m.lid));
      for (const j of jids) if (!paired.has(j)) found.add(j);
      if (complete === undefined || found.size > limit) break;
      from = complete;
      if (scanned >= limit + SCAN_MAX) break;
    }
    const ordered = [...found].sort();
    const page = ordered.slice(0, limit);
    const pairs = await this.twinsOf(p.sessionId, page);
    const names = await this.store.contactNames(p.sessionId, [...new Set(page.flatMap((j) => [j, ...Object.values(pairs.pair(j))]))]);
    const data = page.map((jid) => ({ jid, ...pairs.pair(jid), ...namesOf(names, [jid, ...Object.values(pairs.pair(jid))]) }));
    const tail = page[page.length - 1];
    let nextCursor = '';
    if (ordered.length > limit && tail) nextCursor = encodeCursor({ j: tail });
    // More may follow what was read (the bound stopped the scan): resume after it.
    else if (complete !== undefined) nextCursor = encodeCursor({ j: complete });
    return { data, nextCursor };
  }

  /** One contact as the contact list shows it; 404 when the session knows nothing of it. */
  async contact(sessionId: string, jid: string): Promise<ContactSummary> {
    const pair = (await this.twinsOf(sessionId, [jid])).pair(jid);
    const forms = [jid, ...Object.values(pair).filter((f) => f !== jid)];
    const names = namesOf(await this.store.contactNames(sessionId, forms), forms);
    const known = Object.keys(names).length > 0 || forms.length > 1 || (await this.store.hasCorrespondent(sessionId, forms));
    if (!known) throw new AppError('not_found', 'this session knows no such contact', { jid });
    return { jid, ...pair, ...names };
  }

  /** A jid and its LID/phone twin, as the store knows them. */
  async formsOf(sessionId: string, jid: string): Promise<string[]> {
    const alt = await this.store.alternateJid(sessionId, jid);
    return alt ? [jid, alt] : [jid];
  }

  private async toStored(sessionId: string, row: WaMessageEntity, me: WaMe | undefined): Promise<StoredMessage> {
    const decoded = await decodeStoredMessage(Buffer.from(row.raw, 'base64'));
    const sender = row.fromMe ? (me?.jid ?? '') : normalizeJid(row.participant ?? row.chatJid);
    const chatIds = await this.store.pairOf(sessionId, row.chatJid);
    const senderIds = row.fromMe
      ? { jid: sender, ...(me?.jid ? { pn: me.jid } : {}), ...(me?.lid ? { lid: normalizeJid(me.lid) } : {}) }
      : sender === row.chatJid
        ? chatIds
        : await this.store.pairOf(sessionId, sender);
    const stored: StoredMessage = {
      id: row.messageId,
      chat: row.chatJid,
      sender,
      chatIds,
      senderIds,
      fromMe: row.fromMe,
      timestamp: row.timestampMs,
      type: publicMessageType(decoded.type === 'unknown' ? row.type : decoded.type),
      content: row.deletedAt !== null ? {} : { ...withEdit(decoded.type, decoded.content, row.editedText), ...mediaUrlFields(sessionId, row.messageId, decoded.type) },
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

  /**
   * The LID pairs of the given jids: `canonical` is the phone-number form when known (what
   * callers send to), `forms` every jid the same chat may be stored under.
   */
  private async twinsOf(sessionId: string, jids: string[]) {
    const lids = jids.filter(isLidJid);
    const pns = jids.filter(isPhoneJid);
    const mappings = await this.store.lidMappingsOf(sessionId, lids, pns);
    // Other LIDs of a phone number reached through one of its LIDs.
    const more = [...new Set(mappings.map((m) => m.pn))].filter((pn) => !pns.includes(pn));
    if (more.length) mappings.push(...(await this.store.lidMappingsOf(sessionId, [], more)));
    const pnOf = new Map(mappings.map((m) => [m.lid, m.pn]));
    const lidsOf = new Map<string, string[]>();
    for (const m of mappings) {
      const list = lidsOf.get(m.pn) ?? [];
      if (!list.includes(m.lid)) list.push(m.lid);
      lidsOf.set(m.pn, list);
    }
    const canonical = (jid: string): string => (isLidJid(jid) ? (pnOf.get(jid) ?? jid) : jid);
    return {
      canonical,
      forms: (jid: string): string[] => {
        const c = canonical(jid);
        return [c, ...(lidsOf.get(c) ?? [])];
      },
      pair: (jid: string): { pn?: string; lid?: string } => {
        if (isLidJid(jid)) return { lid: jid, ...(pnOf.get(jid) ? { pn: pnOf.get(jid) } : {}) };
        if (isPhoneJid(jid)) return { pn: jid, ...(lidsOf.get(jid)?.length ? { lid: lidsOf.get(jid)![0] } : {}) };
        return {};
      },
    };
  }
}

/** Whether chat summary `a` is newer than `b`: later, then greater id, then greater jid. */
function newer(a: ChatHead, b: ChatHead): boolean {
  if (a.lastMessageAt !== b.lastMessageAt) return a.lastMessageAt > b.lastMessageAt;
  if (a.lastMessageId !== b.lastMessageId) return a.lastMessageId > b.lastMessageId;
  return a.chatJid > b.chatJid;
}

/** Rows a chat or contact page may read beyond its own before it answers shorter. */
const SCAN_MAX = 1000;

/** Sorts after every jid: a cursor at it resumes after all chats of that millisecond read so far. */
const AFTER_EVERY_JID = '\uffff';

/** An edit replaces the text of a text message and the caption of a media message. */
function withEdit(type: string, content: Record<string, unknown>, editedText: string | null): Record<string, unknown> {
  if (editedText === null) return content;
  return { ...content, [type === 'text' ? 'text' : 'caption']: editedText };
}

/** The saved and push names of a contact from the first of its forms that has each. */
function namesOf(names: Map<string, { saved?: string; push?: string }>, forms: string[]): { name?: string; pushName?: string } {
  const saved = forms.map((f) => names.get(f)?.saved).find(Boolean);
  const push = forms.map((f) => names.get(f)?.push).find(Boolean);
  return { ...(saved ? { name: saved } : {}), ...(push ? { pushName: push } : {}) };
}

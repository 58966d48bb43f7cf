import { Injectable } from '@nestjs/common';
import type {
  ChatMessagesPayload,
  ChatSummary,
  ContactSummary,
  MemberReceipt,
  MessageGetPayload,
  MessageReceiptsPayload,
  Page,
  PagePayload,
  SessionRef,
  StoredMessage,
} from '@wa/contracts/runtime';
import { mediaUrlFields } from '@wa/contracts/runtime';
import { AppError, isGroupJid, isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';
import { decodeStoredMessage, type WaLidMapping, type WaMe } from '@wa/wa-adapter';
import { ListReads, type ChatStateRow, type NamesRow } from '../messages/list-reads';
import { MemberReceipts } from '../messages/member-receipts';
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
    private readonly lists: ListReads,
    private readonly receipts: MemberReceipts,
  ) {}

  /** A page of chats, as `chatList` reads it. */
  async chats(p: PagePayload): Promise<Page<ChatSummary>> {
    return (await this.chatList(p)).page;
  }

  /**
   * Chats newest first, from the per-chat summary: a chat stored under both jid forms is one
   * chat, at the place of its newest form, under its phone-number jid when known. Reads about a
   * page of summary rows (more when rows of twins already listed must be stepped over, at most
   * `SCAN_MAX` beyond the page: then the page is shorter and its cursor resumes the scan), each
   * stretch in one statement with the pairs, names, states and labels the page shows.
   */
  async chatList(p: PagePayload): Promise<ChatListPage> {
    return this.checked(p, async () => {
      const limit = pageLimit(p.limit);
      const after = decodeCursor<{ t: number; j: string }>(p.cursor, { t: 'number', j: 'string' });
      const isAfter = (t: number, j: string) => !after || t < after.t || (t === after.t && j < after.j);
      const found = new Map<string, { jid: string; forms: string[]; lastMessageAt: number; lastMessageId: string }>();
      // What every stretch read along, for the page and its organisation.
      const pairsRead: WaLidMapping[] = [];
      const names = new Map<string, NamesRow>();
      const states = new Map<string, ChatStateRow>();
      const labels = new Map<string, string[]>();
      let from: ChatScanPosition | undefined = after ? { ts: after.t } : undefined;
      let scanned = 0;
      let exhausted = false;
      let capped = false;
      const whole = () => [...found.values()].filter((c) => from === undefined || c.lastMessageAt > from.ts);
      for (;;) {
        // The first stretch holds a whole page when no twins are stepped over: one chat beyond the
        // page, one more to show that the page's last chat is older than everything after it, and
        // after a cursor the chat it names (read again: the range starts at its millisecond).
        const size = scanned ? Math.min(limit * 2, 400) : limit + (after ? 3 : 2);
        const batch = await this.lists.chatBatch(p.sessionId, size, from);
        const rows = batch.heads;
        scanned += rows.length;
        exhausted = rows.length < size;
        pairsRead.push(...batch.pairs);
        for (const [k, v] of batch.names) names.set(k, v);
        for (const [k, v] of batch.states) states.set(k, v);
        for (const [k, v] of batch.labels) labels.set(k, v);
        const twins = twinsFrom(batch.pairs);
        const known = new Map([...rows, ...batch.twinHeads].map((r) => [r.chatJid, r]));
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
      const pairs = twinsFrom(pairsRead);
      const nameOf = (jid: string | undefined) => {
        const n = jid === undefined ? undefined : names.get(jid);
        return n?.saved || n?.push || undefined;
      };
      const data: ChatSummary[] = page.map((chat) => {
        const pair = pairs.pair(chat.jid);
        const name = nameOf(chat.jid) ?? nameOf(pair.lid);
        return { jid: chat.jid, ...pair, ...(name ? { name } : {}), isGroup: isGroupJid(chat.jid), lastMessageAt: chat.lastMessageAt, lastMessageId: chat.lastMessageId };
      });
      const last = page[page.length - 1];
      let nextCursor = '';
      if (ordered.length > limit && last) nextCursor = encodeCursor({ t: last.lastMessageAt, j: last.jid });
      // Stopped by the bound: everything newer than the scan position is on this page; resume there.
      else if (capped && from) nextCursor = encodeCursor({ t: from.ts, j: AFTER_EVERY_JID });
      return { page: { data, nextCursor }, states, labels };
    });
  }

  async chatMessages(p: ChatMessagesPayload): Promise<Page<StoredMessage>> {
    return this.checked(p, async () => {
      const limit = pageLimit(p.limit);
      const before = decodeCursor<{ t: number; id: string }>(p.cursor, { t: 'number', id: 'string' });
      const chat = toJid(p.chat, 'chat');
      await this.store.pairsRecorded(p.sessionId);
      const [me, rows] = await Promise.all([
        this.sessions.me(p.sessionId),
        this.lists.messagePage(p.sessionId, chat, limit + 1, before ? { timestampMs: before.t, messageId: before.id } : undefined),
      ]);
      const page = rows.slice(0, limit);
      const data = await this.toStored(p.sessionId, page, me);
      const tail = page[page.length - 1];
      return { data, nextCursor: rows.length > limit && tail ? encodeCursor({ t: tail.timestampMs, id: tail.messageId }) : '' };
    });
  }

  async message(p: MessageGetPayload): Promise<StoredMessage> {
    return this.checked(p, async () => {
      if (typeof p.id !== 'string' || !p.id) throw new AppError('validation_error', 'id is required');
      const chat = p.chat ? toJid(p.chat, 'chat') : undefined;
      const [me, chats] = await Promise.all([this.sessions.me(p.sessionId), chat ? this.formsOf(p.sessionId, chat) : undefined]);
      const row = await this.store.find(p.sessionId, p.id, chats ? { chats } : {});
      if (!row) throw new AppError('not_found', 'message not found', { id: p.id });
      const [stored] = await this.toStored(p.sessionId, [row], me);
      return stored!;
    });
  }

  /**
   * Group members' receipts of a stored message, oldest first, each member as `message.status`
   * names it (its pair as known now). All in one page: a group has at most a few thousand rows
   * (members x two statuses). A message that is not ours has none.
   */
  async messageReceipts(p: MessageReceiptsPayload): Promise<Page<MemberReceipt>> {
    return this.checked(p, async () => {
      if (typeof p.id !== 'string' || !p.id) throw new AppError('validation_error', 'id is required');
      if (!(await this.store.find(p.sessionId, p.id))) throw new AppError('not_found', 'message not found', { id: p.id });
      const rows = await this.receipts.of(p.sessionId, p.id);
      const pairs = await this.store.pairsOf(p.sessionId, rows.map((r) => r.member));
      const data = rows
        .map((r) => ({ member: pairs.get(r.member) ?? { jid: r.member }, status: r.status, at: r.at }))
        .sort((a, b) => a.at - b.at || a.member.jid.localeCompare(b.member.jid) || a.status.localeCompare(b.status));
      return { data, nextCursor: '' };
    });
  }

  /**
   * People we exchanged messages with, named contacts and LID pairs, by jid: one entry per
   * person under the phone-number jid when known (a LID with a known twin is listed as the
   * twin). Reads index ranges of about a page per source, at most `SCAN_MAX` jids beyond it.
   */
  async contacts(p: PagePayload): Promise<Page<ContactSummary>> {
    return this.checked(p, async () => {
      const limit = pageLimit(p.limit);
      const after = decodeCursor<{ j: string }>(p.cursor, { j: 'string' });
      // One jid more than the page from each source, and one for our own jid, which is left out.
      const per = limit + 2;
      const [me, first] = await Promise.all([this.sessions.me(p.sessionId), this.lists.contactBatch(p.sessionId, after?.j, per)]);
      const own = new Set([me?.jid, me?.lid].filter((j): j is string => Boolean(j)).map(normalizeJid));
      const pairs: WaLidMapping[] = [];
      const names = new Map<string, NamesRow>();
      const found = new Set<string>();
      let batch = first;
      let scanned = 0;
      let complete: string | undefined;
      for (;;) {
        // A source that filled its range may hold more beyond its last jid; the merge is whole up to the smallest such.
        const bounds = batch.sources.filter((l) => l.length >= per).map((l) => l[l.length - 1]!);
        complete = bounds.length ? bounds.reduce((a, b) => (b < a ? b : a)) : undefined;
        const read = [...new Set(batch.sources.flat())].filter((j) => complete === undefined || j <= complete).sort();
        scanned += read.length;
        pairs.push(...batch.pairs);
        for (const [k, v] of batch.names) names.set(k, v);
        const jids = [...new Set(read.map(normalizeJid))].filter((j) => (isPhoneJid(j) || isLidJid(j)) && !own.has(j) && (!after || j > after.j));
        // Read as stored; a jid stored with a device part is looked up without it.
        const unread = jids.filter((j) => !read.includes(j));
        if (unread.length) {
          const more = await this.store.lidMappingsOf(p.sessionId, unread.filter(isLidJid), unread.filter(isPhoneJid));
          pairs.push(...more);
          const named = await this.store.contactNames(p.sessionId, [...new Set([...unread, ...more.flatMap((m) => [m.lid, m.pn])])]);
          for (const [k, v] of named) names.set(k, v);
        }
        // A LID with a known phone-number twin is listed as the twin, which the pairs list anyway.
        const paired = new Set(pairs.map((m) => m.lid));
        for (const j of jids) if (!isLidJid(j) || !paired.has(j)) found.add(j);
        if (complete === undefined || found.size > limit) break;
        if (scanned >= limit + SCAN_MAX) break;
        batch = await this.lists.contactBatch(p.sessionId, complete, per);
      }
      const ordered = [...found].sort();
      const page = ordered.slice(0, limit);
      const twins = twinsFrom(pairs);
      const data = page.map((jid) => ({ jid, ...twins.pair(jid), ...namesOf(names, [jid, ...Object.values(twins.pair(jid))]) }));
      const tail = page[page.length - 1];
      let nextCursor = '';
      if (ordered.length > limit && tail) nextCursor = encodeCursor({ j: tail });
      // More may follow what was read (the bound stopped the scan): resume after it.
      else if (complete !== undefined) nextCursor = encodeCursor({ j: complete });
      return { data, nextCursor };
    });
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

  /**
   * Resolves the session check and the read together: both start at once (one round trip where
   * they were two), and a session of another org still answers "not found" whatever the read found.
   */
  private async checked<T>(ref: SessionRef, read: () => Promise<T>): Promise<T> {
    const session = this.sessions.requireSession(ref);
    const result = read();
    result.catch(() => undefined); // the session's answer comes first
    await session;
    return result;
  }

  /** Stored messages as the API shows them: the pairs of their chats and senders, poll tallies and labels, read together for all. */
  private async toStored(sessionId: string, rows: WaMessageEntity[], me: WaMe | undefined): Promise<StoredMessage[]> {
    const decoded = await Promise.all(rows.map((row) => decodeStoredMessage(Buffer.from(row.raw, 'base64'))));
    const senders = rows.map((row) => (row.fromMe ? (me?.jid ?? '') : normalizeJid(row.participant ?? row.chatJid)));
    const people = rows.flatMap((row, i) => [row.chatJid, ...(row.fromMe ? [] : [senders[i]!])]);
    const polls = rows.filter((row, i) => decoded[i]!.poll && row.deletedAt === null).map((row) => row.messageId);
    const [pairs, votes, labels] = await Promise.all([
      this.store.pairsOf(sessionId, people),
      this.store.votesOfPolls(sessionId, polls),
      this.lists.messageLabels(
        sessionId,
        rows.map((row) => row.messageId),
      ),
    ]);
    return rows.map((row, i) => {
      const { type, content, poll } = decoded[i]!;
      const sender = senders[i]!;
      const chatIds = pairs.get(row.chatJid)!;
      const senderIds = row.fromMe
        ? { jid: sender, ...(me?.jid ? { pn: me.jid } : {}), ...(me?.lid ? { lid: normalizeJid(me.lid) } : {}) }
        : sender === row.chatJid
          ? chatIds
          : pairs.get(sender)!;
      const stored: StoredMessage = {
        id: row.messageId,
        chat: row.chatJid,
        sender,
        chatIds,
        senderIds,
        fromMe: row.fromMe,
        timestamp: row.timestampMs,
        type: publicMessageType(type === 'unknown' ? row.type : type),
        content: row.deletedAt !== null ? {} : { ...withEdit(type, content, row.editedText), ...mediaUrlFields(sessionId, row.messageId, type) },
        ...(row.fromMe && row.status ? { status: row.status as StoredMessage['status'] } : {}),
        ...(row.editedAt !== null ? { editedAt: row.editedAt } : {}),
        ...(row.deletedAt !== null ? { deletedAt: row.deletedAt } : {}),
      };
      if (poll && row.deletedAt === null) {
        const cast = votes.get(row.messageId) ?? [];
        stored.poll = {
          ...poll,
          tally: poll.options.map((option) => {
            const voters = cast.filter((v) => v.selected.includes(option)).map((v) => v.voter);
            return { option, votes: voters.length, voters };
          }),
        };
      }
      const on = labels.get(row.messageId);
      if (on?.length) stored.labels = on;
      return stored;
    });
  }

  /** The LID pairs of the given jids, read from the store. */
  private async twinsOf(sessionId: string, jids: string[]): Promise<Twins> {
    const lids = jids.filter(isLidJid);
    const pns = jids.filter(isPhoneJid);
    const mappings = await this.store.lidMappingsOf(sessionId, lids, pns);
    // Other LIDs of a phone number reached through one of its LIDs.
    const more = [...new Set(mappings.map((m) => m.pn))].filter((pn) => !pns.includes(pn));
    if (more.length) mappings.push(...(await this.store.lidMappingsOf(sessionId, [], more)));
    return twinsFrom(mappings);
  }
}

/** A chat list page with the organisation of every jid form it read, for `ChatOrganisation` to show. */
export interface ChatListPage {
  page: Page<ChatSummary>;
  states: Map<string, ChatStateRow>;
  labels: Map<string, string[]>;
}

interface Twins {
  /** The phone-number form when known (what callers send to). */
  canonical(jid: string): string;
  /** Every jid the same chat may be stored under. */
  forms(jid: string): string[];
  pair(jid: string): { pn?: string; lid?: string };
}

/**
 * What the given LID pairs say of the jids they name; of several LIDs of one number the first by
 * id is shown, as `MessageStore.pairOf` picks it.
 */
function twinsFrom(given: WaLidMapping[]): Twins {
  const mappings = [...given].sort((a, b) => (a.lid < b.lid ? -1 : a.lid > b.lid ? 1 : 0));
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
    forms: (jid) => {
      const c = canonical(jid);
      return [c, ...(lidsOf.get(c) ?? [])];
    },
    pair: (jid) => {
      if (isLidJid(jid)) return { lid: jid, ...(pnOf.get(jid) ? { pn: pnOf.get(jid) } : {}) };
      if (isPhoneJid(jid)) return { pn: jid, ...(lidsOf.get(jid)?.length ? { lid: lidsOf.get(jid)![0] } : {}) };
      return {};
    },
  };
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

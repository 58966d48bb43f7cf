import { Injectable } from '@nestjs/common';
import { isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';
import type { WaLidMapping } from '@wa/wa-adapter';
import { DataSource } from 'typeorm';
import { ReadSql } from '../database/named-sql';
import { NON_CHAT_TYPES, type ChatHead, type ChatScanPosition, type MessagePosition } from './message-store';
import { WaMessageEntity } from './wa-message.entity';

const MESSAGE_COLUMNS = 'session_id, chat_jid, message_id, from_me, participant, type, timestamp_ms, status, read_at, edited_text, edited_at, deleted_at, raw';

/** A chat's organisation as stored (`wa_chat_states`), for the list. */
export interface ChatStateRow {
  archived: boolean;
  pinnedAt: number | null;
  mutedUntil: number | null;
  unread: boolean;
  updatedAt: number;
}

/** Saved and push names of a jid. */
export interface NamesRow {
  saved?: string;
  push?: string;
}

/**
 * One stretch of the chat list with all a page of it shows: the summary rows in the range, the
 * summary rows of their other jid forms, the LID pairs that link them, and the names, states and
 * chat labels of every form.
 */
export interface ChatBatch {
  heads: ChatHead[];
  twinHeads: ChatHead[];
  pairs: WaLidMapping[];
  names: Map<string, NamesRow>;
  states: Map<string, ChatStateRow>;
  labels: Map<string, string[]>;
}

/** One stretch of each source of the contact list, with the LID pairs and names of what they hold. */
export interface ContactBatch {
  /** Each source's jids in order, at most `limit` each. */
  sources: string[][];
  pairs: WaLidMapping[];
  names: Map<string, NamesRow>;
}

/**
 * Every row of these reads in one shape, told apart by `kind`: one statement, one round trip. The
 * first SELECT of each UNION types the columns (PostgreSQL resolves them pairwise from the left).
 */
interface Row {
  kind: string;
  jid: string;
  t1: string | null;
  t2: string | null;
  n1: string | number | null;
  n2: string | number | null;
  n3: string | number | null;
  n4: string | number | null;
  n5: string | number | null;
}

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

/**
 * A row count written into the statement, not bound: SQLite plans `LIMIT ?` far worse than a
 * literal (a chat page took 1.6 ms instead of 0.5). Pages come in a few sizes, so PostgreSQL
 * still prepares each statement once per size.
 */
function rowsOf(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`not a row count: ${limit}`);
  return limit;
}

/**
 * The chat and contact lists read in one statement per stretch, on both databases: a list page
 * used to take five to eight queries one after another, each a round trip to PostgreSQL. Every
 * part is scoped to the session; the caller checks the session against the organisation. The
 * lookups are written `CROSS JOIN`: SQLite then keeps the order as written and probes each table's
 * index with the page's few jids, where it would otherwise scan the session's rows (PostgreSQL
 * plans them as any join).
 */
@Injectable()
export class ListReads {
  private readonly sql: ReadSql;

  constructor(db: DataSource) {
    this.sql = new ReadSql(db);
  }

  /** Summary rows newest first (time, then jid, both descending) from `from` on, at most `limit`. */
  async chatBatch(sessionId: string, limit: number, from?: ChatScanPosition): Promise<ChatBatch> {
    const range = from === undefined ? '' : from.jid === undefined ? 'AND last_message_at <= :ts' : 'AND last_message_at <= :ts AND (last_message_at < :ts OR chat_jid < :jid)';
    const rows = await this.sql.rows<Row>(
      `WITH heads AS (
         SELECT chat_jid, last_message_at, last_message_id FROM wa_chats WHERE session_id = :s ${range}
         ORDER BY last_message_at DESC, chat_jid DESC LIMIT ${rowsOf(limit)}
       ),
       direct AS (
         SELECT m.lid, m.pn FROM heads h CROSS JOIN wa_lid_mappings m WHERE m.session_id = :s AND m.lid = h.chat_jid
         UNION SELECT m.lid, m.pn FROM heads h CROSS JOIN wa_lid_mappings m WHERE m.session_id = :s AND m.pn = h.chat_jid
       ),
       pairs AS (
         SELECT lid, pn FROM direct
         UNION SELECT m.lid, m.pn FROM direct d CROSS JOIN wa_lid_mappings m WHERE m.session_id = :s AND m.pn = d.pn
       ),
       twins AS (SELECT lid AS jid FROM pairs UNION SELECT pn FROM pairs),
       others AS (SELECT jid FROM twins WHERE jid NOT IN (SELECT chat_jid FROM heads)),
       forms AS (SELECT chat_jid AS jid FROM heads UNION ALL SELECT jid FROM others)
       SELECT 'head' AS kind, chat_jid AS jid, last_message_id AS t1, CAST(NULL AS TEXT) AS t2, last_message_at AS n1, CAST(NULL AS BIGINT) AS n2,
         CAST(NULL AS BIGINT) AS n3, CAST(NULL AS BIGINT) AS n4, CAST(NULL AS BIGINT) AS n5 FROM heads
       UNION ALL SELECT 'twin', f.jid, (SELECT c.last_message_id FROM wa_chats c WHERE c.session_id = :s AND c.chat_jid = f.jid), NULL,
         (SELECT c.last_message_at FROM wa_chats c WHERE c.session_id = :s AND c.chat_jid = f.jid), NULL, NULL, NULL, NULL
         FROM others f
       UNION ALL SELECT 'pair', lid, pn, NULL, NULL, NULL, NULL, NULL, NULL FROM pairs
       UNION ALL SELECT 'name', n.jid, n.name, n.saved_name, NULL, NULL, NULL, NULL, NULL FROM forms f CROSS JOIN wa_contacts n WHERE n.session_id = :s AND n.jid = f.jid
       UNION ALL SELECT 'state', c.chat_jid, NULL, NULL, CASE WHEN c.archived THEN 1 ELSE 0 END, c.pinned_at, c.muted_until, CASE WHEN c.unread THEN 1 ELSE 0 END, c.updated_at
         FROM forms f CROSS JOIN wa_chat_states c WHERE c.session_id = :s AND c.chat_jid = f.jid
       UNION ALL SELECT 'label', a.chat_jid, a.label_id, NULL, NULL, NULL, NULL, NULL, NULL
         FROM forms f CROSS JOIN wa_label_associations a WHERE a.session_id = :s AND a.chat_jid = f.jid AND a.message_id = ''`,
      { s: sessionId, ...(from ? { ts: from.ts } : {}), ...(from?.jid !== undefined ? { jid: from.jid } : {}) },
    );
    const batch: ChatBatch = { heads: [], twinHeads: [], pairs: [], names: new Map(), states: new Map(), labels: new Map() };
    for (const r of rows) {
      if (r.kind === 'head') batch.heads.push({ chatJid: r.jid, lastMessageAt: Number(r.n1), lastMessageId: r.t1 ?? '' });
      else if (r.kind === 'twin' && r.n1 !== null) batch.twinHeads.push({ chatJid: r.jid, lastMessageAt: Number(r.n1), lastMessageId: r.t1 ?? '' });
      else if (r.kind === 'pair') batch.pairs.push({ lid: r.jid, pn: r.t1 ?? '' });
      else if (r.kind === 'name') batch.names.set(r.jid, namesOf(r));
      else if (r.kind === 'state') {
        batch.states.set(r.jid, { archived: Number(r.n1) === 1, pinnedAt: num(r.n2), mutedUntil: num(r.n3), unread: Number(r.n4) === 1, updatedAt: Number(r.n5) });
      } else if (r.kind === 'label' && r.t1 !== null) batch.labels.set(r.jid, [...(batch.labels.get(r.jid) ?? []), r.t1]);
    }
    // The order of the range (jids compared as stored, as the cursor compares them).
    batch.heads.sort((a, b) => b.lastMessageAt - a.lastMessageAt || (a.chatJid < b.chatJid ? 1 : a.chatJid > b.chatJid ? -1 : 0));
    return batch;
  }

  /**
   * A page of a chat's visible messages, newest first, strictly after `before` when given: the
   * chat under the jid given and under its other form (a contact's LID or phone number, as
   * `MessageStore.alternateJid` finds it), each an ordered index range, merged.
   */
  async messagePage(sessionId: string, chat: string, limit: number, before?: MessagePosition): Promise<WaMessageEntity[]> {
    const normal = normalizeJid(chat);
    const older = before ? 'AND (timestamp_ms < :ts OR (timestamp_ms = :ts AND message_id < :id))' : '';
    const form = (jid: string) =>
      `SELECT * FROM (SELECT ${MESSAGE_COLUMNS} FROM wa_messages WHERE session_id = :s AND chat_jid = ${jid} AND type NOT IN (:skip) ${older}
       ORDER BY timestamp_ms DESC, message_id DESC LIMIT ${rowsOf(limit)}) f`;
    const alternate = isLidJid(normal)
      ? '(SELECT pn FROM wa_lid_mappings WHERE session_id = :s AND lid = :normal)'
      : isPhoneJid(normal)
        ? '(SELECT MIN(lid) FROM wa_lid_mappings WHERE session_id = :s AND pn = :normal)'
        : undefined;
    const rows = await this.sql.rows<Record<string, unknown>>(
      `${form(':chat')}${alternate ? ` UNION ALL ${form(alternate)}` : ''} ORDER BY timestamp_ms DESC, message_id DESC LIMIT ${rowsOf(limit)}`,
      { s: sessionId, chat, normal, skip: NON_CHAT_TYPES, ...(before ? { ts: before.timestampMs, id: before.messageId } : {}) },
    );
    return rows.map(toMessage);
  }

  /** The labels on each of the given messages, sorted. */
  async messageLabels(sessionId: string, messageIds: string[]): Promise<Map<string, string[]>> {
    const labels = new Map<string, string[]>();
    if (!messageIds.length) return labels;
    const rows = await this.sql.rows<{ message_id: string; label_id: string }>(
      'SELECT message_id, label_id FROM wa_label_associations WHERE session_id = :s AND message_id IN (:ids)',
      { s: sessionId, ids: [...new Set(messageIds)] },
    );
    for (const r of rows) labels.set(r.message_id, [...(labels.get(r.message_id) ?? []), r.label_id].sort());
    return labels;
  }

  /**
   * The next jids greater than `after` of each source anyone could list as a contact: people we
   * exchanged messages with, named contacts and groups, and the phone-number side of every LID
   * pair, each an index range of at most `limit`; with the pairs and names of all of them.
   */
  async contactBatch(sessionId: string, after: string | undefined, limit: number): Promise<ContactBatch> {
    const from = (column: string) => (after === undefined ? '' : `AND ${column} > :after`);
    const rows = await this.sql.rows<Row>(
      `WITH c1 AS (SELECT jid FROM wa_correspondents WHERE session_id = :s ${from('jid')} ORDER BY jid LIMIT ${rowsOf(limit)}),
       c2 AS (SELECT jid FROM wa_contacts WHERE session_id = :s ${from('jid')} ORDER BY jid LIMIT ${rowsOf(limit)}),
       c3 AS (SELECT pn AS jid FROM wa_lid_mappings WHERE session_id = :s ${from('pn')} ORDER BY pn LIMIT ${rowsOf(limit)}),
       candidates AS (SELECT jid FROM c1 UNION SELECT jid FROM c2 UNION SELECT jid FROM c3),
       pairs AS (
         SELECT m.lid, m.pn FROM candidates c CROSS JOIN wa_lid_mappings m WHERE m.session_id = :s AND m.lid = c.jid
         UNION SELECT m.lid, m.pn FROM candidates c CROSS JOIN wa_lid_mappings m WHERE m.session_id = :s AND m.pn = c.jid
       ),
       forms AS (SELECT jid FROM candidates UNION SELECT lid FROM pairs UNION SELECT pn FROM pairs)
       SELECT 'c1' AS kind, jid, CAST(NULL AS TEXT) AS t1, CAST(NULL AS TEXT) AS t2 FROM c1
       UNION ALL SELECT 'c2', jid, NULL, NULL FROM c2
       UNION ALL SELECT 'c3', jid, NULL, NULL FROM c3
       UNION ALL SELECT 'pair', lid, pn, NULL FROM pairs
       UNION ALL SELECT 'name', n.jid, n.name, n.saved_name FROM forms f CROSS JOIN wa_contacts n WHERE n.session_id = :s AND n.jid = f.jid`,
      { s: sessionId, ...(after !== undefined ? { after } : {}) },
    );
    const batch: ContactBatch = { sources: [[], [], []], pairs: [], names: new Map() };
    for (const r of rows) {
      if (r.kind === 'c1' || r.kind === 'c2' || r.kind === 'c3') batch.sources[Number(r.kind[1]) - 1]!.push(r.jid);
      else if (r.kind === 'pair') batch.pairs.push({ lid: r.jid, pn: r.t1 ?? '' });
      else if (r.kind === 'name') batch.names.set(r.jid, namesOf(r));
    }
    // In order (as stored, as the cursor compares them): a source's last jid is where its range stopped.
    for (const source of batch.sources) source.sort();
    return batch;
  }
}

/** A message row as read here: the entity's fields with the drivers' types made plain. */
function toMessage(r: Record<string, unknown>): WaMessageEntity {
  const ms = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return Object.assign(new WaMessageEntity(), {
    sessionId: r.session_id as string,
    chatJid: r.chat_jid as string,
    messageId: r.message_id as string,
    fromMe: r.from_me === true || r.from_me === 1,
    participant: (r.participant as string | null) ?? null,
    type: r.type as string,
    timestampMs: Number(r.timestamp_ms),
    status: (r.status as string | null) ?? null,
    readAt: ms(r.read_at),
    editedText: (r.edited_text as string | null) ?? null,
    editedAt: ms(r.edited_at),
    deletedAt: ms(r.deleted_at),
    raw: r.raw as string,
  });
}

function namesOf(r: Row): NamesRow {
  return { ...(r.t2 ? { saved: r.t2 } : {}), ...(r.t1 ? { push: r.t1 } : {}) };
}

import { namedSql } from '../database/named-sql';
import { lidReceiptLock } from './member-receipts';

/** What both a migration's QueryRunner and a transaction's EntityManager offer. */
export interface Querier {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** A status only moves forward (as `MessageStore` ranks them): of two copies the further one wins. */
const STATUS_RANK: Record<string, number> = { failed: 0, sent: 1, delivered: 2, read: 3 };

interface DuplicateRow {
  message_id: string;
  from_me: boolean | number;
  status: string | null;
  read_at: string | number | null;
  edited_text: string | null;
  edited_at: string | number | null;
  deleted_at: string | number | null;
  p_status: string | null;
  p_read_at: string | number | null;
  p_edited_at: string | number | null;
  p_deleted_at: string | number | null;
}

/**
 * Moves everything a session stored under a contact's LID to its phone-number jid, the one chat id
 * the store keeps per contact: messages (chat and group author), the chat summary, the
 * correspondent, the chat's organisation, label associations, poll votes and the contact's name.
 * A row that exists under both forms is kept once: a message keeps the furthest status and the
 * newest edit, a summary the newest message, organisation, names and votes the newest change.
 * Run inside a transaction; running it again finds nothing to move.
 */
export async function mergeLidRows(q: Querier, postgres: boolean, sessionId: string, lid: string, pn: string): Promise<void> {
  const run = (sql: string, values: Record<string, unknown>) => {
    const { text, params } = namedSql(sql, values, postgres);
    return q.query(text, params);
  };
  const v = { s: sessionId, lid, pn, lidDevice: `${lid.slice(0, lid.indexOf('@'))}:%@lid` };

  // A message stored under both forms (an own message seen from another device, say): fold the
  // LID copy into the phone-number one, then drop it.
  const dups = (await run(
    `SELECT l.message_id, l.from_me, l.status, l.read_at, l.edited_text, l.edited_at, l.deleted_at,
            p.status AS p_status, p.read_at AS p_read_at, p.edited_at AS p_edited_at, p.deleted_at AS p_deleted_at
     FROM wa_messages l JOIN wa_messages p
       ON p.session_id = l.session_id AND p.message_id = l.message_id AND p.from_me = l.from_me AND p.chat_jid = :pn
     WHERE l.session_id = :s AND l.chat_jid = :lid`,
    v,
  )) as DuplicateRow[];
  for (const d of dups) {
    const status = d.status !== null && (d.p_status === null || (STATUS_RANK[d.status] ?? -1) > (STATUS_RANK[d.p_status] ?? -1)) ? d.status : d.p_status;
    const newerEdit = d.edited_at !== null && (d.p_edited_at === null || Number(d.edited_at) > Number(d.p_edited_at));
    const key = { ...v, id: d.message_id, fromMe: d.from_me };
    await run(
      `UPDATE wa_messages SET status = :status, read_at = COALESCE(read_at, :readAt), deleted_at = COALESCE(deleted_at, :deletedAt)
       WHERE session_id = :s AND chat_jid = :pn AND message_id = :id AND from_me = :fromMe`,
      { ...key, status, readAt: d.read_at, deletedAt: d.deleted_at },
    );
    if (newerEdit) {
      await run(`UPDATE wa_messages SET edited_text = :text, edited_at = :at WHERE session_id = :s AND chat_jid = :pn AND message_id = :id AND from_me = :fromMe`, {
        ...key,
        text: d.edited_text,
        at: d.edited_at,
      });
    }
    await run(`DELETE FROM wa_messages WHERE session_id = :s AND chat_jid = :lid AND message_id = :id AND from_me = :fromMe`, key);
  }
  await run(`UPDATE wa_messages SET chat_jid = :pn WHERE session_id = :s AND chat_jid = :lid`, v);
  await run(`UPDATE wa_messages SET participant = :pn WHERE session_id = :s AND (participant = :lid OR participant LIKE :lidDevice)`, v);

  // The summary keeps the newer head of the two.
  await run(
    `INSERT INTO wa_chats (session_id, chat_jid, last_message_at, last_message_id)
     SELECT session_id, :pn, last_message_at, last_message_id FROM wa_chats WHERE session_id = :s AND chat_jid = :lid
     ON CONFLICT (session_id, chat_jid) DO UPDATE SET last_message_at = excluded.last_message_at, last_message_id = excluded.last_message_id
     WHERE excluded.last_message_at > wa_chats.last_message_at
        OR (excluded.last_message_at = wa_chats.last_message_at AND excluded.last_message_id > wa_chats.last_message_id)`,
    v,
  );
  await run(`DELETE FROM wa_chats WHERE session_id = :s AND chat_jid = :lid`, v);

  await run(`INSERT INTO wa_correspondents (session_id, jid) SELECT session_id, :pn FROM wa_correspondents WHERE session_id = :s AND jid = :lid ON CONFLICT DO NOTHING`, v);
  await run(`DELETE FROM wa_correspondents WHERE session_id = :s AND jid = :lid`, v);

  await run(
    `INSERT INTO wa_chat_states (session_id, chat_jid, archived, pinned_at, muted_until, unread, updated_at)
     SELECT session_id, :pn, archived, pinned_at, muted_until, unread, updated_at FROM wa_chat_states WHERE session_id = :s AND chat_jid = :lid
     ON CONFLICT (session_id, chat_jid) DO UPDATE SET archived = excluded.archived, pinned_at = excluded.pinned_at, muted_until = excluded.muted_until,
       unread = excluded.unread, updated_at = excluded.updated_at
     WHERE excluded.updated_at > wa_chat_states.updated_at`,
    v,
  );
  await run(`DELETE FROM wa_chat_states WHERE session_id = :s AND chat_jid = :lid`, v);

  await run(
    `INSERT INTO wa_label_associations (session_id, label_id, chat_jid, message_id)
     SELECT session_id, label_id, :pn, message_id FROM wa_label_associations WHERE session_id = :s AND chat_jid = :lid
     ON CONFLICT DO NOTHING`,
    v,
  );
  await run(`DELETE FROM wa_label_associations WHERE session_id = :s AND chat_jid = :lid`, v);

  await run(`UPDATE wa_poll_votes SET chat_jid = :pn WHERE session_id = :s AND chat_jid = :lid`, v);
  await run(
    `INSERT INTO wa_poll_votes (session_id, poll_id, voter, chat_jid, selected, timestamp_ms)
     SELECT session_id, poll_id, :pn, chat_jid, selected, timestamp_ms FROM wa_poll_votes WHERE session_id = :s AND voter = :lid
     ON CONFLICT (session_id, poll_id, voter) DO UPDATE SET chat_jid = excluded.chat_jid, selected = excluded.selected, timestamp_ms = excluded.timestamp_ms
     WHERE excluded.timestamp_ms > wa_poll_votes.timestamp_ms`,
    v,
  );
  await run(`DELETE FROM wa_poll_votes WHERE session_id = :s AND voter = :lid`, v);

  await run(
    // The newer row's push name; a saved name from either row (the newer one's when both have one).
    `INSERT INTO wa_contacts (session_id, jid, name, saved_name, updated_at)
     SELECT session_id, :pn, name, saved_name, updated_at FROM wa_contacts WHERE session_id = :s AND jid = :lid
     ON CONFLICT (session_id, jid) DO UPDATE SET
       name = CASE WHEN excluded.updated_at > wa_contacts.updated_at THEN excluded.name ELSE wa_contacts.name END,
       saved_name = CASE WHEN excluded.updated_at > wa_contacts.updated_at THEN COALESCE(excluded.saved_name, wa_contacts.saved_name) ELSE COALESCE(wa_contacts.saved_name, excluded.saved_name) END,
       updated_at = CASE WHEN excluded.updated_at > wa_contacts.updated_at THEN excluded.updated_at ELSE wa_contacts.updated_at END`,
    v,
  );
  await run(`DELETE FROM wa_contacts WHERE session_id = :s AND jid = :lid`, v);
}

/**
 * Moves a session's group-member receipts recorded under a LID to its phone-number jid, the form
 * later receipts of the member are recorded under: a receipt WhatsApp delivers again after the
 * pair became known must meet its first copy. A receipt held under both forms is kept once (the
 * phone-number row). Not part of `mergeLidRows`, which the one-chat-per-contact migration runs before this
 * table exists; no receipt was recorded under a LID before the table, so nothing is left behind.
 */
export async function mergeLidReceipts(q: Querier, postgres: boolean, sessionId: string, lid: string, pn: string): Promise<void> {
  const run = (sql: string, values: Record<string, unknown>) => {
    const { text, params } = namedSql(sql, values, postgres);
    return q.query(text, params);
  };
  const v = { s: sessionId, lid, pn };
  // Waits for LID receipts being written now, and holds later ones until this commits (see `lidReceiptLock`).
  if (postgres) await q.query(lidReceiptLock(false), [sessionId]);
  await run(
    `INSERT INTO wa_member_receipts (session_id, message_id, member, status, at)
     SELECT session_id, message_id, :pn, status, at FROM wa_member_receipts WHERE session_id = :s AND member = :lid
     ON CONFLICT DO NOTHING`,
    v,
  );
  await run(`DELETE FROM wa_member_receipts WHERE session_id = :s AND member = :lid`, v);
}

/**
 * The known pairs whose LID still names stored rows (of every session): what a merge has left to
 * do. One pass over each table's LID-named rows, matched to the pairs here (a group author may be
 * stored with its device part).
 */
export async function pairsToMerge(q: Querier): Promise<{ sessionId: string; lid: string; pn: string }[]> {
  const mappings = (await q.query('SELECT session_id, lid, pn FROM wa_lid_mappings')) as { session_id: string; lid: string; pn: string }[];
  if (!mappings.length) return [];
  const used = new Set<string>();
  const uses = [
    ['wa_messages', 'chat_jid'],
    ['wa_messages', 'participant'],
    ['wa_chats', 'chat_jid'],
    ['wa_correspondents', 'jid'],
    ['wa_chat_states', 'chat_jid'],
    ['wa_label_associations', 'chat_jid'],
    ['wa_poll_votes', 'voter'],
    ['wa_contacts', 'jid'],
  ];
  for (const [table, column] of uses) {
    const rows = (await q.query(`SELECT DISTINCT session_id, ${column} AS jid FROM ${table} WHERE ${column} LIKE '%@lid'`)) as { session_id: string; jid: string }[];
    for (const r of rows) used.add(`${r.session_id}|${r.jid.replace(/:\d+@/, '@')}`);
  }
  return mappings.filter((m) => used.has(`${m.session_id}|${m.lid}`)).map((m) => ({ sessionId: m.session_id, lid: m.lid, pn: m.pn }));
}

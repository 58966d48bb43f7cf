import { randomBytes } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { WaMessageIds } from '@wa/domain';
import { HotSql, TurnBatcher, unnestColumns, type OutboxStatus, type SendMode } from '@wa/contracts';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { WA_MESSAGE_ID_KEY } from '../database/migrations/1764001300000-outbox-wa-sort';

export interface SessionRow {
  id: string;
  status: string;
  meJid: string | null;
  meLid: string | null;
}

export interface IdempotencyRow {
  requestHash: string;
  outboxId: string;
  response: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface OutboxRow {
  id: string;
  orgId: string;
  sessionId: string;
  chat: string;
  kind: string;
  action: string;
  waMessageId: string;
  mode: SendMode;
  status: OutboxStatus;
  error: string | null;
  attempts: number;
  nextAttemptAt: number | null;
  claimToken: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A receipt's or ack's status for the outbox entry of a WhatsApp message. */
export interface StatusToApply {
  orgId: string;
  sessionId: string;
  waMessageId: string;
  status: keyof typeof ADVANCE_FROM;
  error: string | null;
}

/** What a status did: the entries it moved, and the entry its message went out as (moved or not). */
export interface AdvanceResult {
  moved: string[];
  entry?: string;
}

/** What an insert sets; the rest of the row starts as a fresh `queued` entry. */
export type NewOutboxEntry = Pick<OutboxRow, 'id' | 'orgId' | 'sessionId' | 'chat' | 'kind' | 'action' | 'waMessageId' | 'mode' | 'createdAt'>;

export interface NewIdempotencyKey {
  route: string;
  key: string;
  requestHash: string;
  expiresAt: number;
  /** Stored at once for async answers; sync answers store theirs when the wait ends. */
  response: string | null;
}

type Row = Record<string, unknown>;

/** One `claimChatHead`, as `OutboxStore.claims` gathers them. */
interface ClaimItem {
  sessionId: string;
  chat: string;
  token: string;
  now: number;
  expiresAt: number;
}

/** One `finishHandedOver` with a next claim, as `OutboxStore.finishes` gathers them. */
interface FinishItem {
  id: string;
  token: string;
  status: 'sending' | 'sent';
  now: number;
  next: { token: string; expiresAt: number };
}

const OUTBOX_COLUMNS =
  'id, org_id, session_id, chat, kind, action, wa_message_id, mode, status, error, attempts, next_attempt_at, claim_token, created_at, updated_at';

/** Statuses an event may move an entry from: status only moves forward (`failed` never overrides a receipt). */
const ADVANCE_FROM: Record<'sent' | 'delivered' | 'read' | 'failed', string> = {
  sent: "'queued', 'sending'",
  delivered: "'queued', 'sending', 'sent'",
  read: "'queued', 'sending', 'sent', 'delivered'",
  failed: "'queued', 'sending', 'sent'",
};

/** What a claim sets: its token and expiry, `sending`, one attempt more (parameter numbers given). */
const claimSet = (token: string, expiresAt: string, now: string): string =>
  `claim_token = ${token}, claim_expires_at = ${expiresAt}, status = CASE WHEN status = 'queued' THEN 'sending' ELSE status END, attempts = attempts + 1, updated_at = ${now}`;
/** An entry is claimable when it is due and nobody holds it. */
const claimableAt = (now: string): string => `next_attempt_at <= ${now} AND (claim_expires_at IS NULL OR claim_expires_at < ${now})`;
/** What the end of a hand-over sets ($3 the status, $4 now). */
const HANDED_OVER_SET =
  "status = CASE WHEN status IN ('queued', 'sending') THEN $3 ELSE status END, error = NULL, next_attempt_at = NULL, claim_token = NULL, claim_expires_at = NULL, updated_at = $4";

/**
 * Where a claim, its renewal or the end of a hand-over lets PostgreSQL commit without waiting for
 * its WAL to reach the disk: the statement's UPDATE joins a one-row relation that sets
 * `synchronous_commit` off for its own transaction (`set_config(..., true)`), so the connection's
 * setting stays as it was. If the statement wrote anything, that join ran. A comment until then,
 * so SQLite runs the same text.
 *
 * Safe because none of them has to survive a crash of PostgreSQL itself: the entry they act on was
 * stored with a flushed commit, and the next flushed commit (any accept, the runner's send log when
 * it shares the server) or the WAL writer (within `wal_writer_delay`, 200 ms by default) writes them
 * down too. A claim lost that way leaves the entry waiting: it is claimed again, and the runner's
 * send log, written with a flushed commit before the message goes out, answers with what was sent
 * instead of sending it twice. A lost end does the same once its claim has expired. Each flush cost
 * a sync send 0.3 to 0.9 ms on its critical path (a claim and an end per send).
 */
const RELAXED = '/*relaxed*/';
/** The same for an UPDATE that already has a FROM list. */
const RELAXED_JOINED = '/*, relaxed*/';
const RELAXED_COMMIT = "(SELECT set_config('synchronous_commit', 'off', true)) AS relaxed";

/** The PostgreSQL text of a statement: its relaxed commit made real. */
function postgresText(sql: string): string {
  return sql.replace(RELAXED, `FROM ${RELAXED_COMMIT}`).replace(RELAXED_JOINED, `, ${RELAXED_COMMIT}`);
}

const SQL = {
  session: 'SELECT id, status, me_jid, me_lid FROM sessions WHERE org_id = $1 AND id = $2',
  // PostgreSQL: the sessions several requests of one turn ask for, in one round trip (by primary key; the org is checked per request).
  sessionsById: 'SELECT id, org_id, status, me_jid, me_lid FROM sessions WHERE id = ANY($1::text[])',
  idempotency: 'SELECT request_hash, outbox_id, response, created_at, expires_at FROM idempotency_keys WHERE org_id = $1 AND route = $2 AND idem_key = $3',
  // An expired key that was not purged yet is taken over; a live one makes the insert a no-op.
  claimKey:
    'INSERT INTO idempotency_keys (org_id, route, idem_key, request_hash, outbox_id, response, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ' +
    'ON CONFLICT (org_id, route, idem_key) DO UPDATE SET request_hash = excluded.request_hash, outbox_id = excluded.outbox_id, response = excluded.response, ' +
    'created_at = excluded.created_at, expires_at = excluded.expires_at WHERE idempotency_keys.expires_at < excluded.created_at',
  insert:
    'INSERT INTO outbox (id, org_id, session_id, chat, kind, action, wa_message_id, mode, status, error, attempts, next_attempt_at, claim_token, claim_expires_at, created_at, updated_at, wa_sort) ' +
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', NULL, 0, $9, NULL, NULL, $9, $9, $10)",
  // SQLite: the entry right after its key's `claimKey`, written only if that wrote the key.
  insertIfKeyed:
    'INSERT INTO outbox (id, org_id, session_id, chat, kind, action, wa_message_id, mode, status, error, attempts, next_attempt_at, claim_token, claim_expires_at, created_at, updated_at, wa_sort) ' +
    "SELECT $1, $2, $3, $4, $5, $6, $7, $8, 'queued', NULL, 0, $9, NULL, NULL, $9, $9, $10 WHERE changes() > 0",
  // PostgreSQL: the key and the entry in one statement (one round trip, one commit); the entry is
  // written only when the key was (a live key with that name makes both a no-op).
  acceptWithKey:
    'WITH k AS (INSERT INTO idempotency_keys (org_id, route, idem_key, request_hash, outbox_id, response, created_at, expires_at) ' +
    'VALUES ($1, $2, $3, $4, $5, $6, $7::bigint, $8::bigint) ' +
    'ON CONFLICT (org_id, route, idem_key) DO UPDATE SET request_hash = excluded.request_hash, outbox_id = excluded.outbox_id, response = excluded.response, ' +
    'created_at = excluded.created_at, expires_at = excluded.expires_at WHERE idempotency_keys.expires_at < excluded.created_at RETURNING 1) ' +
    'INSERT INTO outbox (id, org_id, session_id, chat, kind, action, wa_message_id, mode, status, error, attempts, next_attempt_at, claim_token, claim_expires_at, created_at, updated_at, wa_sort) ' +
    "SELECT $9, $10, $11, $12, $13, $14, $15, $16, 'queued', NULL, 0, $17::bigint, NULL, NULL, $17::bigint, $17::bigint, $18 WHERE EXISTS (SELECT 1 FROM k)",
  // Relaxed (see RELAXED): the answer is a copy of its entry's state. Lost with a crash of
  // PostgreSQL, a repeat of the request is told it is in flight, then, once the request counts as
  // abandoned, answered from the entry.
  saveResponse: `UPDATE idempotency_keys SET response = $4 ${RELAXED} WHERE org_id = $1 AND route = $2 AND idem_key = $3`,
  // PostgreSQL only: the answers of many requests in one statement (`saveResponse` of each).
  saveResponses:
    `UPDATE idempotency_keys k SET response = r.response FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS r(org_id, route, idem_key, response) ${RELAXED_JOINED} ` +
    'WHERE k.org_id = r.org_id AND k.route = r.route AND k.idem_key = r.idem_key',
  get: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE org_id = $1 AND session_id = $2 AND id = $3`,
  byId: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = $1`,
  // By `wa_sort` (ix_outbox_wa_sort), the id's deciphered value ($4); the id itself is checked too.
  idForWaMessage: 'SELECT id FROM outbox WHERE org_id = $1 AND session_id = $2 AND wa_sort = $4 AND wa_message_id = $3 ORDER BY id LIMIT 1',
  // Heads of their chat only: an earlier entry of the chat that still needs the dispatcher keeps
  // later ones waiting. Found by skipping from chat to chat through ix_outbox_waiting_chat: one
  // probe per connected session, then one per chat with waiting entries, however many entries
  // wait behind the heads (reading every waiting entry and asking of each whether an earlier one
  // waits cost 9,000 buffers a pass on PostgreSQL with a backlog of 6,000 in 100 chats).
  claimable:
    'WITH RECURSIVE heads(id, session_id, chat) AS (' +
    "SELECT f.id, f.session_id, f.chat FROM sessions s CROSS JOIN outbox f WHERE s.status = 'connected' AND f.id = " +
    '(SELECT x.id FROM outbox x WHERE x.session_id = s.id AND x.next_attempt_at IS NOT NULL ORDER BY x.chat, x.id LIMIT 1) ' +
    'UNION ALL ' +
    'SELECT n.id, n.session_id, n.chat FROM heads h CROSS JOIN outbox n WHERE n.id = ' +
    '(SELECT x.id FROM outbox x WHERE x.session_id = h.session_id AND x.chat > h.chat AND x.next_attempt_at IS NOT NULL ORDER BY x.chat, x.id LIMIT 1)) ' +
    `SELECT o.id, o.session_id FROM heads h CROSS JOIN outbox o WHERE o.id = h.id AND ${claimableAt('$1')} ORDER BY o.id LIMIT $2`,
  // The oldest waiting entry of one chat, if it is due and nobody holds it (ix_outbox_waiting_chat).
  claimChatHead:
    `UPDATE outbox SET ${claimSet('$3', '$4', '$5')} ${RELAXED} ` +
    'WHERE id = (SELECT h.id FROM outbox h WHERE h.session_id = $1 AND h.chat = $2 AND h.next_attempt_at IS NOT NULL ORDER BY h.id LIMIT 1) ' +
    `AND ${claimableAt('$5')} RETURNING ${OUTBOX_COLUMNS}`,
  // PostgreSQL: `claimChatHead` for several chats in one statement ($1 sessions, $2 chats, $3 the
  // claims' tokens, $4 their expiries, $5 each claim's now); each claimed entry comes back with the
  // token that took it (`claimed_with`). A chat named twice is claimed once, with the lower token.
  claimChatHeads:
    'WITH c AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS c(session_id, chat, token, expires_at, at)), ' +
    'heads AS (SELECT DISTINCT ON (h.id) h.id, c.token, c.expires_at, c.at FROM c CROSS JOIN LATERAL ' +
    '(SELECT x.id FROM outbox x WHERE x.session_id = c.session_id AND x.chat = c.chat AND x.next_attempt_at IS NOT NULL ORDER BY x.id LIMIT 1) h ORDER BY h.id, c.token) ' +
    "UPDATE outbox o SET claim_token = heads.token, claim_expires_at = heads.expires_at, status = CASE WHEN o.status = 'queued' THEN 'sending' ELSE o.status END, " +
    `attempts = o.attempts + 1, updated_at = heads.at FROM heads ${RELAXED_JOINED} ` +
    'WHERE o.id = heads.id AND o.next_attempt_at <= heads.at AND (o.claim_expires_at IS NULL OR o.claim_expires_at < heads.at) ' +
    `RETURNING heads.token AS claimed_with, ${OUTBOX_COLUMNS.split(', ').map((c) => `o.${c}`).join(', ')}`,
  // Finished entries accepted before $1 (an id floor), a bounded batch at a time.
  purgeFinished: 'DELETE FROM outbox WHERE id IN (SELECT o.id FROM outbox o WHERE o.id < $1 AND o.next_attempt_at IS NULL ORDER BY o.id LIMIT $2)',
  claim:
    `UPDATE outbox SET ${claimSet('$2', '$3', '$4')} ${RELAXED} WHERE id = $1 AND next_attempt_at IS NOT NULL AND ${claimableAt('$4')} RETURNING ${OUTBOX_COLUMNS}`,
  finishHandedOver: `UPDATE outbox SET ${HANDED_OVER_SET} ${RELAXED} WHERE id = $1 AND claim_token = $2`,
  // PostgreSQL: `finishHandedOver`, then, only if it held the claim, `claimChatHead` of the same
  // chat ($5 the new token, $6 its expiry), in one statement. The finished entry still counts as
  // waiting in the statement's snapshot, hence `h.id <> $1`.
  finishHandedOverClaimNext:
    `WITH done AS (UPDATE outbox SET ${HANDED_OVER_SET} ${RELAXED} WHERE id = $1 AND claim_token = $2 RETURNING session_id, chat) ` +
    `UPDATE outbox SET ${claimSet('$5', '$6', '$4')} ` +
    'WHERE id = (SELECT h.id FROM done d JOIN outbox h ON h.session_id = d.session_id AND h.chat = d.chat WHERE h.next_attempt_at IS NOT NULL AND h.id <> $1 ORDER BY h.id LIMIT 1) ' +
    `AND ${claimableAt('$4')} RETURNING ${OUTBOX_COLUMNS}`,
  // PostgreSQL: `finishHandedOverClaimNext` for the hand-overs of several chats in one statement
  // ($1 ids, $2 their claim tokens, $3 statuses, $4 the next claims' tokens, $5 their expiries, $6
  // now); each next claim comes back with the id of the entry whose end took it (`done_id`).
  // Entries of one chat never end together (one claim per chat); if two did, the chat's head
  // would go to one of them and the other would find none, as when it is not due.
  finishHandedOverClaimNextMany:
    'WITH f AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS f(id, token, status, next_token, next_expires)), ' +
    "done AS (UPDATE outbox o SET status = CASE WHEN o.status IN ('queued', 'sending') THEN f.status ELSE o.status END, error = NULL, next_attempt_at = NULL, " +
    `claim_token = NULL, claim_expires_at = NULL, updated_at = $6 FROM f ${RELAXED_JOINED} WHERE o.id = f.id AND o.claim_token = f.token RETURNING o.id, o.session_id, o.chat, f.next_token, f.next_expires), ` +
    'heads AS (SELECT DISTINCT ON (d.id) d.id AS done_id, h.id AS head_id, d.next_token, d.next_expires FROM done d JOIN outbox h ON h.session_id = d.session_id AND h.chat = d.chat ' +
    'WHERE h.next_attempt_at IS NOT NULL AND h.id NOT IN (SELECT id FROM f) ORDER BY d.id, h.id) ' +
    "UPDATE outbox o SET claim_token = heads.next_token, claim_expires_at = heads.next_expires, status = CASE WHEN o.status = 'queued' THEN 'sending' ELSE o.status END, " +
    'attempts = o.attempts + 1, updated_at = $6 FROM heads WHERE o.id = heads.head_id AND o.next_attempt_at <= $6 AND (o.claim_expires_at IS NULL OR o.claim_expires_at < $6) ' +
    `RETURNING heads.done_id, ${OUTBOX_COLUMNS.split(', ').map((c) => `o.${c}`).join(', ')}`,
  finishRetry: 'UPDATE outbox SET error = $3, next_attempt_at = $4, claim_token = NULL, claim_expires_at = NULL, updated_at = $5 WHERE id = $1 AND claim_token = $2',
  finishFailed:
    "UPDATE outbox SET status = CASE WHEN status IN ('queued', 'sending') THEN 'failed' ELSE status END, error = $3, next_attempt_at = NULL, claim_token = NULL, claim_expires_at = NULL, updated_at = $4 " +
    'WHERE id = $1 AND claim_token = $2',
  extendClaim: `UPDATE outbox SET claim_expires_at = $3 ${RELAXED} WHERE id = $1 AND claim_token = $2`,
  // PostgreSQL: `extendClaim` of several claims in one statement; the ids it renewed.
  extendClaims:
    `UPDATE outbox o SET claim_expires_at = $3 FROM unnest($1::text[], $2::text[]) AS c(id, token) ${RELAXED_JOINED} WHERE o.id = c.id AND o.claim_token = c.token RETURNING o.id`,
  wakeSession: 'UPDATE outbox SET next_attempt_at = $2 WHERE session_id = $1 AND next_attempt_at > $2',
  expire:
    "UPDATE outbox SET status = 'failed', error = 'expired: not handed to WhatsApp in time', next_attempt_at = NULL, updated_at = $2 " +
    'WHERE next_attempt_at IS NOT NULL AND created_at < $1 AND (claim_expires_at IS NULL OR claim_expires_at < $2)',
  purgeKeys: 'DELETE FROM idempotency_keys WHERE expires_at < $1',
  // The key of the WhatsApp ids (`WaMessageIds`), and a new one if its row is gone (the first of racing replicas wins).
  secret: 'SELECT value FROM gateway_secrets WHERE name = $1',
  mintSecret: 'INSERT INTO gateway_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
  ...(Object.fromEntries(
    Object.entries(ADVANCE_FROM).map(([to, from]) => [
      `advance_${to}`,
      `UPDATE outbox SET status = '${to}', error = COALESCE($3, error), next_attempt_at = NULL, updated_at = $4 WHERE session_id = $1 AND wa_sort = $5 AND wa_message_id = $2 AND status IN (${from}) RETURNING id`,
    ]),
  ) as Record<`advance_${keyof typeof ADVANCE_FROM}`, string>),
  // PostgreSQL only: statuses of different messages in one statement (`advance_*` of each, and the
  // entry its message went out as: the one it moved, else the org's first with its WhatsApp id).
  advanceMany:
    'WITH ev AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(ord, org_id, session_id, wa_message_id, status, error, wa_sort)), ' +
    'moved AS (UPDATE outbox o SET status = ev.status, error = COALESCE(ev.error, o.error), next_attempt_at = NULL, updated_at = $8 FROM ev ' +
    'WHERE o.session_id = ev.session_id AND o.wa_sort = ev.wa_sort AND o.wa_message_id = ev.wa_message_id AND (' +
    Object.entries(ADVANCE_FROM)
      .map(([to, from]) => `(ev.status = '${to}' AND o.status IN (${from}))`)
      .join(' OR ') +
    ') RETURNING o.id, ev.ord) ' +
    'SELECT ev.ord, ARRAY(SELECT m.id FROM moved m WHERE m.ord = ev.ord ORDER BY m.id) AS moved, ' +
    'COALESCE((SELECT m.id FROM moved m WHERE m.ord = ev.ord ORDER BY m.id LIMIT 1), ' +
    '(SELECT f.id FROM outbox f WHERE f.org_id = ev.org_id AND f.session_id = ev.session_id AND f.wa_sort = ev.wa_sort AND f.wa_message_id = ev.wa_message_id ORDER BY f.id LIMIT 1)) AS entry ' +
    'FROM ev ORDER BY ev.ord',
};
type StatementName = keyof typeof SQL;
/** The statements as PostgreSQL runs them (see `RELAXED`). */
const PG_SQL = Object.fromEntries(Object.entries(SQL).map(([name, sql]) => [name, postgresText(sql)])) as Record<StatementName, string>;

/** Executes the named statements prepared once: better-sqlite3 statements, or pg named prepared statements. */
interface PreparedSql {
  all(name: StatementName, params: unknown[]): Promise<Row[]>;
  /** Number of rows written. On SQLite, shares one commit with the other writes of the turn. */
  write(name: StatementName, params: unknown[]): Promise<number>;
  /** The rows a write with RETURNING produced (on SQLite, in the turn's commit as `write`). */
  writeRows(name: StatementName, params: unknown[]): Promise<Row[]>;
  /** Like `write`, but on PostgreSQL may share one statement with the same writes of other requests. */
  writeGrouped(name: StatementName, params: unknown[]): Promise<void>;
  /**
   * The idempotency key (`claimKey`) and the entry (`insert`), atomically; the entry only if the
   * key was written. Returns whether it was. Shares one commit with the keyed accepts of other
   * requests in the same turn of the event loop, as `writeGrouped` does for entries without a key.
   */
  acceptWithKey(keyParams: unknown[], entryParams: unknown[]): Promise<boolean>;
  /** The session row of an org (none or one); may share one read with the other lookups of the same turn. */
  session(orgId: string, id: string): Promise<Row[]>;
  /** `saveResponse`; on PostgreSQL may share one statement with the answers of other requests of the turn. */
  saveResponse(params: [orgId: string, route: string, key: string, response: string]): Promise<void>;
}

/** One keyed accept: the key's parameters (`claimKey`) and the entry's (`insert`). */
interface KeyedAccept {
  keyParams: unknown[];
  entryParams: unknown[];
}

/**
 * SQLite: the statements run on the connection's `HotSql`, so the writes of one turn of the event
 * loop (inserts, keyed accepts, claims, hand-over results, receipts' statuses, and every other
 * HotSql write of the process) commit together: one WAL append for many requests instead of one
 * each, which in an end-to-end run had been the larger part of the gateway's time. Each runs in
 * the order it was asked for and its caller hears back after the commit; if the shared commit
 * fails, each runs alone, so one bad write fails only its own caller.
 */
class SqliteOutboxSql implements PreparedSql {
  constructor(private readonly hot: HotSql) {}

  all(name: StatementName, params: unknown[]): Promise<Row[]> {
    return this.hot.all(SQL[name], params);
  }

  write(name: StatementName, params: unknown[]): Promise<number> {
    return this.hot.run(SQL[name], params);
  }

  async writeGrouped(name: StatementName, params: unknown[]): Promise<void> {
    await this.hot.run(SQL[name], params);
  }

  async saveResponse(params: [string, string, string, string]): Promise<void> {
    await this.hot.run(SQL.saveResponse, params);
  }

  writeRows(name: StatementName, params: unknown[]): Promise<Row[]> {
    return this.hot.writeRows(SQL[name], params);
  }

  /**
   * The key, then the entry only if the key went in (`changes()`: the steps of a batch run back to
   * back), atomically. A key met twice in one turn goes in once, as it would one request after
   * the other.
   */
  async acceptWithKey(keyParams: unknown[], entryParams: unknown[]): Promise<boolean> {
    return (await this.hot.batch([{ sql: SQL.claimKey, params: keyParams }, { sql: SQL.insertIfKeyed, params: entryParams }])) > 0;
  }

  /** Sessions read in this turn of the event loop, by org and id (emptied when the turn ends). */
  private readonly sessionsThisTurn = new Map<string, Promise<Row[]>>();

  /**
   * A read of a local file, shared by the requests of one turn of the event loop that name the
   * same session (concurrent sends mostly do): what they see is the session as of that turn, as
   * if their reads had run back to back. Callers copy the row; none changes it.
   */
  session(orgId: string, id: string): Promise<Row[]> {
    const key = `${orgId}\n${id}`;
    let read = this.sessionsThisTurn.get(key);
    if (!read) {
      if (this.sessionsThisTurn.size === 0) setImmediate(() => this.sessionsThisTurn.clear());
      read = this.hot.all(SQL.session, [orgId, id]);
      this.sessionsThisTurn.set(key, read);
    }
    return read;
  }
}

/**
 * Sent unnamed on PostgreSQL, so planned at each call for the outbox as it is then. A named
 * statement keeps the generic plan it first got: made while the outbox was nearly empty, the
 * timed pass's plan walked every waiting entry (7,800 buffers and 21 ms a pass in `bench:e2e` with
 * a backlog, where autovacuum never analyzed the table to replace it). The pass runs a few times a
 * second at most; planning it each time costs well under a millisecond.
 */
const PLANNED_EACH_CALL: ReadonlySet<StatementName> = new Set(['claimable']);

class PostgresPrepared implements PreparedSql {
  constructor(private readonly pool: Pool) {}

  async all(name: StatementName, params: unknown[]): Promise<Row[]> {
    const query = PLANNED_EACH_CALL.has(name) ? { text: PG_SQL[name], values: params } : { name, text: PG_SQL[name], values: params };
    return (await this.pool.query(query)).rows as Row[];
  }

  async write(name: StatementName, params: unknown[]): Promise<number> {
    return (await this.pool.query({ name, text: PG_SQL[name], values: params })).rowCount ?? 0;
  }

  async writeRows(name: StatementName, params: unknown[]): Promise<Row[]> {
    return (await this.pool.query({ name, text: PG_SQL[name], values: params })).rows as Row[];
  }

  /**
   * Every request reads its session first; the reads of one turn of the event loop go as one
   * statement (concurrent requests mostly name the same few sessions). A row of another org is
   * no answer, exactly as the single read's `org_id = $1` would have it.
   */
  private readonly sessions = new TurnBatcher<{ orgId: string; id: string }, Row[]>(
    async (items) => {
      const ids = [...new Set(items.map((it) => it.id))];
      const byId = new Map((await this.all('sessionsById', [ids])).map((r) => [r.id as string, r]));
      return items.map((it) => {
        const row = byId.get(it.id);
        return row && row.org_id === it.orgId ? [row] : [];
      });
    },
    (it) => this.all('session', [it.orgId, it.id]),
    MAX_GROUP,
  );

  session(orgId: string, id: string): Promise<Row[]> {
    return this.sessions.add({ orgId, id });
  }

  /**
   * Inserts queued within one turn of the event loop go as one multi-row INSERT: one round trip
   * and one commit (one WAL flush) for many requests, where each had paid its own. Every caller
   * hears back only after the statement committed; if it fails, each row is retried alone so a
   * bad row fails only its own request.
   */
  private readonly grouped = new Map<StatementName, TurnBatcher<unknown[], void>>();

  writeGrouped(name: StatementName, params: unknown[]): Promise<void> {
    let batcher = this.grouped.get(name);
    if (!batcher) {
      batcher = new TurnBatcher<unknown[], void>(
        async (items) => {
          await this.pool.query({ name: `${name}_x${items.length}`, text: multiRow(PG_SQL[name], items.length), values: items.flat() });
          return items.map(() => undefined);
        },
        async (params) => void (await this.write(name, params)),
        MAX_GROUP,
      );
      this.grouped.set(name, batcher);
    }
    return batcher.add(params);
  }

  /**
   * The keyed accepts of one turn as one statement (`acceptManyWithKey`): one round trip and one
   * commit for all of them, each entry written only if its key was. A key twice in the group
   * makes PostgreSQL refuse the statement (ON CONFLICT would touch one row twice); then, as on any
   * failure, each goes alone, in order.
   */
  private readonly accepts = new TurnBatcher<KeyedAccept, boolean>(
    async (items) => {
      const values = items.flatMap((it) => [...it.keyParams, ...ACCEPT_ENTRY_COLUMNS.map((i) => it.entryParams[i])]);
      const { rows } = await this.pool.query({ name: `acceptManyWithKey_x${items.length}`, text: acceptManyWithKey(items.length), values });
      const written = new Set(rows.map((r: Row) => r.id));
      // The outbox id is the key's outbox_id (keyParams[4]) and the entry's id.
      return items.map((it) => written.has(it.keyParams[4]));
    },
    async (it) => ((await this.pool.query({ name: 'acceptWithKey', text: PG_SQL.acceptWithKey, values: [...it.keyParams, ...it.entryParams] })).rowCount ?? 0) > 0,
    MAX_GROUP,
  );

  acceptWithKey(keyParams: unknown[], entryParams: unknown[]): Promise<boolean> {
    return this.accepts.add({ keyParams, entryParams });
  }

  /** The answers of a turn's sync sends with a key: one statement (a key has one request, so no row twice). */
  private readonly responses = new TurnBatcher<[string, string, string, string], void>(
    async (items) => {
      await this.pool.query({ name: 'saveResponses', text: PG_SQL.saveResponses, values: unnestColumns(items, (it) => it) });
      return items.map(() => undefined);
    },
    async (params) => void (await this.write('saveResponse', params)),
    MAX_GROUP,
  );

  saveResponse(params: [string, string, string, string]): Promise<void> {
    return this.responses.add(params);
  }
}

/** The entry's values `acceptManyWithKey` takes after the key's eight: session, chat, kind, action, WhatsApp id, mode, sort key (id, org and time are the key's). */
const ACCEPT_ENTRY_COLUMNS = [2, 3, 4, 5, 6, 7, 9];

/**
 * PostgreSQL: `rows` keyed accepts in one statement. The key's eight values and six of the
 * entry's per row; the keys go in (or take over an expired key), and the entries whose key went
 * in follow, their ids returned.
 */
function acceptManyWithKey(rows: number): string {
  const types = ['text', 'text', 'text', 'text', 'text', 'text', 'bigint', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];
  const tuples = Array.from({ length: rows }, (_, r) => `(${types.map((t, c) => `$${r * types.length + c + 1}::${t}`).join(', ')})`);
  return (
    'WITH v (org_id, route, idem_key, request_hash, outbox_id, response, created_at, expires_at, session_id, chat, kind, action, wa_message_id, mode, wa_sort) AS ' +
    `(VALUES ${tuples.join(', ')}), ` +
    'k AS (INSERT INTO idempotency_keys (org_id, route, idem_key, request_hash, outbox_id, response, created_at, expires_at) ' +
    'SELECT org_id, route, idem_key, request_hash, outbox_id, response, created_at, expires_at FROM v ' +
    'ON CONFLICT (org_id, route, idem_key) DO UPDATE SET request_hash = excluded.request_hash, outbox_id = excluded.outbox_id, response = excluded.response, ' +
    'created_at = excluded.created_at, expires_at = excluded.expires_at WHERE idempotency_keys.expires_at < excluded.created_at RETURNING outbox_id) ' +
    'INSERT INTO outbox (id, org_id, session_id, chat, kind, action, wa_message_id, mode, status, error, attempts, next_attempt_at, claim_token, claim_expires_at, created_at, updated_at, wa_sort) ' +
    "SELECT v.outbox_id, v.org_id, v.session_id, v.chat, v.kind, v.action, v.wa_message_id, v.mode, 'queued', NULL, 0, v.created_at, NULL, NULL, v.created_at, v.created_at, v.wa_sort " +
    'FROM v JOIN k ON k.outbox_id = v.outbox_id RETURNING id'
  );
}

/** At most this many rows per grouped INSERT (and so at most this many prepared variants per connection). */
const MAX_GROUP = 64;

/** `INSERT ... VALUES (<tuple>)` with the tuple repeated `rows` times, each copy's parameters numbered after the previous copy's. */
function multiRow(sql: string, rows: number): string {
  const at = sql.lastIndexOf('VALUES (');
  const head = sql.slice(0, at + 'VALUES '.length);
  const tuple = sql.slice(at + 'VALUES '.length);
  const width = Math.max(...[...tuple.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  const tuples = Array.from({ length: rows }, (_, r) => tuple.replace(/\$(\d+)/g, (_m, n: string) => `$${r * width + Number(n)}`));
  return head + tuples.join(', ');
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The entry a statement returned first, if any. */
const firstEntry = (rows: Row[]): OutboxRow | undefined => (rows[0] ? toOutboxRow(rows[0]) : undefined);

/** Each item's entry among the rows of a batch, found by the column that names its item; undefined for an item with none. */
function entriesByKey<I>(items: I[], rows: Row[], column: string, key: (item: I) => string): (OutboxRow | undefined)[] {
  const byKey = new Map(rows.map((r) => [r[column] as string, r]));
  return items.map((it) => {
    const row = byKey.get(key(it));
    return row ? toOutboxRow(row) : undefined;
  });
}

function toOutboxRow(r: Row): OutboxRow {
  return {
    id: r.id as string,
    orgId: r.org_id as string,
    sessionId: r.session_id as string,
    chat: r.chat as string,
    kind: r.kind as string,
    action: r.action as string,
    waMessageId: r.wa_message_id as string,
    mode: r.mode as SendMode,
    status: r.status as OutboxStatus,
    error: (r.error as string | null) ?? null,
    attempts: num(r.attempts),
    nextAttemptAt: numOrNull(r.next_attempt_at),
    claimToken: (r.claim_token as string | null) ?? null,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/**
 * The only code that touches the outbox and idempotency tables. Hand-written, prepared SQL
 * instead of TypeORM: this is the send hot path (TypeORM costs ~4x a prepared statement), and
 * the claims need conditional UPDATEs that several gateway replicas can race on safely. It also
 * reads a session's status with a prepared statement, for the same reason.
 */
@Injectable()
export class OutboxStore implements OnModuleInit {
  private readonly sql: PreparedSql;
  /**
   * Whether writes asked for in one turn of the event loop run in that order in one transaction
   * (SQLite's one connection): a claim asked for right after an insert then sees the entry.
   */
  readonly writesInOrder: boolean;

  /**
   * PostgreSQL: the ends of hand-overs of one turn (with their next claims) in one statement.
   * Answers from the runner come in together under load, and each end was a round trip and a
   * commit of its own.
   */
  private readonly finishes = new TurnBatcher<FinishItem, OutboxRow | undefined>(
    async (items) => {
      const rows = await this.sql.writeRows('finishHandedOverClaimNextMany', [
        ...unnestColumns(items, (it) => [it.id, it.token, it.status, it.next.token, it.next.expiresAt]),
        Math.max(...items.map((it) => it.now)),
      ]);
      return entriesByKey(items, rows, 'done_id', (it) => it.id);
    },
    async (it) => {
      return firstEntry(await this.sql.writeRows('finishHandedOverClaimNext', [it.id, it.token, it.status, it.now, it.next.token, it.next.expiresAt]));
    },
    MAX_GROUP,
  );

  /**
   * PostgreSQL: the chat claims of one turn (the dispatcher looks at the chats that got entries
   * together) in one statement, each answered with the entry its own token took.
   */
  private readonly claims = new TurnBatcher<ClaimItem, OutboxRow | undefined>(
    async (items) => {
      const rows = await this.sql.writeRows('claimChatHeads', unnestColumns(items, (it) => [it.sessionId, it.chat, it.token, it.expiresAt, it.now]));
      return entriesByKey(items, rows, 'claimed_with', (it) => it.token);
    },
    async (it) => {
      return firstEntry(await this.sql.writeRows('claimChatHead', [it.sessionId, it.chat, it.token, it.expiresAt, it.now]));
    },
    MAX_GROUP,
  );

  /** Mints the entries' WhatsApp ids and finds them again (`WaMessageIds`); its key is read at init. */
  private waIds?: WaMessageIds;

  constructor(ds: DataSource) {
    const hot = HotSql.of(ds);
    this.writesInOrder = hot.kind === 'sqlite';
    this.sql = hot.kind === 'sqlite' ? new SqliteOutboxSql(hot) : new PostgresPrepared((ds.driver as unknown as { master: Pool }).master);
  }

  /**
   * Reads the key of the WhatsApp ids, which the migration minted once for every replica; a
   * database without one (its row deleted) gets a new one, the same for every replica that races.
   */
  async onModuleInit(): Promise<void> {
    const read = async (): Promise<string | undefined> => (await this.sql.all('secret', [WA_MESSAGE_ID_KEY]))[0]?.value as string | undefined;
    let key = await read();
    if (key === undefined) {
      await this.sql.write('mintSecret', [WA_MESSAGE_ID_KEY, randomBytes(32).toString('hex')]);
      key = (await read()) as string;
    }
    this.waIds = new WaMessageIds(Buffer.from(key, 'hex'));
  }

  private get ids(): WaMessageIds {
    if (!this.waIds) throw new Error('OutboxStore used before its init read the WhatsApp id key');
    return this.waIds;
  }

  /** A new WhatsApp message id for an entry (see `WaMessageIds`). */
  mintWaMessageId(now: number): string {
    return this.ids.mint(now);
  }

  async session(orgId: string, id: string): Promise<SessionRow | undefined> {
    const [r] = await this.sql.session(orgId, id);
    return r ? { id: r.id as string, status: r.status as string, meJid: (r.me_jid as string | null) ?? null, meLid: (r.me_lid as string | null) ?? null } : undefined;
  }

  async idempotency(orgId: string, route: string, key: string): Promise<IdempotencyRow | undefined> {
    const [r] = await this.sql.all('idempotency', [orgId, route, key]);
    return r
      ? { requestHash: r.request_hash as string, outboxId: r.outbox_id as string, response: (r.response as string | null) ?? null, createdAt: num(r.created_at), expiresAt: num(r.expires_at) }
      : undefined;
  }

  /** Writes the entry, and the key with it when given. False when a live key with that name exists (nothing written). */
  async accept(e: NewOutboxEntry, key?: NewIdempotencyKey): Promise<boolean> {
    const entry = [e.id, e.orgId, e.sessionId, e.chat, e.kind, e.action, e.waMessageId, e.mode, e.createdAt, this.ids.sortKey(e.waMessageId)];
    if (!key) {
      await this.sql.writeGrouped('insert', entry);
      return true;
    }
    return this.sql.acceptWithKey([e.orgId, key.route, key.key, key.requestHash, e.id, key.response, e.createdAt, key.expiresAt], entry);
  }

  async saveResponse(orgId: string, route: string, key: string, response: string): Promise<void> {
    await this.sql.saveResponse([orgId, route, key, response]);
  }

  async get(orgId: string, sessionId: string, id: string): Promise<OutboxRow | undefined> {
    const [r] = await this.sql.all('get', [orgId, sessionId, id]);
    return r ? toOutboxRow(r) : undefined;
  }

  async byId(id: string): Promise<OutboxRow | undefined> {
    const [r] = await this.sql.all('byId', [id]);
    return r ? toOutboxRow(r) : undefined;
  }

  async claimable(now: number, limit: number): Promise<{ id: string; sessionId: string }[]> {
    return (await this.sql.all('claimable', [now, limit])).map((r) => ({ id: r.id as string, sessionId: r.session_id as string }));
  }

  /** Takes an entry for one dispatch; only one dispatcher of all replicas wins until the claim expires. */
  async claim(id: string, token: string, now: number, expiresAt: number): Promise<OutboxRow | undefined> {
    return firstEntry(await this.sql.writeRows('claim', [id, token, expiresAt, now]));
  }

  /**
   * Takes the next entry of one chat when it is due and unclaimed (the chat's order holds). On
   * PostgreSQL the claims asked for in one turn of the event loop go as one statement, after the
   * turn or at `flushClaims`.
   */
  async claimChatHead(sessionId: string, chat: string, token: string, now: number, expiresAt: number): Promise<OutboxRow | undefined> {
    if (this.postgres) return this.claims.add({ sessionId, chat, token, now, expiresAt });
    return firstEntry(await this.sql.writeRows('claimChatHead', [sessionId, chat, token, expiresAt, now]));
  }

  /** Sends the claims gathered so far now rather than after the turn (a caller that asked for all it needs). */
  flushClaims(): void {
    this.claims.flush();
  }

  /** Deletes up to `limit` finished entries whose ids sort below `beforeId`; returns how many. */
  async purgeFinished(beforeId: string, limit: number): Promise<number> {
    return this.sql.write('purgeFinished', [beforeId, limit]);
  }

  /** Keeps a claim alive while its dispatch is still in progress; false when it was lost. */
  async extendClaim(id: string, token: string, expiresAt: number): Promise<boolean> {
    return (await this.sql.write('extendClaim', [id, token, expiresAt])) > 0;
  }

  /**
   * `extendClaim` for every claim a dispatcher holds: the ids whose claim it still held. One
   * statement on PostgreSQL (the renewals went one after the other, a round trip each, while a
   * busy dispatcher holds a hundred claims); on SQLite they share the turn's commit.
   */
  async extendClaims(claims: { id: string; token: string }[], expiresAt: number): Promise<Set<string>> {
    if (!claims.length) return new Set();
    if (this.postgres) {
      const rows = await this.sql.writeRows('extendClaims', [claims.map((c) => c.id), claims.map((c) => c.token), expiresAt]);
      return new Set(rows.map((r) => r.id as string));
    }
    const held = await Promise.all(claims.map((c) => this.extendClaim(c.id, c.token, expiresAt)));
    return new Set(claims.filter((_, i) => held[i]).map((c) => c.id));
  }

  /**
   * Ends a hand-over. With `next` on PostgreSQL, the same statement claims the chat's next entry
   * with that token (as `claimChatHead`), and answers it: one round trip instead of two per
   * message. Elsewhere, or with no entry due, none (the caller looks at the chat as before).
   */
  async finishHandedOver(id: string, token: string, status: 'sending' | 'sent', now: number, next?: { token: string; expiresAt: number }): Promise<OutboxRow | undefined> {
    if (!next || !this.postgres) {
      await this.sql.write('finishHandedOver', [id, token, status, now]);
      return undefined;
    }
    return this.finishes.add({ id, token, status, now, next });
  }

  async finishRetry(id: string, token: string, error: string, nextAttemptAt: number, now: number): Promise<void> {
    await this.sql.write('finishRetry', [id, token, error.slice(0, 500), nextAttemptAt, now]);
  }

  async finishFailed(id: string, token: string, error: string, now: number): Promise<void> {
    await this.sql.write('finishFailed', [id, token, error.slice(0, 500), now]);
  }

  /** PostgreSQL (the one kind whose writes are not in order: see `writesInOrder`). */
  private get postgres(): boolean {
    return !this.writesInOrder;
  }

  /**
   * Applies a receipt or an error ack: the ids of the entries that moved, and the entry the
   * message went out as, moved or not (none for a message not sent through the API).
   */
  async advance(status: StatusToApply, now: number): Promise<AdvanceResult> {
    if (this.postgres) return (await this.advanceMany([status], now))[0]!;
    const moved = (await this.sql.writeRows(`advance_${status.status}`, [status.sessionId, status.waMessageId, status.error, now, this.ids.sortKey(status.waMessageId)])).map(
      (r) => r.id as string,
    );
    return { moved, entry: moved[0] ?? (await this.idForWaMessage(status.orgId, status.sessionId, status.waMessageId)) };
  }

  /**
   * Statuses of different messages (two of one message would not be applied in order), each as
   * `advance`: one statement on PostgreSQL; on SQLite they share the turn's commit.
   */
  async advanceMany(statuses: StatusToApply[], now: number): Promise<AdvanceResult[]> {
    if (!this.postgres) return Promise.all(statuses.map((st) => this.advance(st, now)));
    if (statuses.length === 0) return [];
    const rows = await this.sql.writeRows('advanceMany', [
      ...unnestColumns(statuses, (st, i) => [i, st.orgId, st.sessionId, st.waMessageId, st.status, st.error, this.ids.sortKey(st.waMessageId)]),
      now,
    ]);
    return rows.map((r) => ({ moved: r.moved as string[], entry: (r.entry as string | null) ?? undefined }));
  }

  /** The entry that sent a WhatsApp message, if it went out through the API. */
  async idForWaMessage(orgId: string, sessionId: string, waMessageId: string): Promise<string | undefined> {
    return (await this.sql.all('idForWaMessage', [orgId, sessionId, waMessageId, this.ids.sortKey(waMessageId)]))[0]?.id as string | undefined;
  }

  async wakeSession(sessionId: string, now: number): Promise<void> {
    await this.sql.write('wakeSession', [sessionId, now]);
  }

  async expire(createdBefore: number, now: number): Promise<number> {
    return this.sql.write('expire', [createdBefore, now]);
  }

  async purgeKeys(now: number): Promise<number> {
    return this.sql.write('purgeKeys', [now]);
  }
}

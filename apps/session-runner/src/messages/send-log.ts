import { Injectable } from '@nestjs/common';
import { BoundedSet } from '@wa/domain';
import { InjectRepository } from '@nestjs/typeorm';
import { HotSql, TurnBatcher, unnestColumns, type SqlStep } from '@wa/contracts/runtime';
import { LessThan, Repository } from 'typeorm';
import { WaSendLogEntity, type SendLogState } from './wa-send-log.entity';

/** Past this, an id cannot come back from the gateway's outbox (its entries expire long before). */
export const SEND_LOG_RETENTION_MS = 7 * 24 * 3_600_000;

/** Ids whose `acked` this process wrote, so that later receipts of them write nothing. */
const ACKED_KEPT = 20_000;

const SQL = {
  state: 'SELECT state FROM wa_send_log WHERE session_id = $1 AND message_id = $2',
  mark:
    'INSERT INTO wa_send_log (session_id, message_id, state, updated_at) VALUES ($1, $2, $3, $4) ' +
    'ON CONFLICT (session_id, message_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
  begin: "INSERT INTO wa_send_log (session_id, message_id, state, updated_at) VALUES ($1, $2, 'relaying', $3) ON CONFLICT (session_id, message_id) DO NOTHING",
  /** `begin` for many ids at once (PostgreSQL): the rows it wrote come back. */
  beginMany:
    "INSERT INTO wa_send_log (session_id, message_id, state, updated_at) SELECT s, m, 'relaying', a FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(s, m, a) " +
    'ON CONFLICT (session_id, message_id) DO NOTHING RETURNING session_id, message_id',
  refused: "UPDATE wa_send_log SET state = 'failed', updated_at = $3 WHERE session_id = $1 AND message_id = $2 AND state = 'relayed'",
  acked: "UPDATE wa_send_log SET state = 'acked', updated_at = $3 WHERE session_id = $1 AND message_id = $2 AND state IN ('relaying', 'relayed')",
};

/** What a status proves about an id: it left (`acked`), or WhatsApp refused it (`refused`). */
export type Proof = 'acked' | 'refused';

/** `acked` or `refused` as a step of a caller's batch; `proof` names which, for callers that write many at once. */
export interface ProofStep extends SqlStep {
  proof: Proof;
}

/**
 * `acked` and `refused` for many ids in one statement (PostgreSQL), as the body of a CTE over a
 * relation `i` with the columns `s` (session), `m` (message id) and `proof` (a `Proof` or null);
 * `at` is the parameter that holds the time.
 */
export function proofsOf(at: string): string {
  return (
    `UPDATE wa_send_log l SET state = CASE i.proof WHEN 'acked' THEN 'acked' ELSE 'failed' END, updated_at = ${at} FROM i ` +
    "WHERE l.session_id = i.s AND l.message_id = i.m AND ((i.proof = 'acked' AND l.state IN ('relaying', 'relayed')) OR (i.proof = 'refused' AND l.state = 'relayed'))"
  );
}

/**
 * The durable half of "never send one id twice": a row is written before a message goes to the
 * socket and moved on as it leaves and is acknowledged. Each call is one prepared statement.
 */
@Injectable()
export class SendLog {
  private hotSql?: HotSql;
  private readonly ackedHere = new BoundedSet<string>(ACKED_KEPT);
  /**
   * On PostgreSQL, the `begin`s of one turn go in one statement: sends to many chats are handed
   * over together, and each paid a round trip and a commit of its own before its socket write.
   */
  private readonly begins = new TurnBatcher<BeginItem, boolean>(
    (items) => this.beginMany(items),
    (item) => this.beginOne(item),
  );

  constructor(@InjectRepository(WaSendLogEntity) private readonly repo: Repository<WaSendLogEntity>) {}

  private get sql(): HotSql {
    return (this.hotSql ??= HotSql.of(this.repo.manager.connection));
  }

  async state(sessionId: string, messageId: string): Promise<SendLogState | undefined> {
    return (await this.sql.all(SQL.state, [sessionId, messageId]))[0]?.state as SendLogState | undefined;
  }

  async mark(sessionId: string, messageId: string, state: SendLogState): Promise<void> {
    await this.sql.run(SQL.mark, this.markParams(sessionId, messageId, state));
  }

  /**
   * `mark(relaying)` for an id the log has never seen, in one statement with the check: true when
   * the row was written, false when the id is known (its state decides, as `state` reads it).
   */
  async begin(sessionId: string, messageId: string): Promise<boolean> {
    this.ackedHere.delete(ackedKey(sessionId, messageId));
    const item: BeginItem = { sessionId, messageId, at: Date.now() };
    // SQLite shares the turn's commit already (and `urgent` commits it now).
    return this.sql.kind === 'postgres' ? this.begins.add(item) : this.beginOne(item);
  }

  private async beginOne({ sessionId, messageId, at }: BeginItem): Promise<boolean> {
    return (await this.sql.run(SQL.begin, [sessionId, messageId, at], true)) === 1;
  }

  /** One statement for a turn's `begin`s; the same id twice in it could not tell which one wrote, so such a batch runs one by one. */
  private async beginMany(items: BeginItem[]): Promise<boolean[]> {
    const keys = items.map((i) => ackedKey(i.sessionId, i.messageId));
    if (new Set(keys).size !== keys.length) throw new Error('the same id twice in one batch');
    const written = await this.sql.writeRows(SQL.beginMany, unnestColumns(items, (i) => [i.sessionId, i.messageId, i.at]));
    const wrote = new Set(written.map((r) => ackedKey(String(r.session_id), String(r.message_id))));
    return keys.map((k) => wrote.has(k));
  }

  /** `mark` as a step of a caller's batch (one commit with what the message writes). */
  markStep(sessionId: string, messageId: string, state: SendLogState): SqlStep {
    return { sql: SQL.mark, params: this.markParams(sessionId, messageId, state) };
  }

  private markParams(sessionId: string, messageId: string, state: SendLogState): unknown[] {
    this.ackedHere.delete(ackedKey(sessionId, messageId));
    return [sessionId, messageId, state, Date.now()];
  }

  /**
   * WhatsApp or a recipient acknowledged the id: proof that it left, whatever this runner knew.
   * The server ack, the delivery and the read receipt each say so; only the first one writes.
   */
  async acked(sessionId: string, messageId: string): Promise<void> {
    if (this.ackedHere.has(ackedKey(sessionId, messageId))) return;
    await this.sql.run(SQL.acked, [sessionId, messageId, Date.now()]);
    this.ackedWritten(sessionId, messageId);
  }

  /**
   * `acked` as a step of a caller's batch, or nothing when this process wrote it already; call
   * `ackedWritten` once the batch committed.
   */
  ackedStep(sessionId: string, messageId: string): ProofStep | undefined {
    if (this.ackedHere.has(ackedKey(sessionId, messageId))) return undefined;
    return { sql: SQL.acked, params: [sessionId, messageId, Date.now()], proof: 'acked' };
  }

  ackedWritten(sessionId: string, messageId: string): void {
    this.ackedHere.add(ackedKey(sessionId, messageId));
  }

  /** `refused` as a step of a caller's batch. */
  refusedStep(sessionId: string, messageId: string): ProofStep {
    return { sql: SQL.refused, params: [sessionId, messageId, Date.now()], proof: 'refused' };
  }

  /** WhatsApp refused an id that left (an error ack): not proof of anything, a retry sends it again. */
  async refused(sessionId: string, messageId: string): Promise<void> {
    await this.sql.run(SQL.refused, [sessionId, messageId, Date.now()]);
  }

  async forgetSession(sessionId: string): Promise<void> {
    for (const key of this.ackedHere) if (key.startsWith(`${sessionId}|`)) this.ackedHere.delete(key);
    await this.repo.delete({ sessionId });
  }

  async prune(before: number): Promise<void> {
    await this.repo.delete({ updatedAt: LessThan(before) });
  }
}

interface BeginItem {
  sessionId: string;
  messageId: string;
  at: number;
}

/** What `ackedHere` remembers an id of a session by. */
function ackedKey(sessionId: string, messageId: string): string {
  return `${sessionId}|${messageId}`;
}

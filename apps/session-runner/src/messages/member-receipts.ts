import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { runStep } from '@wa/contracts/runtime';
import { isLidJid } from '@wa/domain';
import { Repository, type EntityManager } from 'typeorm';
import { WaMemberReceiptEntity } from './wa-member-receipt.entity';

export type MemberReceiptStatus = WaMemberReceiptEntity['status'];

/** A conflict leaves the first row (and its time) as it was: the receipt is not news. */
const INSERT_RECEIPT = 'INSERT INTO wa_member_receipts (session_id, message_id, member, status, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING';
/**
 * A member named by a LID is kept under its phone number if the pair is known when the row is
 * written, not only when the caller looked it up: a pair learned in between would otherwise have
 * moved the session's LID rows before this one existed, and leave it behind. (`WHERE true`: SQLite
 * reads an `ON CONFLICT` right after a `SELECT ... FROM` as a join constraint.)
 */
const INSERT_LID_RECEIPT = `INSERT INTO wa_member_receipts (session_id, message_id, member, status, at)
  SELECT s, $2, COALESCE((SELECT pn FROM wa_lid_mappings WHERE session_id = s AND lid = m), m), $4, $5
  FROM (SELECT CAST($1 AS VARCHAR) AS s, CAST($3 AS VARCHAR) AS m) AS r
  WHERE true ON CONFLICT DO NOTHING`;

/**
 * On PostgreSQL, the lock a LID receipt and the merge of a session's LID receipts
 * (`mergeLidReceipts`) share. Taken as the transaction's own statement, before the insert: a
 * statement's snapshot is taken when it starts, so the insert that waited for a merge to commit
 * sees the pair it learned. Receipts take it shared (they do not exclude each other).
 */
export const lidReceiptLock = (shared: boolean): string =>
  `SELECT ${shared ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock'}(hashtext('wa_member_receipts:' || $1))`;

/**
 * The durable half of "one event per member and status": WhatsApp delivers a group member's
 * receipt again whenever the device did not acknowledge it (a runner killed after recording it,
 * or before its turn in the offline backlog), and only this table tells such a copy from news
 * once the process that saw the first one is gone.
 */
@Injectable()
export class MemberReceipts {
  constructor(@InjectRepository(WaMemberReceiptEntity) private readonly repo: Repository<WaMemberReceiptEntity>) {}

  /**
   * Keeps a member's receipt in the caller's transaction (the one that records its event), under
   * the member's canonical jid; answers whether it is news (no row for it yet).
   */
  async record(manager: EntityManager, receipt: Pick<WaMemberReceiptEntity, 'sessionId' | 'messageId' | 'member' | 'status' | 'at'>): Promise<boolean> {
    const params = [receipt.sessionId, receipt.messageId, receipt.member, receipt.status, receipt.at];
    if (!isLidJid(receipt.member)) return (await runStep(manager, { sql: INSERT_RECEIPT, params })) > 0;
    if (manager.connection.options.type === 'postgres') await manager.query(lidReceiptLock(true), [receipt.sessionId]);
    return (await runStep(manager, { sql: INSERT_LID_RECEIPT, params })) > 0;
  }

  /** A message's receipts, by member then status (`delivered` before `read`). */
  of(sessionId: string, messageId: string): Promise<WaMemberReceiptEntity[]> {
    return this.repo.find({ where: { sessionId, messageId }, order: { member: 'ASC', status: 'ASC' } });
  }
}

import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { runStep } from '@wa/contracts';
import { Repository, type EntityManager } from 'typeorm';
import { WaMemberReceiptEntity } from './wa-member-receipt.entity';

export type MemberReceiptStatus = WaMemberReceiptEntity['status'];

/** A conflict leaves the first row (and its time) as it was: the receipt is not news. */
const INSERT_RECEIPT = 'INSERT INTO wa_member_receipts (session_id, message_id, member, status, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING';

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
    return (await runStep(manager, { sql: INSERT_RECEIPT, params })) > 0;
  }

  /** A message's receipts, by member then status (`delivered` before `read`). */
  of(sessionId: string, messageId: string): Promise<WaMemberReceiptEntity[]> {
    return this.repo.find({ where: { sessionId, messageId }, order: { member: 'ASC', status: 'ASC' } });
  }
}

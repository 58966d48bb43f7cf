import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/**
 * One group member's receipt of one of our messages: `delivered` and `read` are two rows, each
 * written once (with the event that reports it), under the member's canonical jid.
 */
@Entity({ name: 'wa_member_receipts' })
export class WaMemberReceiptEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'message_id', type: 'varchar', length: 128 })
  messageId!: string;

  /** The member's phone-number jid when its pair is known, else its LID (as `MessageStore.pairOf` names it). */
  @PrimaryColumn({ type: 'varchar', length: 128 })
  member!: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  status!: 'delivered' | 'read';

  /** Unix ms of the receipt, as WhatsApp stamped it. */
  @Column({ type: 'bigint', transformer: bigintMs })
  at!: number;
}

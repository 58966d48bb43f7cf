import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/**
 * Where each outgoing message id stands between this runner and WhatsApp:
 * - `relaying`: written before the message went to the socket; after a crash nobody knows
 *   whether it left, so the next owner looks for proof (an ack or a receipt) before resending;
 * - `relayed`: the socket took it; it is never sent again;
 * - `acked`: WhatsApp acknowledged it or a recipient sent a receipt;
 * - `failed`: WhatsApp refused it; a retry sends it again.
 */
export type SendLogState = 'relaying' | 'relayed' | 'acked' | 'failed';

@Entity({ name: 'wa_send_log' })
export class WaSendLogEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'message_id', type: 'varchar', length: 128 })
  messageId!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: SendLogState;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt!: number;
}

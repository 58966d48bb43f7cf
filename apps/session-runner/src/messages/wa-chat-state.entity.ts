import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/**
 * A chat's organisation as the account's app state says (archive, pin, mute, unread), under the
 * jid WhatsApp's patch named. Only chats somebody organised have a row.
 */
@Entity({ name: 'wa_chat_states' })
export class WaChatStateEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'chat_jid', type: 'varchar', length: 128 })
  chatJid!: string;

  @Column({ type: 'boolean', default: false })
  archived!: boolean;

  @Column({ name: 'pinned_at', type: 'bigint', nullable: true, transformer: bigintMs })
  pinnedAt!: number | null;

  @Column({ name: 'muted_until', type: 'bigint', nullable: true, transformer: bigintMs })
  mutedUntil!: number | null;

  @Column({ type: 'boolean', default: false })
  unread!: boolean;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt!: number;
}

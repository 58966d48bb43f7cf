import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/** A WhatsApp Business label of the account, as its app state says; deleted ones keep their row. */
@Entity({ name: 'wa_labels' })
export class WaLabelEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'label_id', type: 'varchar', length: 64 })
  labelId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'integer', default: 0 })
  color!: number;

  @Column({ name: 'predefined_id', type: 'varchar', length: 16, nullable: true })
  predefinedId!: string | null;

  @Column({ type: 'boolean', default: false })
  deleted!: boolean;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt!: number;
}

/** A label on a chat (`messageId` empty) or on one message of it. */
@Entity({ name: 'wa_label_associations' })
export class WaLabelAssociationEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'label_id', type: 'varchar', length: 64 })
  labelId!: string;

  @PrimaryColumn({ name: 'chat_jid', type: 'varchar', length: 128 })
  chatJid!: string;

  @PrimaryColumn({ name: 'message_id', type: 'varchar', length: 128 })
  messageId!: string;
}

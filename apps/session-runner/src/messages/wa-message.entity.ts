import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/** Every message a session sent or received, keyed as WhatsApp keys it (chat, id, fromMe). */
@Entity({ name: 'wa_messages' })
export class WaMessageEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'chat_jid', type: 'varchar', length: 128 })
  chatJid!: string;

  @PrimaryColumn({ name: 'message_id', type: 'varchar', length: 128 })
  messageId!: string;

  @PrimaryColumn({ name: 'from_me', type: 'boolean' })
  fromMe!: boolean;

  @Column({ type: 'varchar', length: 128, nullable: true })
  participant!: string | null;

  @Column({ type: 'varchar', length: 32 })
  type!: string;

  @Column({ name: 'timestamp_ms', type: 'bigint', transformer: bigintMs })
  timestampMs!: number;

  /** Latest delivery status of our own messages (`sent` … `read`, or `failed`); null for received ones. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  status!: string | null;

  /** When we sent a read receipt for this received message. */
  @Column({ name: 'read_at', type: 'bigint', nullable: true, transformer: bigintMs })
  readAt!: number | null;

  /** The text (or caption) the latest edit gave the message; `raw` keeps the original. */
  @Column({ name: 'edited_text', type: 'text', nullable: true })
  editedText!: string | null;

  @Column({ name: 'edited_at', type: 'bigint', nullable: true, transformer: bigintMs })
  editedAt!: number | null;

  /** When the message was deleted for everyone; reads then show no content. */
  @Column({ name: 'deleted_at', type: 'bigint', nullable: true, transformer: bigintMs })
  deletedAt!: number | null;

  /** Base64 of the `proto.WebMessageInfo` bytes (text keeps the column portable). */
  @Column({ type: 'text' })
  raw!: string;
}

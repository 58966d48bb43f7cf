import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/**
 * The newest message of each chat (by timestamp, then id), kept by `MessageStore.save` so that
 * chat lists are an index range instead of a grouping of every stored message.
 */
@Entity({ name: 'wa_chats' })
@Index('ix_wa_chats_recent', ['sessionId', 'lastMessageAt', 'chatJid'])
export class WaChatEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'chat_jid', type: 'varchar', length: 128 })
  chatJid!: string;

  @Column({ name: 'last_message_at', type: 'bigint', transformer: bigintMs })
  lastMessageAt!: number;

  @Column({ name: 'last_message_id', type: 'varchar', length: 128 })
  lastMessageId!: string;
}

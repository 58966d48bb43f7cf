import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/** One voter's latest selection on one poll; a newer vote replaces the row, `[]` clears it. */
@Entity({ name: 'wa_poll_votes' })
export class WaPollVoteEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ name: 'poll_id', type: 'varchar', length: 128 })
  pollId!: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  voter!: string;

  @Column({ name: 'chat_jid', type: 'varchar', length: 128 })
  chatJid!: string;

  /** JSON array of the selected option texts. */
  @Column({ type: 'text' })
  selected!: string;

  @Column({ name: 'timestamp_ms', type: 'bigint', transformer: bigintMs })
  timestampMs!: number;
}

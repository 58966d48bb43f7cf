import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

export type DesiredState = 'running' | 'stopped';

/** What the gateway last asked for; after a restart, `running` sessions reconnect by themselves. */
@Entity({ name: 'runner_sessions' })
export class RunnerSessionEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @Column({ name: 'org_id', type: 'varchar', length: 128 })
  orgId!: string;

  @Column({ type: 'varchar', length: 16 })
  desired!: DesiredState;

  /** Our own account as last connected (phone jid and LID); reads need it while disconnected. */
  @Column({ name: 'me_jid', type: 'varchar', length: 128, nullable: true })
  meJid!: string | null;

  @Column({ name: 'me_lid', type: 'varchar', length: 128, nullable: true })
  meLid!: string | null;

  /** Reject incoming calls at once, and send this text to the caller (when set). */
  @Column({ name: 'call_auto_reject', type: 'boolean', default: false })
  callAutoReject!: boolean;

  @Column({ name: 'call_reject_message', type: 'varchar', length: 1000, nullable: true })
  callRejectMessage!: string | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt!: number;
}

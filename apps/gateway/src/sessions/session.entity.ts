import type { SessionStatus } from '@wa/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

const json = {
  to: (value: Record<string, unknown>) => JSON.stringify(value ?? {}),
  from: (value: string) => JSON.parse(value) as Record<string, unknown>,
};

@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 26 })
  id!: string;

  @Column({ name: 'org_id', type: 'varchar', length: 128 })
  orgId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'text', transformer: json })
  metadata!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16 })
  status!: SessionStatus;

  @Column({ name: 'status_reason', type: 'varchar', length: 200, nullable: true })
  statusReason!: string | null;

  /** When the runner observed the status: older reports never overwrite newer ones. */
  @Column({ name: 'status_at', type: 'bigint', transformer: bigintMs })
  statusAt!: number;

  @Column({ name: 'me_jid', type: 'varchar', length: 128, nullable: true })
  meJid!: string | null;

  @Column({ name: 'me_lid', type: 'varchar', length: 128, nullable: true })
  meLid!: string | null;

  @Column({ name: 'me_push_name', type: 'varchar', length: 200, nullable: true })
  mePushName!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt!: number;
}

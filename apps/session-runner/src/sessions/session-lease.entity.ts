import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

@Entity({ name: 'session_leases' })
export class SessionLeaseEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @Column({ name: 'owner_id', type: 'varchar', length: 128 })
  ownerId!: string;

  @Column({ type: 'bigint', transformer: bigintMs })
  epoch!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintMs })
  expiresAt!: number;
}

import type { Capability } from '@wa/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

const capabilityList = {
  to: (value: readonly Capability[]) => value.join(','),
  from: (value: string) => (value ? (value.split(',') as Capability[]) : []),
};

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 26 })
  id!: string;

  @Column({ name: 'org_id', type: 'varchar', length: 128 })
  orgId!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** SHA-256 of the secret part; the key itself is shown once and never stored. */
  @Column({ name: 'secret_hash', type: 'varchar', length: 64 })
  secretHash!: string;

  @Column({ type: 'varchar', length: 64, transformer: capabilityList })
  capabilities!: Capability[];

  /** `user:<sub>`, `api_key:<id>`, `cli` or `bootstrap`. */
  @Column({ name: 'created_by', type: 'varchar', length: 255 })
  createdBy!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintMs })
  createdAt!: number;

  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: bigintMs })
  lastUsedAt!: number | null;

  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: bigintMs })
  expiresAt!: number | null;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: bigintMs })
  revokedAt!: number | null;
}

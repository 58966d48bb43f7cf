import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/** An event waiting for a gateway to acknowledge it; deleted once recorded there. */
@Entity({ name: 'runner_events' })
export class RunnerEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 26 })
  id!: string;

  @Column({ name: 'org_id', type: 'varchar', length: 128 })
  orgId!: string;

  @Column({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @Column({ type: 'varchar', length: 32 })
  type!: string;

  /** JSON text of the event's data. */
  @Column({ type: 'text' })
  data!: string;

  @Column({ name: 'occurred_at', type: 'bigint', transformer: bigintMs })
  occurredAt!: number;
}

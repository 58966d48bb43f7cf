import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintMs } from '../database/bigint.transformer';

/**
 * The name a contact (push name) or group (subject) was last seen with, and the name the account
 * keeps for the contact (`savedName`, from app state). `name` is empty while only a saved name is known.
 */
@Entity({ name: 'wa_contacts' })
export class WaContactEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  jid!: string;

  @Column({ type: 'varchar', length: 256 })
  name!: string;

  @Column({ name: 'saved_name', type: 'varchar', length: 256, nullable: true })
  savedName!: string | null;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintMs })
  updatedAt!: number;
}

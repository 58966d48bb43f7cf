import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Signal keys and sync state by Baileys key type (`pre-key`, `session`, ...) and id. */
@Entity({ name: 'wa_auth_keys' })
export class WaAuthKeyEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId!: string;

  @PrimaryColumn({ name: 'type', type: 'varchar', length: 64 })
  type!: string;

  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 255 })
  keyId!: string;

  /** BufferJSON-encoded value. */
  @Column({ name: 'value', type: 'text' })
  value!: string;
}

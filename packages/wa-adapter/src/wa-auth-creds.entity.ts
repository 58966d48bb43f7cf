import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per session: Baileys' `AuthenticationCreds`, BufferJSON-encoded. */
@Entity({ name: 'wa_auth_creds' })
export class WaAuthCredsEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId!: string;

  @Column({ name: 'creds', type: 'text' })
  creds!: string;
}

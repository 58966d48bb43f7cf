import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A contact's linked identity (`…@lid`) and its phone-number twin, as the server revealed them. */
@Entity({ name: 'wa_lid_mappings' })
export class WaLidMappingEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  lid!: string;

  @Column({ type: 'varchar', length: 128 })
  pn!: string;
}

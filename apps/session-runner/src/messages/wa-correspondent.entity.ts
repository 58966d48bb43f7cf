import { Entity, PrimaryColumn } from 'typeorm';

/** Everyone a session exchanged messages with (1:1 chats and group authors), without device part. */
@Entity({ name: 'wa_correspondents' })
export class WaCorrespondentEntity {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 26 })
  sessionId!: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  jid!: string;
}

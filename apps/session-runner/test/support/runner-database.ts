import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import type { DatabaseTarget } from '@wa/domain';
import { DataSource } from 'typeorm';
import { RUNNER_MIGRATIONS } from '../../src/database/migrations';
import { MessageStore } from '../../src/messages/message-store';
import { WaChatEntity } from '../../src/messages/wa-chat.entity';
import { WaContactEntity } from '../../src/messages/wa-contact.entity';
import { WaCorrespondentEntity } from '../../src/messages/wa-correspondent.entity';
import { WaLidMappingEntity } from '../../src/messages/wa-lid-mapping.entity';
import { WaMemberReceiptEntity } from '../../src/messages/wa-member-receipt.entity';
import { WaMessageEntity } from '../../src/messages/wa-message.entity';
import { WaPollVoteEntity } from '../../src/messages/wa-poll-vote.entity';

/** The runner's schema, migrated, on `target`, with a MessageStore over it (no Nest app). */
export async function runnerMessageStore(target: DatabaseTarget): Promise<{ db: DataSource; store: MessageStore }> {
  await ensureDatabaseSchema(target);
  const db = new DataSource(
    buildDataSourceOptions({
      target,
      entities: [WaMessageEntity, WaLidMappingEntity, WaPollVoteEntity, WaContactEntity, WaChatEntity, WaCorrespondentEntity, WaMemberReceiptEntity],
      migrations: RUNNER_MIGRATIONS,
      migrationsTableName: 'runner_migrations',
    }),
  );
  await db.initialize();
  await db.runMigrations();
  const store = new MessageStore(
    db.getRepository(WaMessageEntity),
    db.getRepository(WaLidMappingEntity),
    db.getRepository(WaPollVoteEntity),
    db.getRepository(WaContactEntity),
  );
  return { db, store };
}

import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * `ix_outbox_chat` (every entry ever sent to a chat) lost its last reader when the dispatcher
 * moved to `ix_outbox_waiting_chat`: every query on a chat asks for waiting entries only. It was
 * still written on every accept, one more B-tree page dirtied per row and commit.
 */
export class DropOutboxChatIndex1764001200000 implements MigrationInterface {
  name = 'DropOutboxChatIndex1764001200000';

  async up(q: QueryRunner): Promise<void> {
    await q.dropIndex('outbox', 'ix_outbox_chat');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_chat', columnNames: ['session_id', 'chat', 'id'] }));
  }
}

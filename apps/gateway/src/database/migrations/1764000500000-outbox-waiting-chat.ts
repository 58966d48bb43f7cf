import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The head of a chat among waiting entries only: the dispatcher claims the next entry of one
 * chat after each hand-over and insert, and `ix_outbox_chat` (every entry ever sent to the chat)
 * made that walk past all finished ones first.
 */
export class OutboxWaitingChat1764000500000 implements MigrationInterface {
  name = 'OutboxWaitingChat1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'outbox',
      new TableIndex({ name: 'ix_outbox_waiting_chat', columnNames: ['session_id', 'chat', 'id'], where: 'next_attempt_at IS NOT NULL' }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('outbox', 'ix_outbox_waiting_chat');
  }
}

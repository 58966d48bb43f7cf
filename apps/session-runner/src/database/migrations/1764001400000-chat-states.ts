import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Chat organisation from the account's app state (issue 14): archive, pin, mute, unread per chat. */
export class ChatStates1764001400000 implements MigrationInterface {
  name = 'ChatStates1764001400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'wa_chat_states',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'chat_jid', type: 'varchar', length: '128', isPrimary: true },
          { name: 'archived', type: 'boolean', default: false },
          { name: 'pinned_at', type: 'bigint', isNullable: true },
          { name: 'muted_until', type: 'bigint', isNullable: true },
          { name: 'unread', type: 'boolean', default: false },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    // Filtered chat lists read the few chats that are archived, pinned or unread.
    await q.createIndex('wa_chat_states', new TableIndex({ name: 'ix_wa_chat_states_archived', columnNames: ['session_id', 'archived'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('wa_chat_states', 'ix_wa_chat_states_archived');
    await q.dropTable('wa_chat_states');
  }
}

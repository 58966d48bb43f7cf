import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** WhatsApp Business labels and what they are on (issue 14), from the account's app state. */
export class Labels1764001500000 implements MigrationInterface {
  name = 'Labels1764001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'wa_labels',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'label_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'color', type: 'integer', default: 0 },
          { name: 'predefined_id', type: 'varchar', length: '16', isNullable: true },
          { name: 'deleted', type: 'boolean', default: false },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'wa_label_associations',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'label_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'chat_jid', type: 'varchar', length: '128', isPrimary: true },
          { name: 'message_id', type: 'varchar', length: '128', isPrimary: true },
        ],
      }),
    );
    // Chat lists read the labels of a page of chats.
    await q.createIndex('wa_label_associations', new TableIndex({ name: 'ix_wa_label_associations_chat', columnNames: ['session_id', 'chat_jid'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('wa_label_associations', 'ix_wa_label_associations_chat');
    await q.dropTable('wa_label_associations');
    await q.dropTable('wa_labels');
  }
}

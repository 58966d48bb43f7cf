import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Messaging state the runner answers reads from: the latest delivery status of our own
 * messages, which received messages we already marked read, every voter's latest poll selection
 * (decrypted once, on arrival), and the names contacts and groups are known by.
 */
export class Messaging1764000300000 implements MigrationInterface {
  name = 'Messaging1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('wa_messages', [
      new TableColumn({ name: 'status', type: 'varchar', length: '16', isNullable: true }),
      new TableColumn({ name: 'read_at', type: 'bigint', isNullable: true }),
    ]);
    await q.createTable(
      new Table({
        name: 'wa_poll_votes',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'poll_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'voter', type: 'varchar', length: '128', isPrimary: true },
          { name: 'chat_jid', type: 'varchar', length: '128' },
          { name: 'selected', type: 'text' },
          { name: 'timestamp_ms', type: 'bigint' },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'wa_contacts',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'jid', type: 'varchar', length: '128', isPrimary: true },
          { name: 'name', type: 'varchar', length: '256' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('wa_messages', new TableIndex({ name: 'ix_wa_messages_session_time', columnNames: ['session_id', 'timestamp_ms'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('wa_messages', 'ix_wa_messages_session_time');
    await q.dropTable('wa_contacts');
    await q.dropTable('wa_poll_votes');
    await q.dropColumn('wa_messages', 'read_at');
    await q.dropColumn('wa_messages', 'status');
  }
}

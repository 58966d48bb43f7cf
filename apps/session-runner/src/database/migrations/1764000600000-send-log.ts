import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The runner's record of every outgoing message id before and after it reaches the socket (no duplicate sends). */
export class SendLog1764000600000 implements MigrationInterface {
  name = 'SendLog1764000600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'wa_send_log',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'message_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'state', type: 'varchar', length: '16' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('wa_send_log', new TableIndex({ name: 'ix_wa_send_log_updated', columnNames: ['updated_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('wa_send_log');
  }
}

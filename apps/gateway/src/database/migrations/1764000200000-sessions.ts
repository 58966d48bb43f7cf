import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The organizations' WhatsApp sessions, with the last status a runner reported. */
export class Sessions1764000200000 implements MigrationInterface {
  name = 'Sessions1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'metadata', type: 'text' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'status_reason', type: 'varchar', length: '200', isNullable: true },
          { name: 'status_at', type: 'bigint' },
          { name: 'me_jid', type: 'varchar', length: '128', isNullable: true },
          { name: 'me_lid', type: 'varchar', length: '128', isNullable: true },
          { name: 'me_push_name', type: 'varchar', length: '200', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('sessions', new TableIndex({ name: 'ix_sessions_org', columnNames: ['org_id', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('sessions');
  }
}

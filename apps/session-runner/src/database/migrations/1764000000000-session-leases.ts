import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * One row per WhatsApp session that some runner owns. `epoch` grows on every change of owner
 * and fences writes of a runner that lost its lease without noticing.
 */
export class SessionLeases1764000000000 implements MigrationInterface {
  name = 'SessionLeases1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'session_leases',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'owner_id', type: 'varchar', length: '128' },
          { name: 'epoch', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('session_leases');
  }
}

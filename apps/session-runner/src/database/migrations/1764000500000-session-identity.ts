import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Our own account per session, so reads name the sender of our messages while disconnected. */
export class SessionIdentity1764000500000 implements MigrationInterface {
  name = 'SessionIdentity1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('runner_sessions', [
      new TableColumn({ name: 'me_jid', type: 'varchar', length: '128', isNullable: true }),
      new TableColumn({ name: 'me_lid', type: 'varchar', length: '128', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('runner_sessions', 'me_lid');
    await q.dropColumn('runner_sessions', 'me_jid');
  }
}

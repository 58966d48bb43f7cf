import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Per-session call settings, kept with the session: reject incoming calls automatically, with an optional reply. */
export class CallSettings1764001300000 implements MigrationInterface {
  name = 'CallSettings1764001300000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('runner_sessions', [
      new TableColumn({ name: 'call_auto_reject', type: 'boolean', isNullable: false, default: false }),
      new TableColumn({ name: 'call_reject_message', type: 'varchar', length: '1000', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('runner_sessions', 'call_reject_message');
    await q.dropColumn('runner_sessions', 'call_auto_reject');
  }
}

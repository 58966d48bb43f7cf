import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Group members' receipts of our messages (issue 15): one row per message, member and status,
 * so a receipt WhatsApp delivers again after a runner restart is known and reported only once.
 * The primary key is that uniqueness; it also serves the per-message read.
 */
export class MemberReceipts1764001700000 implements MigrationInterface {
  name = 'MemberReceipts1764001700000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'wa_member_receipts',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'message_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'member', type: 'varchar', length: '128', isPrimary: true },
          { name: 'status', type: 'varchar', length: '16', isPrimary: true },
          { name: 'at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('wa_member_receipts');
  }
}

import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Reads show a message as it is now: the latest text an edit gave it, and whether it was
 * deleted for everyone. The raw proto keeps the original as WhatsApp sent it.
 */
export class MessageEditsRevokes1764000400000 implements MigrationInterface {
  name = 'MessageEditsRevokes1764000400000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('wa_messages', [
      new TableColumn({ name: 'edited_text', type: 'text', isNullable: true }),
      new TableColumn({ name: 'edited_at', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'deleted_at', type: 'bigint', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('wa_messages', 'deleted_at');
    await q.dropColumn('wa_messages', 'edited_at');
    await q.dropColumn('wa_messages', 'edited_text');
  }
}

import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The name the account keeps for a contact (app state's `contactAction`, issue 14), beside the push
 * name the row already keeps. A contact known only by its saved name has an empty push name.
 */
export class ContactSavedNames1764001550000 implements MigrationInterface {
  name = 'ContactSavedNames1764001550000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('wa_contacts', new TableColumn({ name: 'saved_name', type: 'varchar', length: '256', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('wa_contacts', 'saved_name');
  }
}

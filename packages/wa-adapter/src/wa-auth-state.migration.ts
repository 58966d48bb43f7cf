import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/** Creates the auth-state tables with the Table API so the same migration runs on SQLite and PostgreSQL. */
export class WaAuthState1764000000000 implements MigrationInterface {
  name = 'WaAuthState1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'wa_auth_creds',
        columns: [
          { name: 'session_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'creds', type: 'text', isNullable: false },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'wa_auth_keys',
        columns: [
          { name: 'session_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'type', type: 'varchar', length: '64', isPrimary: true },
          { name: 'key_id', type: 'varchar', length: '255', isPrimary: true },
          { name: 'value', type: 'text', isNullable: false },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('wa_auth_keys');
    await queryRunner.dropTable('wa_auth_creds');
  }
}

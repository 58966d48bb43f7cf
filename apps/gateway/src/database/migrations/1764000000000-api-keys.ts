import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

export class ApiKeys1764000000000 implements MigrationInterface {
  name = 'ApiKeys1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'name', type: 'varchar', length: '200' },
          { name: 'secret_hash', type: 'varchar', length: '64' },
          { name: 'capabilities', type: 'varchar', length: '64' },
          { name: 'created_by', type: 'varchar', length: '255' },
          { name: 'created_at', type: 'bigint' },
          { name: 'last_used_at', type: 'bigint', isNullable: true },
          { name: 'expires_at', type: 'bigint', isNullable: true },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await q.createIndex('api_keys', new TableIndex({ name: 'ix_api_keys_org', columnNames: ['org_id', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('api_keys');
  }
}

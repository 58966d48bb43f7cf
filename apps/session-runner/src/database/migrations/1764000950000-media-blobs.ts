import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The index of received media kept in PostgreSQL large objects (MEDIA_STORE=postgres), so that
 * every runner of a scale-out deployment reads the same files. `oid` names the large object.
 * Created on SQLite too (the same migrations run on both); it stays empty there.
 */
export class MediaBlobs1764000950000 implements MigrationInterface {
  name = 'MediaBlobs1764000950000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'wa_media_blobs',
        columns: [
          { name: 'blob_key', type: 'varchar', length: '300', isPrimary: true },
          { name: 'oid', type: 'bigint' },
          { name: 'size', type: 'bigint' },
          { name: 'created_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('wa_media_blobs', new TableIndex({ name: 'ix_wa_media_blobs_created', columnNames: ['created_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('wa_media_blobs');
  }
}

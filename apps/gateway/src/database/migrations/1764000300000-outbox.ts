import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The durable outbox of WhatsApp-side writes and the idempotency keys that point at it.
 * `next_attempt_at` is NULL once the dispatcher has nothing more to do for an entry; a non-NULL
 * value also keeps later entries of the same chat waiting (one in flight per chat, in order).
 */
export class Outbox1764000300000 implements MigrationInterface {
  name = 'Outbox1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'outbox',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'session_id', type: 'varchar', length: '26' },
          { name: 'chat', type: 'varchar', length: '160' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'action', type: 'text' },
          { name: 'wa_message_id', type: 'varchar', length: '64' },
          { name: 'mode', type: 'varchar', length: '8' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'error', type: 'varchar', length: '500', isNullable: true },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'next_attempt_at', type: 'bigint', isNullable: true },
          { name: 'claim_token', type: 'varchar', length: '26', isNullable: true },
          { name: 'claim_expires_at', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    // Partial: only entries the dispatcher still has to hand over, so it stays small however long the history grows.
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_pending', columnNames: ['session_id', 'next_attempt_at'], where: 'next_attempt_at IS NOT NULL' }));
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_chat', columnNames: ['session_id', 'chat', 'id'] }));
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_wa_id', columnNames: ['session_id', 'wa_message_id'] }));

    await q.createTable(
      new Table({
        name: 'idempotency_keys',
        columns: [
          { name: 'org_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'route', type: 'varchar', length: '64', isPrimary: true },
          { name: 'idem_key', type: 'varchar', length: '255', isPrimary: true },
          { name: 'request_hash', type: 'varchar', length: '64' },
          { name: 'outbox_id', type: 'varchar', length: '26' },
          { name: 'response', type: 'text', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('idempotency_keys', new TableIndex({ name: 'ix_idempotency_expiry', columnNames: ['expires_at'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('idempotency_keys');
    await q.dropTable('outbox');
  }
}

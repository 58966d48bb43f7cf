import { Table, TableForeignKey, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Events (written before any delivery), the counters that number them, webhook endpoints, one
 * delivery row per (endpoint, event) and one attempt row per HTTP call.
 */
export class EventsWebhooks1764000100000 implements MigrationInterface {
  name = 'EventsWebhooks1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'events',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'session_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'type', type: 'varchar', length: '64' },
          { name: 'data', type: 'text' },
          { name: 'occurred_at', type: 'bigint' },
          { name: 'recorded_at', type: 'bigint' },
          // Per-session, gap-free; 0 for organization-level events.
          { name: 'sequence', type: 'bigint' },
          // Per-organization, gap-free and in commit order: the SSE stream's resume point.
          { name: 'position', type: 'bigint' },
          { name: 'source_id', type: 'varchar', length: '255', isNullable: true },
        ],
      }),
    );
    await q.createIndex('events', new TableIndex({ name: 'ux_events_org_position', columnNames: ['org_id', 'position'], isUnique: true }));
    await q.createIndex('events', new TableIndex({ name: 'ux_events_org_source', columnNames: ['org_id', 'source_id'], isUnique: true }));
    await q.createIndex('events', new TableIndex({ name: 'ix_events_recorded', columnNames: ['recorded_at'] }));

    await q.createTable(
      new Table({
        name: 'event_counters',
        columns: [
          { name: 'org_id', type: 'varchar', length: '128', isPrimary: true },
          // '' is the organization's stream position; otherwise a session id and its sequence.
          { name: 'scope', type: 'varchar', length: '128', isPrimary: true },
          { name: 'last_value', type: 'bigint' },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'webhooks',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'events', type: 'text' },
          { name: 'session_ids', type: 'text' },
          { name: 'description', type: 'varchar', length: '500' },
          { name: 'secret', type: 'varchar', length: '100' },
          { name: 'previous_secret', type: 'varchar', length: '100', isNullable: true },
          { name: 'previous_secret_expires_at', type: 'bigint', isNullable: true },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'disabled_reason', type: 'varchar', length: '32', isNullable: true },
          { name: 'disabled_at', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex('webhooks', new TableIndex({ name: 'ix_webhooks_org', columnNames: ['org_id', 'id'] }));

    await q.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'webhook_id', type: 'varchar', length: '26' },
          { name: 'event_id', type: 'varchar', length: '26' },
          // The ordering queue within the endpoint: the session id, '' for organization-level events.
          { name: 'session_key', type: 'varchar', length: '128' },
          { name: 'sequence', type: 'bigint' },
          { name: 'status', type: 'varchar', length: '16' },
          // Attempts in the current round of the retry schedule (reset when the endpoint is enabled again).
          { name: 'attempt_count', type: 'integer' },
          { name: 'next_attempt_at', type: 'bigint' },
          { name: 'claimed_by', type: 'varchar', length: '64', isNullable: true },
          { name: 'claim_expires_at', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'delivered_at', type: 'bigint', isNullable: true },
        ],
      }),
    );
    await q.createIndex('webhook_deliveries', new TableIndex({ name: 'ix_deliveries_queue', columnNames: ['webhook_id', 'session_key', 'status', 'sequence'] }));
    await q.createIndex('webhook_deliveries', new TableIndex({ name: 'ix_deliveries_due', columnNames: ['status', 'next_attempt_at'] }));
    await q.createIndex('webhook_deliveries', new TableIndex({ name: 'ix_deliveries_event', columnNames: ['event_id'] }));
    await q.createForeignKeys('webhook_deliveries', [
      new TableForeignKey({ name: 'fk_deliveries_webhook', columnNames: ['webhook_id'], referencedTableName: 'webhooks', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
      new TableForeignKey({ name: 'fk_deliveries_event', columnNames: ['event_id'], referencedTableName: 'events', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
    ]);

    await q.createTable(
      new Table({
        name: 'webhook_attempts',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'delivery_id', type: 'varchar', length: '26' },
          { name: 'attempted_at', type: 'bigint' },
          { name: 'status_code', type: 'integer', isNullable: true },
          { name: 'latency_ms', type: 'integer' },
          { name: 'error', type: 'varchar', length: '500', isNullable: true },
          { name: 'response_body', type: 'text', isNullable: true },
        ],
      }),
    );
    await q.createIndex('webhook_attempts', new TableIndex({ name: 'ix_attempts_delivery', columnNames: ['delivery_id', 'id'] }));
    await q.createForeignKey(
      'webhook_attempts',
      new TableForeignKey({ name: 'fk_attempts_delivery', columnNames: ['delivery_id'], referencedTableName: 'webhook_deliveries', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('webhook_attempts');
    await q.dropTable('webhook_deliveries');
    await q.dropTable('webhooks');
    await q.dropTable('event_counters');
    await q.dropTable('events');
  }
}

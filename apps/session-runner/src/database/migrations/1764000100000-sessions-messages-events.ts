import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * What a runner must remember across restarts: which sessions should be running, every message
 * (with its raw proto, for retries, edits and votes), LID <-> phone-number pairs, and the events
 * not yet acknowledged by a gateway.
 */
export class SessionsMessagesEvents1764000100000 implements MigrationInterface {
  name = 'SessionsMessagesEvents1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'runner_sessions',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'desired', type: 'varchar', length: '16' },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'wa_messages',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'chat_jid', type: 'varchar', length: '128', isPrimary: true },
          { name: 'message_id', type: 'varchar', length: '128', isPrimary: true },
          { name: 'from_me', type: 'boolean', isPrimary: true },
          { name: 'participant', type: 'varchar', length: '128', isNullable: true },
          { name: 'type', type: 'varchar', length: '32' },
          { name: 'timestamp_ms', type: 'bigint' },
          { name: 'raw', type: 'text' },
        ],
      }),
    );
    await q.createIndex('wa_messages', new TableIndex({ name: 'ix_wa_messages_chat_time', columnNames: ['session_id', 'chat_jid', 'timestamp_ms'] }));
    await q.createIndex('wa_messages', new TableIndex({ name: 'ix_wa_messages_id', columnNames: ['session_id', 'message_id'] }));
    await q.createTable(
      new Table({
        name: 'wa_lid_mappings',
        columns: [
          { name: 'session_id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'lid', type: 'varchar', length: '128', isPrimary: true },
          { name: 'pn', type: 'varchar', length: '128' },
        ],
      }),
    );
    await q.createIndex('wa_lid_mappings', new TableIndex({ name: 'ix_wa_lid_mappings_pn', columnNames: ['session_id', 'pn'] }));
    await q.createTable(
      new Table({
        name: 'runner_events',
        columns: [
          { name: 'id', type: 'varchar', length: '26', isPrimary: true },
          { name: 'org_id', type: 'varchar', length: '128' },
          { name: 'session_id', type: 'varchar', length: '26' },
          { name: 'type', type: 'varchar', length: '32' },
          { name: 'data', type: 'text' },
          { name: 'occurred_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('runner_events');
    await q.dropTable('wa_lid_mappings');
    await q.dropTable('wa_messages');
    await q.dropTable('runner_sessions');
  }
}

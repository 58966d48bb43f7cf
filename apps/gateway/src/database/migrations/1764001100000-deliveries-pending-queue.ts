import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The pending deliveries of each (endpoint, session) queue in queue order, and nothing else:
 * the delivery claim hops from one queue to the next through it and reads each queue's head
 * as the first entry, so a claim costs one probe per queue instead of a walk over the whole
 * pending backlog (delivered rows, the bulk of the table, are left out of the index).
 */
export class DeliveriesPendingQueue1764001100000 implements MigrationInterface {
  name = 'DeliveriesPendingQueue1764001100000';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex(
      'webhook_deliveries',
      new TableIndex({ name: 'ix_deliveries_pending_queue', columnNames: ['webhook_id', 'session_key', 'sequence', 'id'], where: "status = 'pending'" }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('webhook_deliveries', 'ix_deliveries_pending_queue');
  }
}

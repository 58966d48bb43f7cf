import { randomBytes } from 'node:crypto';
import { WaMessageIds } from '@wa/domain';
import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The name of the key that enciphers the outbox's WhatsApp message ids (`WaMessageIds`). */
export const WA_MESSAGE_ID_KEY = 'wa_message_ids';

/** Rows backfilled per statement. */
const CHUNK = 2000;

/**
 * `ix_outbox_wa_id` put a random key (a WhatsApp message id) into its B-tree on every accept: one
 * more page written per request and commit, on SQLite the largest single cost of an accept. The
 * outbox now indexes `wa_sort`, the deciphered id (`WaMessageIds`), which grows with time, so new
 * keys land at the end of the index. The key that enciphers the ids is minted here, once per
 * database (every replica reads the same one), into `gateway_secrets`; existing entries get their
 * sort key from it, a chunk at a time.
 */
export class OutboxWaSort1764001300000 implements MigrationInterface {
  name = 'OutboxWaSort1764001300000';

  async up(q: QueryRunner): Promise<void> {
    const postgres = q.connection.options.type === 'postgres';
    const p = (n: number): string => (postgres ? `$${n}` : '?');
    await q.createTable(
      new Table({
        name: 'gateway_secrets',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'value', type: 'text' },
        ],
      }),
    );
    const key = randomBytes(32);
    await q.query(`INSERT INTO gateway_secrets (name, value) VALUES (${p(1)}, ${p(2)})`, [WA_MESSAGE_ID_KEY, key.toString('hex')]);
    await q.query('ALTER TABLE outbox ADD COLUMN wa_sort varchar(80)');
    const ids = new WaMessageIds(key);
    for (let after = ''; ; ) {
      const rows = (await q.query(`SELECT id, wa_message_id FROM outbox WHERE id > ${p(1)} ORDER BY id LIMIT ${CHUNK}`, [after])) as { id: string; wa_message_id: string }[];
      if (rows.length === 0) break;
      if (postgres) {
        await q.query('UPDATE outbox o SET wa_sort = v.s FROM unnest($1::text[], $2::text[]) AS v(id, s) WHERE o.id = v.id', [
          rows.map((r) => r.id),
          rows.map((r) => ids.sortKey(r.wa_message_id)),
        ]);
      } else {
        for (const r of rows) await q.query('UPDATE outbox SET wa_sort = ? WHERE id = ?', [ids.sortKey(r.wa_message_id), r.id]);
      }
      after = rows[rows.length - 1]!.id;
    }
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_wa_sort', columnNames: ['session_id', 'wa_sort'] }));
    await q.dropIndex('outbox', 'ix_outbox_wa_id');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.createIndex('outbox', new TableIndex({ name: 'ix_outbox_wa_id', columnNames: ['session_id', 'wa_message_id'] }));
    await q.dropIndex('outbox', 'ix_outbox_wa_sort');
    await q.dropColumn('outbox', 'wa_sort');
    await q.dropTable('gateway_secrets');
  }
}

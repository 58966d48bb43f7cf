import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets, migrationRoundTrip } from '@wa/contracts/testing';
import { WaMessageIds } from '@wa/domain';
import { DataSource } from 'typeorm';
import { GATEWAY_MIGRATIONS } from '../src/database/migrations';
import { OutboxWaSort1764001300000, WA_MESSAGE_ID_KEY } from '../src/database/migrations/1764001300000-outbox-wa-sort';
import { OutboxStore } from '../src/messages/outbox.store';

describe('gateway migrations', () => {
  const targets = freshDatabaseTargets('gw_migrations');
  const upgraded = freshDatabaseTargets('gw_wa_sort');
  afterAll(async () => {
    await dropPostgresSchema(targets.postgres);
    await dropPostgresSchema(upgraded.postgres);
  });

  it.each(['sqlite', 'postgres'] as const)('apply, revert and re-apply on %s', async (kind) => {
    const r = await migrationRoundTrip(targets[kind], GATEWAY_MIGRATIONS, 'gateway_migrations');
    expect(r.afterUp).toContain('api_keys');
    expect(r.afterDown).toEqual([]);
    expect(r.afterUpAgain).toEqual(r.afterUp);
  });

  it.each(['sqlite', 'postgres'] as const)('gives the entries of an outbox written before ix_outbox_wa_sort their sort keys, on %s', async (kind) => {
    const target = upgraded[kind];
    await ensureDatabaseSchema(target);
    const before = GATEWAY_MIGRATIONS.filter((m) => m !== OutboxWaSort1764001300000);
    const open = async (migrations: unknown[]) => {
      const ds = new DataSource(buildDataSourceOptions({ target, entities: [], migrations: migrations as never, migrationsTableName: 'gateway_migrations' }));
      await ds.initialize();
      await ds.runMigrations();
      return ds;
    };
    const p = (n: number) => (kind === 'postgres' ? `$${n}` : '?');
    // More entries than one backfill chunk: the old WhatsApp id layout and other clients' ids.
    const old = await open(before);
    const ids = Array.from({ length: 2100 }, (_, i) => ({ id: `01OLD${String(i).padStart(21, '0')}`, wa: i % 3 === 0 ? `3A${String(i).padStart(18, '0')}` : `3EB0${i.toString(16).toUpperCase().padStart(18, '0')}` }));
    for (const e of ids) {
      await old.query(
        'INSERT INTO outbox (id, org_id, session_id, chat, kind, action, wa_message_id, mode, status, attempts, next_attempt_at, created_at, updated_at) ' +
          `VALUES (${p(1)}, 'org', 's1', 'chat', 'send', '{}', ${p(2)}, 'async', 'sent', 1, NULL, 1, 1)`,
        [e.id, e.wa],
      );
    }
    await old.destroy();

    const ds = await open(GATEWAY_MIGRATIONS);
    try {
      const [{ value }] = (await ds.query(`SELECT value FROM gateway_secrets WHERE name = ${p(1)}`, [WA_MESSAGE_ID_KEY])) as { value: string }[];
      expect(value).toMatch(/^[0-9a-f]{64}$/);
      const keys = new WaMessageIds(Buffer.from(value, 'hex'));
      const rows = (await ds.query('SELECT id, wa_message_id, wa_sort FROM outbox ORDER BY id')) as { id: string; wa_message_id: string; wa_sort: string }[];
      expect(rows).toHaveLength(ids.length);
      for (const r of rows) expect(r.wa_sort).toBe(keys.sortKey(r.wa_message_id));
      const indexes = (await ds.query(
        kind === 'postgres' ? "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'outbox' AND schemaname = current_schema()" : "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'",
      )) as { name: string }[];
      expect(indexes.map((i) => i.name)).toContain('ix_outbox_wa_sort');
      expect(indexes.map((i) => i.name)).not.toContain('ix_outbox_wa_id');
      // A receipt for an entry of before the upgrade still finds it.
      const store = new OutboxStore(ds);
      await store.onModuleInit();
      for (const e of [ids[0]!, ids[1]!, ids[2099]!]) {
        expect(await store.advance({ orgId: 'org', sessionId: 's1', waMessageId: e.wa, status: 'delivered', error: null }, 2)).toEqual({ moved: [e.id], entry: e.id });
      }
    } finally {
      await ds.destroy();
    }
  });
});

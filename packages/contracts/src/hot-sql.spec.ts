import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, ensureDatabaseSchema } from './database';
import { HotSql, unnestColumns } from './hot-sql';
import { countingCalls, dropPostgresSchema, freshDatabaseTargets } from './testing';

/**
 * HotSql on SQLite: the writes of one turn of the event loop, from every caller on the
 * connection, share one commit, and each keeps the answer and the all-or-nothing it had alone.
 */
describe('HotSql on SQLite', () => {
  let dir: string;
  let ds: DataSource;
  let raw: object;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hot-sql-'));
    ds = new DataSource(buildDataSourceOptions({ target: { kind: 'sqlite', path: join(dir, 'db.sqlite') }, entities: [], migrations: [], migrationsTableName: 'm' }));
    await ds.initialize();
    await ds.query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    await ds.query('CREATE TABLE log (what TEXT NOT NULL)');
    raw = (ds.driver as unknown as { databaseConnection: object }).databaseConnection;
  });
  afterAll(async () => {
    await ds?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await ds.query('DELETE FROM kv');
    await ds.query('DELETE FROM log');
  });

  const rows = async (table: string): Promise<unknown[]> => ds.query(`SELECT * FROM ${table} ORDER BY 1`);

  it('is one instance per connection, so that all its callers share the turn', () => {
    expect(HotSql.of(ds)).toBe(HotSql.of(ds));
  });

  it("commits a turn's single writes and batches together, each with its own answer", async () => {
    const sql = HotSql.of(ds);
    await sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['a', 1]);
    const { result, calls: n } = await countingCalls(raw, 'transaction', () =>
      Promise.all([
        sql.run('UPDATE kv SET v = v + $2 WHERE k = $1', ['a', 10]),
        sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['b', 2]),
        sql.batch([
          { sql: 'INSERT INTO log (what) VALUES ($1)', params: ['one'] },
          { sql: 'UPDATE kv SET v = v * 2 WHERE k IN ($1, $2)', params: ['a', 'b'] },
        ]),
        sql.run('UPDATE kv SET v = 0 WHERE k = $1', ['nobody']),
        HotSql.of(ds).batch([
          { sql: 'INSERT INTO log (what) VALUES ($1)', params: ['two'] },
          { sql: 'INSERT INTO log (what) VALUES ($1)', params: ['three'] },
        ]),
      ]),
    );
    // Alone, each batch was a transaction and each single write a commit of its own.
    expect(n).toBe(1);
    // Rows changed by each, in the order they were asked for (a batch: its last step).
    expect(result).toEqual([1, 1, 2, 0, 1]);
    expect(await rows('kv')).toEqual([
      { k: 'a', v: 22 },
      { k: 'b', v: 4 },
    ]);
    expect(await rows('log')).toEqual([{ what: 'one' }, { what: 'three' }, { what: 'two' }]);
  });

  it("answers a write's RETURNING rows from the turn's commit, after the writes asked for before it", async () => {
    const sql = HotSql.of(ds);
    await sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['r', 1]);
    const { result, calls: n } = await countingCalls(raw, 'transaction', () =>
      Promise.all([
        sql.run('UPDATE kv SET v = v + 1 WHERE k = $1', ['r']),
        sql.writeRows('UPDATE kv SET v = v * 10 WHERE k = $1 RETURNING k, v', ['r']),
        sql.writeRows('UPDATE kv SET v = 0 WHERE k = $1 RETURNING k', ['nobody']),
      ]),
    );
    expect(n).toBe(1);
    expect(result).toEqual([1, [{ k: 'r', v: 20 }], []]);
  });

  it('fails only the write that cannot be done, and a failed batch leaves none of its steps', async () => {
    const sql = HotSql.of(ds);
    await sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['taken', 1]);
    const results = await Promise.allSettled([
      sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['fine', 1]),
      sql.batch([
        { sql: 'INSERT INTO log (what) VALUES ($1)', params: ['from the failed batch'] },
        { sql: 'INSERT INTO kv (k, v) VALUES ($1, $2)', params: ['taken', 2] },
      ]),
      sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['null', null]),
      sql.batch([{ sql: 'INSERT INTO log (what) VALUES ($1)', params: ['from the good batch'] }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(await rows('kv')).toEqual([
      { k: 'fine', v: 1 },
      { k: 'taken', v: 1 },
    ]);
    expect(await rows('log')).toEqual([{ what: 'from the good batch' }]);
  });

  it("keeps changes() of a batch step about the step before it, whatever else the turn writes", async () => {
    const sql = HotSql.of(ds);
    await sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['x', 1]);
    // The runner writes an event only if the status before it moved a row; here it moves none,
    // while a write of another caller in the same turn, just before, changed one.
    await Promise.all([
      sql.run('UPDATE kv SET v = 5 WHERE k = $1', ['x']),
      sql.batch([
        { sql: 'UPDATE kv SET v = 9 WHERE k = $1', params: ['missing'] },
        { sql: 'INSERT INTO log (what) SELECT $1 WHERE changes() > 0', params: ['moved'] },
      ]),
    ]);
    expect(await rows('log')).toEqual([]);
    expect(await rows('kv')).toEqual([{ k: 'x', v: 5 }]);
  });

  it('commits an urgent write at once, with the writes of the turn asked for before it', async () => {
    const sql = HotSql.of(ds);
    const before = sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['before', 1]);
    const urgent = sql.batch([{ sql: 'INSERT INTO kv (k, v) VALUES ($1, $2)', params: ['urgent', 2] }], true);
    // Committed in the caller's turn, before any other callback could run: another connection sees both.
    const other = new Database(join(dir, 'db.sqlite'), { readonly: true });
    try {
      expect(other.prepare('SELECT k FROM kv ORDER BY k').all()).toEqual([{ k: 'before' }, { k: 'urgent' }]);
    } finally {
      other.close();
    }
    const after = sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['after', 3], true);
    await expect(Promise.all([before, urgent, after])).resolves.toEqual([1, 1, 1]);
    expect(await rows('kv')).toEqual([
      { k: 'after', v: 3 },
      { k: 'before', v: 1 },
      { k: 'urgent', v: 2 },
    ]);
  });

  it('keeps an urgent write behind a TypeORM transaction in progress on the connection', async () => {
    const sql = HotSql.of(ds);
    let urgent!: Promise<number>;
    await ds.transaction(async (manager) => {
      await manager.query('INSERT INTO log (what) VALUES (?)', ['in the transaction']);
      urgent = sql.run('INSERT INTO log (what) VALUES ($1)', ['urgent'], true);
      await manager.query('INSERT INTO log (what) VALUES (?)', ['still in it']);
      throw new Error('roll it back');
    }).catch(() => undefined);
    await expect(urgent).resolves.toBe(1);
    // The rollback took the transaction's own rows only.
    expect(await rows('log')).toEqual([{ what: 'urgent' }]);
  });
});

/**
 * HotSql on PostgreSQL: a batch is one statement (its steps are data-modifying CTEs of the last
 * one), which commits or fails whole.
 */
describe('HotSql on PostgreSQL', () => {
  const target = freshDatabaseTargets('hot_sql').postgres;
  let ds: DataSource;
  let pool: Pool;

  beforeAll(async () => {
    await ensureDatabaseSchema(target);
    ds = new DataSource(buildDataSourceOptions({ target, entities: [], migrations: [], migrationsTableName: 'm' }));
    await ds.initialize();
    await ds.query('CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    await ds.query('CREATE TABLE log (what TEXT NOT NULL)');
    pool = (ds.driver as unknown as { master: Pool }).master;
  });
  afterAll(async () => {
    await ds?.destroy();
    await dropPostgresSchema(target);
  });
  beforeEach(async () => {
    await ds.query('DELETE FROM kv');
    await ds.query('DELETE FROM log');
  });

  const rows = async (table: string): Promise<unknown[]> => ds.query(`SELECT * FROM ${table} ORDER BY 1`);

  it('sends a batch as one statement, whose last step may have a WITH of its own', async () => {
    const sql = HotSql.of(ds);
    await sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['a', 1]);
    const { result, calls } = await countingCalls(pool, 'query', () =>
      sql.batch([
        { sql: 'INSERT INTO log (what) VALUES ($1)', params: ['one'] },
        { sql: 'INSERT INTO kv (k, v) VALUES ($1, $2)', params: ['b', 2] },
        { sql: 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) UPDATE kv SET v = v + (SELECT sum(i) FROM n) WHERE k = $1', params: ['a', 3] },
      ]),
    );
    expect(calls).toBe(1);
    expect(result).toBe(1);
    // The steps all see the statement's snapshot: `b`, inserted by a step, was not there to update.
    expect(await rows('kv')).toEqual([
      { k: 'a', v: 7 },
      { k: 'b', v: 2 },
    ]);
    expect(await rows('log')).toEqual([{ what: 'one' }]);
  });

  it("answers the last step's rows: a SELECT after data-modifying CTEs", async () => {
    const sql = HotSql.of(ds);
    await sql.run('INSERT INTO kv (k, v) VALUES ($1, $2)', ['a', 1]);
    const answer = (k: string) =>
      sql.batchRows([
        { sql: 'INSERT INTO log (what) VALUES ($1)', params: [k] },
        {
          sql: 'WITH moved AS (UPDATE kv SET v = v + 1 WHERE k = $1 RETURNING 1) SELECT EXISTS (SELECT 1 FROM moved) AS moved, (SELECT count(*) FROM log)::int AS logged',
          params: [k],
        },
      ]);
    expect(await answer('a')).toEqual([{ moved: true, logged: 0 }]);
    expect(await answer('nobody')).toEqual([{ moved: false, logged: 1 }]);
    expect(await rows('log')).toEqual([{ what: 'a' }, { what: 'nobody' }]);
  });

  it('runs a statement again when PostgreSQL made it the victim of a deadlock, and writes it once', async () => {
    const sql = HotSql.of(ds);
    await sql.run('INSERT INTO kv (k, v) VALUES ($1, $2), ($3, $4)', ['x', 0, 'y', 0]);
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await other.query("UPDATE kv SET v = v + 100 WHERE k = 'x'");
      // The batch locks y first (its subquery runs before the update), then waits for x.
      const batch = sql.batch([
        { sql: 'INSERT INTO log (what) VALUES ($1)', params: ['once'] },
        { sql: 'WITH y AS (SELECT 1 FROM kv WHERE k = $1 FOR UPDATE) UPDATE kv SET v = v + 1 WHERE k = $2 AND EXISTS (SELECT 1 FROM y)', params: ['y', 'x'] },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The other transaction now waits for y: a deadlock, found first by the batch's backend,
      // which waited longer; the batch is rolled back, and the other goes on and commits.
      await other.query("UPDATE kv SET v = v + 100 WHERE k = 'y'");
      await other.query('COMMIT');
      await expect(batch).resolves.toBe(1);
    } finally {
      other.release();
    }
    expect(await rows('kv')).toEqual([
      { k: 'x', v: 101 },
      { k: 'y', v: 100 },
    ]);
    expect(await rows('log')).toEqual([{ what: 'once' }]);
  });

  it('runs a batch as one statement and, on an error in its last step, writes none of its steps', async () => {
    const sql = HotSql.of(ds);
    const steps = (v: number) => [
      { sql: 'INSERT INTO log (what) VALUES ($1)', params: [`v=${v}`] },
      { sql: 'INSERT INTO kv (k, v) VALUES ($1, $2) RETURNING v', params: ['t', v] },
    ];
    const { result, calls } = await countingCalls(Client.prototype, 'query', () => sql.batchRows(steps(1)));
    expect(result).toEqual([{ v: 1 }]);
    expect(calls).toBe(1);
    // The key is taken: the whole statement fails, and its log row goes with it.
    await expect(sql.batchRows(steps(2))).rejects.toThrow(/duplicate key/);
    expect(await rows('log')).toEqual([{ what: 'v=1' }]);
    await expect(sql.all('SELECT count(*)::int AS n FROM kv', [])).resolves.toEqual([{ n: 1 }]);
  });
});

describe(unnestColumns.name, () => {
  it('turns rows of items into one array per column, in item order', () => {
    const items = [
      { id: 'a', n: 1 },
      { id: 'b', n: 2 },
    ];
    expect(unnestColumns(items, (it, i) => [it.id, it.n, i])).toEqual([
      ['a', 'b'],
      [1, 2],
      [0, 1],
    ]);
  });
});

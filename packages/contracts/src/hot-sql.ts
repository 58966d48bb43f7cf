import { createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { Pool, QueryResult } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { inSqliteTurn, sqliteTurnIdle, sqliteWriterKey } from './database';
import { TurnBatcher } from './turn-batcher';

/** One statement, written with `$1`-style placeholders (rewritten to `?` for SQLite). */
export interface SqlStep {
  sql: string;
  params: readonly unknown[];
}

export type SqlRow = Record<string, unknown>;

/**
 * Hand-written statements for hot paths, prepared once, on SQLite and PostgreSQL alike, without
 * TypeORM (about four times the cost of a prepared statement per call). A `batch` is atomic and
 * costs one commit: on SQLite its steps run back to back (nothing else between them) in the one
 * transaction of the turn's writes, on PostgreSQL one round trip (the steps become data-modifying
 * CTEs of one statement, which all see the same snapshot: steps of one batch must not depend on
 * each other's writes).
 */
export abstract class HotSql {
  /** One per SQLite connection, shared by its callers, so that their writes of a turn share a commit. */
  private static readonly sqlite = new WeakMap<Database, SqliteHotSql>();

  static of(ds: DataSource): HotSql {
    const driver = ds.driver as unknown as { databaseConnection: Database; master: Pool };
    const key = sqliteWriterKey(ds);
    if (key === undefined) return new PostgresHotSql(driver.master);
    let hot = HotSql.sqlite.get(driver.databaseConnection);
    if (!hot) HotSql.sqlite.set(driver.databaseConnection, (hot = new SqliteHotSql(driver.databaseConnection, key)));
    return hot;
  }

  abstract readonly kind: 'sqlite' | 'postgres';
  /** Rows of a read. */
  abstract all(sql: string, params: readonly unknown[]): Promise<SqlRow[]>;
  /** One write; the number of rows it changed. `urgent`: as for `batch`. */
  abstract run(sql: string, params: readonly unknown[], urgent?: boolean): Promise<number>;
  /** One write with RETURNING; the rows it returned (on SQLite, in the turn's commit as `run`). */
  writeRows(sql: string, params: readonly unknown[]): Promise<SqlRow[]> {
    return this.batchRows([{ sql, params }]);
  }
  /**
   * Several writes in one transaction; answers how many rows the last one changed. `urgent`: on
   * SQLite, the turn's commit happens now, with this batch and the writes gathered before it,
   * rather than once the turn ends: for writes that others wait behind (a send holds its
   * account's key lock until its keys are written), where a busy event loop makes the turn's end
   * tens of milliseconds away. On PostgreSQL every batch goes at once.
   */
  abstract batch(steps: SqlStep[], urgent?: boolean): Promise<number>;
  /** `batch`, answering the rows the last step returns (a RETURNING, or a SELECT after data-modifying CTEs). */
  abstract batchRows(steps: SqlStep[]): Promise<SqlRow[]>;
}

class SqliteHotSql extends HotSql {
  readonly kind = 'sqlite';
  private readonly statements = new Map<string, { stmt: Statement; order: number[] }>();

  constructor(
    private readonly db: Database,
    private readonly writerKey: unknown,
  ) {
    super();
  }

  private bind(sql: string, params: readonly unknown[]): { stmt: Statement; values: unknown[] } {
    let p = this.statements.get(sql);
    if (!p) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_m, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      });
      p = { stmt: this.db.prepare(text), order };
      if (this.statements.size > 2000) this.statements.clear();
      this.statements.set(sql, p);
    }
    return { stmt: p.stmt, values: p.order.map((i) => sqliteValue(params[i])) };
  }

  async all(sql: string, params: readonly unknown[]): Promise<SqlRow[]> {
    const { stmt, values } = this.bind(sql, params);
    return stmt.all(...values) as SqlRow[];
  }

  /**
   * The writes of one turn of the event loop (single statements and batches, of every session
   * of the process) commit together: one WAL append where each paid its own, which on a busy
   * runner was several commits per message. Each keeps its order and its own answer, and hears
   * back after the commit; a batch stays all or nothing. If the shared commit fails, each write
   * runs alone (a batch in its own transaction), so one bad write fails only its own caller.
   */
  private readonly writes = new TurnBatcher<QueuedWrite, number | SqlRow[]>(
    (items) => this.turn(() => this.db.transaction(() => items.map((it) => this.runWrite(it)))()),
    (it) => this.turn(() => (it.steps.length > 1 ? this.db.transaction(() => this.runWrite(it))() : this.runWrite(it))),
  );

  private runWrite({ steps, rows }: QueuedWrite): number | SqlRow[] {
    let changes = 0;
    for (const [i, s] of steps.entries()) {
      const { stmt, values } = this.bind(s.sql, s.params);
      if (rows && i === steps.length - 1) return stmt.reader ? (stmt.all(...values) as SqlRow[]) : (stmt.run(...values), []);
      changes = stmt.run(...values).changes;
    }
    return changes;
  }

  run(sql: string, params: readonly unknown[], urgent = false): Promise<number> {
    return this.writes.add({ steps: [{ sql, params }], rows: false }, urgent) as Promise<number>;
  }

  batchRows(steps: SqlStep[]): Promise<SqlRow[]> {
    return steps.length ? (this.writes.add({ steps, rows: true }) as Promise<SqlRow[]>) : Promise.resolve([]);
  }

  batch(steps: SqlStep[], urgent = false): Promise<number> {
    return steps.length ? (this.writes.add({ steps, rows: false }, urgent) as Promise<number>) : Promise.resolve(0);
  }

  /**
   * Synchronous statements on the one connection TypeORM also uses: they wait for the writers of
   * this process and for a TypeORM transaction in progress, or they would join it.
   */
  private async turn<T>(work: () => T): Promise<T> {
    if (sqliteTurnIdle(this.writerKey) && !this.db.inTransaction) return work();
    return inSqliteTurn(this.writerKey, async () => {
      while (this.db.inTransaction) await new Promise((r) => setImmediate(r));
      return work();
    });
  }
}

/** A write waiting for its turn's commit: steps that run back to back; `rows`: the last one's rows are the answer. */
interface QueuedWrite {
  steps: SqlStep[];
  rows: boolean;
}

/** better-sqlite3 binds neither booleans nor undefined. */
function sqliteValue(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v === undefined ? null : v;
}

const DEADLOCK_DETECTED = '40P01';
const SERIALIZATION_FAILURE = '40001';
/** Runs of a statement that lost a deadlock, at most. */
const RETRIES_ON_CONFLICT = 3;

class PostgresHotSql extends HotSql {
  readonly kind = 'postgres';
  /** Names of prepared statements, by text (pg prepares a name once per connection). */
  private readonly names = new Map<string, string>();

  constructor(private readonly pool: Pool) {
    super();
  }

  /** Named by a hash of the text: every HotSql of one pool shares its connections' prepared statements. */
  private named(sql: string): { name: string; text: string } {
    let name = this.names.get(sql);
    if (!name) {
      name = `hot_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      if (this.names.size > 1000) this.names.clear();
      this.names.set(sql, name);
    }
    return { name, text: sql };
  }

  async all(sql: string, params: readonly unknown[]): Promise<SqlRow[]> {
    return (await this.query({ ...this.named(sql), values: params as unknown[] })).rows as SqlRow[];
  }

  async run(sql: string, params: readonly unknown[]): Promise<number> {
    return (await this.query({ ...this.named(sql), values: params as unknown[] })).rowCount ?? 0;
  }

  async batch(steps: SqlStep[]): Promise<number> {
    if (steps.length === 0) return 0;
    // The command's row count is the main statement's: the last step.
    return (await this.query(this.combined(steps))).rowCount ?? 0;
  }

  async batchRows(steps: SqlStep[]): Promise<SqlRow[]> {
    return steps.length ? ((await this.query(this.combined(steps))).rows as SqlRow[]) : [];
  }

  /**
   * One statement, run again when PostgreSQL chose it as the victim of a deadlock (or of a
   * serialization failure): it then rolled back whole, so running it again writes it once. Two
   * statements that lock rows of the same tables in different orders meet this (a runner's
   * status batch and a message's save, both on the message's rows), and the loser was lost.
   */
  private async query(q: { name: string; text: string; values: unknown[] }): Promise<QueryResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query(q);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= RETRIES_ON_CONFLICT || (code !== DEADLOCK_DETECTED && code !== SERIALIZATION_FAILURE)) throw err;
        await new Promise((resolve) => setTimeout(resolve, attempt * (1 + Math.random() * 4)));
      }
    }
  }

  /**
   * The steps as one statement: all but the last become data-modifying CTEs of the last, which
   * may have a WITH of its own (its CTEs follow theirs). Parameters are renumbered in order.
   */
  private combined(steps: SqlStep[]): { name: string; text: string; values: unknown[] } {
    if (steps.length === 1) return { ...this.named(steps[0].sql), values: steps[0].params as unknown[] };
    const values: unknown[] = [];
    const parts = steps.map((s) => {
      const offset = values.length;
      values.push(...s.params);
      return s.sql.replace(/\$(\d+)/g, (_m, n: string) => `$${offset + Number(n)}`);
    });
    const last = parts.pop()!;
    const ctes = parts.map((p, i) => `w${i} AS (${p})`).join(', ');
    const own = /^WITH\s+(RECURSIVE\s+)?/i.exec(last);
    const text = own ? `WITH ${own[1] ?? ''}${ctes}, ${last.slice(own[0].length)}` : `WITH ${ctes} ${last}`;
    return { ...this.named(text), values };
  }
}

/**
 * The parameters of an `unnest(...)` statement: one array per column, built from one row per
 * item (`row` answers an item's values in column order); at least one item, or there are no columns.
 */
export function unnestColumns<I>(items: readonly I[], row: (item: I, index: number) => readonly unknown[]): unknown[][] {
  const columns: unknown[][] = [];
  items.forEach((item, index) => row(item, index).forEach((value, c) => (columns[c] ??= []).push(value)));
  return columns;
}

/**
 * Runs one step inside a TypeORM transaction (the callers that write with other TypeORM work);
 * answers how many rows it changed (an `ON CONFLICT DO NOTHING` that met its row changed none).
 */
export async function runStep(manager: EntityManager, step: SqlStep): Promise<number> {
  const postgres = manager.connection.options.type === 'postgres';
  const values: unknown[] = postgres ? [...step.params] : [];
  const text = postgres
    ? step.sql
    : step.sql.replace(/\$(\d+)/g, (_m, n: string) => {
        values.push(sqliteValue(step.params[Number(n) - 1]));
        return '?';
      });
  // The structured result carries the count on both drivers; the plain one does not for inserts.
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  try {
    const result = (await runner.query(text, values, true)) as { affected?: number };
    return result.affected ?? 0;
  } finally {
    if (runner !== manager.queryRunner) await runner.release();
  }
}

import { inSqliteTurn, sqliteTurnIdle, sqliteWriterKey, transactionInTurn } from '@wa/contracts';
import type { DataSource, EntityManager } from 'typeorm';

export type SqlRunner = DataSource | EntityManager;

/**
 * Hand-written SQL for the hot paths (event fan-out, delivery claims) that runs unchanged on
 * SQLite and PostgreSQL: statements are written with `$1` placeholders, rewritten to `?` for
 * SQLite, and results are normalised (pg answers UPDATE/DELETE with `[rows, count]` and BIGINT
 * as strings).
 */
export class SqlDialect {
  private constructor(
    readonly kind: 'sqlite' | 'postgres',
    private readonly writerKey: unknown,
  ) {}

  static of(ds: DataSource): SqlDialect {
    const key = sqliteWriterKey(ds);
    return key === undefined ? new SqlDialect('postgres', ds) : new SqlDialect('sqlite', key);
  }

  transaction<T>(ds: DataSource, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return transactionInTurn(ds, work);
  }

  /** True when no SQLite write of this process is queued: a synchronous write may go at once. */
  idle(): boolean {
    return sqliteTurnIdle(this.writerKey);
  }

  /**
   * Runs `work` after every SQLite write of this process queued before it (PostgreSQL callers
   * need no turn). SQLite allows one writer per file: two connections to one file in one process
   * (replicas in a test, a CLI beside the app) would otherwise interleave transactions at their
   * awaits, and the loser's busy wait would block the very thread the winner needs to commit.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return inSqliteTurn(this.writerKey, work);
  }

  async query<T = Record<string, unknown>>(runner: SqlRunner, sql: string, params: readonly unknown[] = []): Promise<T[]> {
    // Outside a transaction, a SQLite write takes its turn with the transactions of this process.
    if (this.kind === 'sqlite' && this.isDataSource(runner) && !/^\s*SELECT/i.test(sql)) {
      return this.exclusive(() => this.run<T>(runner, sql, params));
    }
    return this.run<T>(runner, sql, params);
  }

  private isDataSource(runner: SqlRunner): boolean {
    return typeof (runner as DataSource).createQueryRunner === 'function' && typeof (runner as DataSource).initialize === 'function';
  }

  private async run<T>(runner: SqlRunner, sql: string, params: readonly unknown[]): Promise<T[]> {
    let text = sql;
    let values: unknown[] = params as unknown[];
    if (this.kind === 'sqlite') {
      values = [];
      text = sql.replace(/\$(\d+)/g, (_m, n: string) => {
        values.push(params[Number(n) - 1]);
        return '?';
      });
    }
    const raw: unknown = await runner.query(text, values);
    if (!Array.isArray(raw)) return [];
    if (this.kind === 'postgres' && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') return raw[0] as T[];
    return raw as T[];
  }

  /** Row locks that let concurrent claimers pass each other by (PostgreSQL); SQLite serialises writers anyway. */
  skipLocked(alias: string): string {
    return this.kind === 'postgres' ? `FOR UPDATE OF ${alias} SKIP LOCKED` : '';
  }

  /**
   * `column` is one of a list bound as the single parameter `$n` (its value from `list`): one
   * statement however long the list, with no bound-parameter limit to chunk around.
   */
  inList(column: string, n: number): string {
    return this.kind === 'postgres' ? `${column} = ANY($${n}::varchar[])` : `${column} IN (SELECT value FROM json_each($${n}))`;
  }

  list(values: string[]): unknown {
    return this.kind === 'postgres' ? values : JSON.stringify(values);
  }

  /** Pins SQLite's choice of index where its planner, without statistics, picks a worse one (PostgreSQL plans from its own). */
  indexedBy(index: string): string {
    return this.kind === 'sqlite' ? `INDEXED BY ${index}` : '';
  }

  /**
   * Runs `work` again (up to `attempts` times in all) when PostgreSQL aborted it as one side of a
   * deadlock or of a serialization failure: `work` must be safe to repeat (its transaction was
   * rolled back). For API writes whose locks meet the background writers' in another order (a
   * webhook's delete cascades from the endpoint to its deliveries, while the delivery worker
   * locks deliveries, then the endpoint it disables): the loser is retried instead of answering 500.
   */
  async retryingConflicts<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (err) {
        if (attempt >= attempts || !this.isConflict(err)) throw err;
        await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 40));
      }
    }
  }

  /** A PostgreSQL deadlock (40P01) or serialization failure (40001): the transaction was rolled back and may be tried again. */
  isConflict(err: unknown): boolean {
    const code = driverCode(err);
    return code === '40P01' || code === '40001';
  }

  isUniqueViolation(err: unknown): boolean {
    const code = driverCode(err);
    return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }
}

/** The database's error code of a failed query (TypeORM keeps the driver's error beside its own). */
function driverCode(err: unknown): string | undefined {
  const e = err as { driverError?: { code?: string }; code?: string } | undefined;
  return e?.driverError?.code ?? e?.code;
}

/** `($1, $2, $3), ($4, $5, $6)` for multi-row inserts. */
export function valuesList(rows: number, columns: number, offset = 0): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < columns; c++) cells.push(`$${offset + r * columns + c + 1}`);
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}

/** `$1, $2, $3` for IN lists. */
export function placeholders(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, i) => `$${offset + i + 1}`).join(', ');
}

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_DATABASE_POOL_SIZE, type DatabaseTarget } from '@wa/domain';
import { Client } from 'pg';
import type { DataSource, DataSourceOptions, EntityManager, MixedList, EntitySchema } from 'typeorm';
import { attachWalCheckpointer, type CheckpointedDatabase } from './wal-checkpointer';

type Constructor = new (...args: never[]) => unknown;
// eslint-disable-next-line @typescript-eslint/ban-types
type EntityList = MixedList<Function | string | EntitySchema>;

export interface DatabaseOptionsInput {
  target: DatabaseTarget;
  entities: EntityList;
  migrations: Constructor[];
  /** Name of the table that records applied migrations; each app keeps its own. */
  migrationsTableName: string;
  /** Hears what went wrong beside the queries (a SQLite WAL checkpoint worker that stopped). */
  onProblem?: (message: string) => void;
}

/**
 * TypeORM options shared by both apps: migrations run at start (never `synchronize`), SQLite in
 * WAL mode with `synchronous=NORMAL` (durable across process crashes, fast enough for the hot
 * path) and its checkpoints in a worker thread (see `attachWalCheckpointer`), PostgreSQL with an
 * optional schema so that apps and test runs can share one database.
 */
export function buildDataSourceOptions(input: DatabaseOptionsInput): DataSourceOptions {
  const common = {
    entities: input.entities,
    migrations: input.migrations,
    migrationsTableName: input.migrationsTableName,
    migrationsRun: true,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    logging: false,
  };
  const t = input.target;
  if (t.kind === 'sqlite') {
    if (t.path !== ':memory:') mkdirSync(dirname(t.path), { recursive: true });
    return {
      ...common,
      type: 'better-sqlite3',
      database: t.path,
      // TypeORM keeps 100 prepared statements by default; key batches and IN lists of every
      // length each make one of their own, and a runner under load spent 3% of its time
      // preparing statements it had just thrown away.
      statementCacheSize: 2000,
      prepareDatabase: (db: CheckpointedDatabase) => {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('busy_timeout = 5000');
        db.pragma('foreign_keys = ON');
        if (t.path !== ':memory:') attachWalCheckpointer(db, undefined, input.onProblem);
      },
    };
  }
  return {
    ...common,
    type: 'postgres',
    url: t.url,
    schema: t.schema,
    extra: { max: t.poolSize ?? DEFAULT_DATABASE_POOL_SIZE, ...(t.schema ? { options: `-c search_path=${t.schema}` } : {}) },
  };
}

/** Creates the PostgreSQL schema named in DATABASE_URL, if any, before TypeORM connects. */
export async function ensureDatabaseSchema(target: DatabaseTarget): Promise<void> {
  if (target.kind !== 'postgres' || !target.schema) return;
  const client = new Client({ connectionString: target.url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${target.schema}"`);
  } finally {
    await client.end();
  }
}

/**
 * SQLite writes of this process, one at a time per database file. TypeORM talks to a SQLite file
 * over one connection, so two transactions that overlap at their awaits collide ("cannot start a
 * transaction within a transaction", "no such savepoint") and a plain write issued meanwhile
 * joins whichever is open. PostgreSQL needs no turn.
 */
const sqliteTurns = new Map<unknown, Promise<unknown>>();

/** What identifies the database file of `ds` for `inSqliteTurn`; undefined for PostgreSQL. */
export function sqliteWriterKey(ds: DataSource): unknown {
  if (ds.options.type === 'postgres') return undefined;
  const path = String(ds.options.database);
  return path === ':memory:' ? ds : path;
}

/** Runs `work` after every SQLite write of this process queued before it on the same file. */
export function inSqliteTurn<T>(key: unknown, work: () => Promise<T>): Promise<T> {
  const previous = sqliteTurns.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const tail = run.catch(() => undefined);
  sqliteTurns.set(key, tail);
  void tail.then(() => {
    if (sqliteTurns.get(key) === tail) sqliteTurns.delete(key);
  });
  return run;
}

/** True when no SQLite write of this process is queued on that file. */
export function sqliteTurnIdle(key: unknown): boolean {
  return !sqliteTurns.has(key);
}

/** A TypeORM transaction that takes its turn on SQLite (see `inSqliteTurn`); on PostgreSQL a plain one. */
export function transactionInTurn<T>(ds: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  const key = sqliteWriterKey(ds);
  return key === undefined ? ds.transaction(work) : inSqliteTurn(key, () => ds.transaction(work));
}

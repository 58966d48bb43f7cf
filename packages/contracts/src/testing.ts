import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseTarget } from '@wa/domain';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions, ensureDatabaseSchema } from './database';

/** The PostgreSQL server the test suites use; CI and developer machines run one there. */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** A fresh, empty database of each supported kind: a SQLite file and a PostgreSQL schema. */
export function freshDatabaseTargets(label: string): { sqlite: DatabaseTarget; postgres: DatabaseTarget & { kind: 'postgres' } } {
  const suffix = `${label}_${randomBytes(4).toString('hex')}`.toLowerCase();
  return {
    sqlite: { kind: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'wa-db-')), `${suffix}.db`) },
    postgres: { kind: 'postgres', url: TEST_POSTGRES_URL, schema: `t_${suffix}` },
  };
}

export async function dropPostgresSchema(target: DatabaseTarget): Promise<void> {
  if (target.kind !== 'postgres' || !target.schema) return;
  const client = new Client({ connectionString: target.url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${target.schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export interface MigrationRoundTrip {
  afterUp: string[];
  afterDown: string[];
  afterUpAgain: string[];
}

/**
 * Applies every migration, reverts them all, and applies them again, listing the tables seen
 * after each step: migrations must run on both dialects and be reversible.
 */
export async function migrationRoundTrip(
  target: DatabaseTarget,
  migrations: (new () => unknown)[],
  migrationsTableName: string,
): Promise<MigrationRoundTrip> {
  await ensureDatabaseSchema(target);
  const ds = new DataSource({ ...buildDataSourceOptions({ target, entities: [], migrations, migrationsTableName }), migrationsRun: false });
  await ds.initialize();
  const tables = async (): Promise<string[]> => {
    const rows: { name: string }[] =
      target.kind === 'sqlite'
        ? await ds.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
        : await ds.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1`, [target.schema ?? 'public']);
    return rows.map((r) => r.name).filter((n) => n !== migrationsTableName).sort();
  };
  try {
    await ds.runMigrations({ transaction: 'each' });
    const afterUp = await tables();
    for (let i = 0; i < migrations.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    const afterDown = await tables();
    await ds.runMigrations({ transaction: 'each' });
    return { afterUp, afterDown, afterUpAgain: await tables() };
  } finally {
    await ds.destroy();
  }
}

/**
 * Ports test servers take: below the kernel's range for outgoing connections (Linux: 32768-60999).
 * A port the kernel hands out for `listen(0)` comes from that range, and between the check and
 * the server's own bind an outgoing connection of any process may take it as its local port: with
 * two CI runs on one machine a runner once failed to start with EADDRINUSE that way.
 */
const TEST_PORT_RANGE = { from: 20_000, to: 32_767 };

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that nobody listens on now, for a server a test starts next (see TEST_PORT_RANGE). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(TEST_PORT_RANGE.from, TEST_PORT_RANGE.to + 1);
    if (await canListen(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Runs `work` while counting the calls of `target[method]` (the method still runs): how many
 * transactions a connection opened, or statements a pool sent, for what `work` did.
 */
export async function countingCalls<T>(target: object, method: string, work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const holder = target as Record<string, (...args: unknown[]) => unknown>;
  const original = holder[method];
  if (typeof original !== 'function') throw new Error(`${method} is not a method of the target`);
  let calls = 0;
  holder[method] = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    return { result: await work(), calls };
  } finally {
    holder[method] = original;
  }
}

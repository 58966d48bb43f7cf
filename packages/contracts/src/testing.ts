import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive, type DatabaseTarget } from '@wa/domain';
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

/**
 * Ports handed out are also reserved, by a file named after the port in a directory every test
 * process on the machine shares. A spawned runner binds its port only once Nest has started, which
 * on a loaded 2-core machine is seconds after `freePort()` checked it, and CI runs four jest lanes
 * at once: in that window another lane's check found the same port free and bound it first, and the
 * runner exited with EADDRINUSE. A reservation lapses when its process has exited or after
 * RESERVATION_TTL_MS (a port is bound long before that, and a bound port fails the check anyway);
 * nothing removes it at exit (jest ends workers with signals), the next taker replaces a lapsed one.
 */
const RESERVATIONS_DIR = join(tmpdir(), 'wa-test-ports');
const RESERVATION_TTL_MS = 10 * 60_000;

function reservationLapsed(file: string): boolean {
  try {
    const age = Date.now() - statSync(file).mtimeMs;
    const pid = Number(readFileSync(file, 'utf8'));
    return age > RESERVATION_TTL_MS || !Number.isInteger(pid) || pid <= 0 || !processAlive(pid);
  } catch {
    // Gone between the failed create and this read: its owner released it.
    return true;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `freePort` over a given range and reservation directory (tests of the picker use their own). */
export function portPicker(options: { dir: string; range: { from: number; to: number }; attempts?: number }): () => Promise<number> {
  const reservedHere = new Set<number>();
  /** Takes the machine-wide reservation of `port` for this process; false when another live one holds it. */
  const reserve = (port: number): boolean => {
    if (reservedHere.has(port)) return false;
    mkdirSync(options.dir, { recursive: true });
    const file = join(options.dir, String(port));
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, String(process.pid), { flag: 'wx' });
        reservedHere.add(port);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (!reservationLapsed(file)) return false;
        rmSync(file, { force: true });
      }
    }
    return false;
  };
  return async () => {
    for (let attempt = 0; attempt < (options.attempts ?? 200); attempt++) {
      const port = randomInt(options.range.from, options.range.to + 1);
      if (reserve(port) && (await canListen(port))) return port;
    }
    // The range looks full: a port of the kernel's, with the race the range exists to avoid.
    return new Promise((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
    });
  };
}

/**
 * A port on 127.0.0.1 that nobody listens on now and that no other test process on this machine
 * was handed (see TEST_PORT_RANGE and RESERVATIONS_DIR), for a server a test starts next.
 */
export const freePort = portPicker({ dir: RESERVATIONS_DIR, range: TEST_PORT_RANGE });

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

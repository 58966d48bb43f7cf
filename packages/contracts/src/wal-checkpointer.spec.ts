import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { attachWalCheckpointer, type CheckpointedDatabase } from './wal-checkpointer';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const size = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** A database in WAL mode with SQLite's default checkpoint threshold, and a table of 1 KB rows. */
function open(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  return db;
}

/** `pages` pages' worth of rows, a few per commit as the outbox writes them. */
function write(db: Database.Database, pages: number): void {
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  const commit = db.transaction((n: number) => {
    for (let i = 0; i < n; i++) insert.run('x'.repeat(1000));
  });
  for (let i = 0; i < pages; i++) commit(4);
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

const exited = (w: Worker): Promise<number> => new Promise((resolve) => w.once('exit', resolve));

describe('attachWalCheckpointer', () => {
  let dir: string;
  const opened: Database.Database[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wal-checkpointer-'));
  });
  afterEach(() => {
    for (const db of opened.splice(0)) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const fresh = (): { db: Database.Database; path: string } => {
    const path = join(dir, 'db.sqlite');
    const db = open(path);
    opened.push(db);
    return { db, path };
  };

  it('copies committed pages into the database from its worker while the writer only appends', async () => {
    const { db, path } = fresh();
    const worker = attachWalCheckpointer(db, { everyMs: 20, capPages: 16_384, keepBytes: 0 });
    expect(worker).toBeDefined();
    // The writer no longer checkpoints at SQLite's 1,000 pages.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(16_384);
    const before = size(path);
    // 400 pages: below the writer's threshold (asserted above), so only the worker can move them.
    // (Whether it already did while they were written depends on the machine's speed.)
    write(db, 400);
    await until('the database file holds the rows', () => size(path) > before + 300 * 4096);
    // A fresh connection reads them whole.
    const reader = new Database(path, { readonly: true });
    try {
      expect(reader.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1600 });
    } finally {
      reader.close();
    }
  });

  it('keeps the WAL near its cap when the worker falls behind: the writer checkpoints past it and the WAL starts over', () => {
    const { db, path } = fresh();
    // A worker that never gets to run in this test.
    attachWalCheckpointer(db, { everyMs: 3_600_000, capPages: 200, keepBytes: 0 });
    write(db, 3000);
    // 3,000 pages went through the WAL; it never held much more than the cap (plus one commit).
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    expect(size(`${path}-wal`)).toBeLessThanOrEqual((200 + 50) * (pageSize + 24) + 32);
  });

  it('cuts the WAL file back to what it keeps once the WAL starts over', async () => {
    const { db, path } = fresh();
    attachWalCheckpointer(db, { everyMs: 20, capPages: 100_000, keepBytes: 64 * 1024 });
    const before = size(path);
    // One transaction: the worker cannot copy any of it (and let the WAL start over) before it commits.
    db.transaction(() => write(db, 2000))();
    expect(size(`${path}-wal`)).toBeGreaterThan(2000 * 4096);
    // The worker copied everything; the next write starts the WAL over and cuts the file.
    await until('the database file holds the rows', () => size(path) > before + 1900 * 4096);
    await until('the WAL file is cut back', () => {
      write(db, 1);
      return size(`${path}-wal`) <= 64 * 1024 + 4 * (4096 + 24);
    });
  });

  it('stops its worker when the database closes', async () => {
    const { db } = fresh();
    const worker = attachWalCheckpointer(db, { everyMs: 20, capPages: 16_384, keepBytes: 0 }) as Worker;
    // Running, not only starting: the stop reaches a worker that is checkpointing.
    await once(worker, 'online');
    const exit = exited(worker);
    db.close();
    await expect(exit).resolves.toBe(0);
  });

  it('falls back to SQLite checkpointing on the writer, and says so, when the worker cannot run', async () => {
    const { db, path } = fresh();
    const problems: string[] = [];
    const worker = attachWalCheckpointer(db, { everyMs: 20, capPages: 16_384, keepBytes: 0 }, (m) => problems.push(m)) as Worker;
    // The worker opens the file by name when it starts; the writer keeps its open file.
    unlinkSync(path);
    await exited(worker);
    await until('the problem is reported', () => problems.length > 0);
    expect(problems[0]).toMatch(/checkpoint worker stopped .*default/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    write(db, 10);
  });

  it('leaves a database that is not in WAL mode alone', () => {
    const db = new Database(':memory:');
    opened.push(db);
    expect(attachWalCheckpointer(db as unknown as CheckpointedDatabase)).toBeUndefined();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
  });
});

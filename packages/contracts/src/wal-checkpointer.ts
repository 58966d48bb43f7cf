import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the event loop.
 *
 * In WAL mode a commit appends pages to the `-wal` file. A checkpoint copies them back into the
 * database and syncs both files; by default SQLite runs one inside the commit that takes the WAL
 * past 1,000 pages, on the connection that wrote. That connection is the app's only one, on the
 * event loop: a keyed send dirties about 3 pages, so under load every few hundred requests one of
 * them waited for a checkpoint (two fsyncs and megabytes of writes). Measured on 60,000 outbox
 * accepts in batches of 8 on this project's 2-core machine: 58-66 us of event-loop time per accept
 * with SQLite's default, 45-47 us with the threshold raised to 20,000 pages (rarer but longer
 * stalls), 39-40 us with this checkpointer, 32-33 us with no checkpoint at all.
 *
 * Here a worker thread with a connection of its own runs a PASSIVE checkpoint every
 * `everyMs`: it copies what was committed and never blocks the writer. The writing connection
 * keeps a checkpoint of its own only past `capPages`, as a bound on the WAL when the worker
 * falls behind: WAL frames are reused from the start only when a write begins with every frame
 * copied, which a busy writer seldom gives a worker the time for. Then the writer's checkpoint
 * has only the frames since the worker's last pass to copy, and the next write starts the WAL
 * over. Durability is unchanged: a commit is in the WAL before it is answered, as before.
 */
export interface WalCheckpointerOptions {
  /** How often the worker checkpoints. */
  everyMs: number;
  /** WAL pages past which the writing connection checkpoints itself. */
  capPages: number;
  /** WAL bytes kept on disk once the WAL starts over (`journal_size_limit`). */
  keepBytes: number;
}

export const WAL_CHECKPOINTER_DEFAULTS: WalCheckpointerOptions = { everyMs: 100, capPages: 16_384, keepBytes: 16 * 1024 * 1024 };

/** SQLite's own threshold, restored on the writer if the worker stops. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** The part of a better-sqlite3 `Database` this uses. */
export interface CheckpointedDatabase {
  readonly name: string;
  readonly open: boolean;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    clearInterval(timer);
    parentPort.postMessage({ failed: err && err.message ? String(err.message) : String(err) });
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Where better-sqlite3 is, for the worker (an eval'd worker resolves from the working directory). */
function driverPath(): string {
  return createRequire(__filename).resolve('better-sqlite3');
}

/**
 * Starts the checkpoint worker of a file database that is in WAL mode; stops it when the
 * database closes. If the worker cannot run or fails, the writer checkpoints as SQLite does by
 * default. `onProblem` hears why (never with data: a path and an error message).
 */
export function attachWalCheckpointer(db: CheckpointedDatabase, options: WalCheckpointerOptions = WAL_CHECKPOINTER_DEFAULTS, onProblem?: (message: string) => void): Worker | undefined {
  if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') return undefined;
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver: driverPath(), path: db.name, everyMs: options.everyMs } });
  } catch (err) {
    onProblem?.(`the WAL checkpoint worker did not start: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  worker.unref();
  db.pragma(`wal_autocheckpoint = ${options.capPages}`);
  db.pragma(`journal_size_limit = ${options.keepBytes}`);
  let stopping = false;
  const fallBack = (why: string): void => {
    if (stopping) return;
    stopping = true;
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    onProblem?.(`the WAL checkpoint worker stopped (${why}); the writer checkpoints as SQLite does by default`);
    void worker.terminate();
  };
  worker.on('message', (m: { failed?: string }) => fallBack(m.failed ?? 'unknown'));
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', (code) => fallBack(`exit code ${code}`));
  const close = db.close.bind(db);
  db.close = () => {
    if (!stopping) {
      stopping = true;
      worker.postMessage('stop');
    }
    return close();
  };
  return worker;
}

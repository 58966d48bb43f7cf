import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { processAlive } from '@wa/domain';
import { RunnerConfig } from './runner.config';

type Env = Record<string, string | undefined>;

const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** Where the embedded runner keeps its identity: next to its SQLite file, so one database means one runner name. */
export function runnerIdFile(config: RunnerConfig): string | undefined {
  if (config.database.kind !== 'sqlite' || config.database.path === ':memory:') return undefined;
  return `${config.database.path}.runner-id`;
}

function readId(file: string): string | undefined {
  try {
    const id = readFileSync(file, 'utf8').trim();
    return ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock file for this process; false when a live process other than us holds it. */
function lock(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    const holder = Number.parseInt(readId(file) ?? '', 10);
    if (Number.isSafeInteger(holder) && holder !== process.pid && processAlive(holder)) return false;
    // A previous life's lock: ours to remove. Two runners removing it at once are told apart by
    // the exclusive create above (one of them fails and takes a fresh id).
    try {
      unlinkSync(file);
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * The embedded runner (SQLite, one machine) keeps its RUNNER_ID across restarts when none is
 * configured, so a restart renews its own leases at once instead of waiting them out. It takes
 * the previous id only when it holds the lock file (`<db>.runner-id.lock`, with its pid): a second
 * runner started on the same file while the first lives gets a fresh id, so two live processes
 * never share a name (leases compare names). A lock with our own pid is a previous life in a
 * container where the runner always has the same pid. Anything unreadable or unwritable leaves
 * the fresh id: a slower failover, never a failed start. PostgreSQL deployments name runners
 * with RUNNER_ID.
 */
export function withPersistentRunnerId(config: RunnerConfig, env: Env): RunnerConfig {
  const file = runnerIdFile(config);
  if (file === undefined || (env.RUNNER_ID ?? '').trim() !== '') return config;
  const lockFile = `${file}.lock`;
  if (!lock(lockFile)) return config;
  process.once('exit', () => {
    try {
      if (readId(lockFile) === String(process.pid)) unlinkSync(lockFile);
    } catch {
      // already gone
    }
  });
  const runnerId = readId(file) ?? config.runnerId;
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${runnerId}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    return config;
  }
  return new RunnerConfig({ ...config, runnerId });
}

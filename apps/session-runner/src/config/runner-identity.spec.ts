import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPersistentRunnerId } from './runner-identity';
import { loadRunnerConfig } from './runner.config';

/** The embedded runner's name across restarts: kept when the previous holder is gone, never shared by two live processes. */
describe('persistent runner id (SQLite)', () => {
  let dir: string;
  let db: string;
  const children: ChildProcess[] = [];
  const env = () => ({ DATABASE_URL: `sqlite:${db}` });
  const load = (extra: Record<string, string> = {}) => withPersistentRunnerId(loadRunnerConfig({ ...env(), ...extra }), { ...env(), ...extra });
  /** A live process that is not us, to hold the lock. */
  const otherLiveProcess = async (): Promise<number> => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    return child.pid as number;
  };
  const deadPid = async (): Promise<number> => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('exit', resolve));
    return child.pid as number;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runner-id-'));
    db = join(dir, 'session-runner.db');
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('persists the first id and takes it again after the holder is gone', async () => {
    const first = load().runnerId;
    expect(readFileSync(`${db}.runner-id`, 'utf8').trim()).toBe(first);
    expect(readFileSync(`${db}.runner-id.lock`, 'utf8')).toBe(String(process.pid));
    // A lock left by a process that died (kill -9 leaves it behind).
    writeFileSync(`${db}.runner-id.lock`, String(await deadPid()));
    expect(load().runnerId).toBe(first);
    // A lock with our own pid is a previous life (containers restart the runner as the same pid).
    expect(load().runnerId).toBe(first);
  });

  it('gives a fresh id while another live process holds the lock, and leaves its files alone', async () => {
    const first = load().runnerId;
    const holder = await otherLiveProcess();
    writeFileSync(`${db}.runner-id.lock`, String(holder));
    const second = load().runnerId;
    expect(second).not.toBe(first);
    expect(readFileSync(`${db}.runner-id`, 'utf8').trim()).toBe(first);
    expect(readFileSync(`${db}.runner-id.lock`, 'utf8')).toBe(String(holder));
  });

  it('ignores a tampered id file', () => {
    writeFileSync(`${db}.runner-id`, 'two words\n');
    const id = load().runnerId;
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(readFileSync(`${db}.runner-id`, 'utf8').trim()).toBe(id);
  });

  it('leaves a configured RUNNER_ID, PostgreSQL and :memory: untouched', () => {
    expect(load({ RUNNER_ID: 'named' }).runnerId).toBe('named');
    expect(existsSync(`${db}.runner-id`)).toBe(false);
    const memory = loadRunnerConfig({ DATABASE_URL: 'sqlite::memory:' });
    expect(withPersistentRunnerId(memory, { DATABASE_URL: 'sqlite::memory:' })).toBe(memory);
    const pg = loadRunnerConfig({ DATABASE_URL: 'postgres://u@127.0.0.1/x' });
    expect(withPersistentRunnerId(pg, { DATABASE_URL: 'postgres://u@127.0.0.1/x' })).toBe(pg);
  });

  it('starts with a fresh id when it cannot write beside the database', () => {
    // A "directory" that is a file: even root cannot create files under it.
    writeFileSync(join(dir, 'not-a-dir'), '');
    const target = { DATABASE_URL: `sqlite:${join(dir, 'not-a-dir', 'runner.db')}` };
    const config = loadRunnerConfig(target);
    expect(withPersistentRunnerId(config, target)).toBe(config);
  });
});

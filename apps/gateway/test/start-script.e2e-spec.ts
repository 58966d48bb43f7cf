import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './harness';

const START = join(__dirname, '../../../scripts/start.mjs');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  waitFor: (pattern: RegExp, what: string) => Promise<void>;
}

function run(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [START], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const append = (d: Buffer): void => {
    out += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`timed out waiting for ${what}; output so far:\n${out}`)), 60_000);
      const check = (): void => {
        if (pattern.test(out)) done();
      };
      const done = (err?: Error): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      waiters.add(check);
      void exited.then(() => (pattern.test(out) ? done() : done(new Error(`start.mjs exited before ${what}:\n${out}`))));
      check();
    });
  return { child, output: () => out, exited, waitFor };
}

/** `pnpm start` as a new user runs it (the built apps), on free ports and a temporary data dir. */
describe('scripts/start.mjs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wa-start-'));
  const running: Run[] = [];

  const environment = async (): Promise<Record<string, string>> => {
    const sub = mkdtempSync(join(dir, 'run-'));
    return {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      RUNNER_URL: `tcp://127.0.0.1:${await freePort()}`,
      GATEWAY_EVENTS_URL: `tcp://127.0.0.1:${await freePort()}`,
      GATEWAY_DATABASE_URL: `sqlite:${join(sub, 'gateway.db')}`,
      RUNNER_DATABASE_URL: `sqlite:${join(sub, 'session-runner.db')}`,
    };
  };

  afterAll(async () => {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await Promise.all(running.map((r) => r.exited));
    rmSync(dir, { recursive: true, force: true });
  });

  it('says ready only when /health/ready answers 200, and shows a first API key once that works', async () => {
    const env = await environment();
    const r = run(env);
    running.push(r);
    await r.waitFor(/Ctrl-C stops everything/, 'the closing line');
    const ready = await fetch(`http://127.0.0.1:${env.PORT}/health/ready`);
    expect(ready.status).toBe(200);
    expect(r.output()).toContain(`Gateway ready on http://localhost:${env.PORT}`);
    const key = /^ {2}(wag_\S+)$/m.exec(r.output())?.[1];
    expect(key).toBeDefined();
    const sessions = await fetch(`http://127.0.0.1:${env.PORT}/api/v1/sessions`, { headers: { authorization: `Bearer ${key}` } });
    expect(sessions.status).toBe(200);
    r.child.kill('SIGTERM');
    await r.exited;

    // Second start on the same database: no new key, a hint how to make one instead.
    const again = run(env);
    running.push(again);
    await again.waitFor(/Ctrl-C stops everything/, 'the closing line of the second start');
    expect(again.output()).not.toMatch(/wag_/);
    expect(again.output()).toContain('api-key create');
    again.child.kill('SIGTERM');
    await again.exited;
  });

  it('names the app and the port when a port is taken, and exits non-zero', async () => {
    const env = await environment();
    const runnerPort = Number(new URL(env.RUNNER_URL).port);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(runnerPort, '127.0.0.1', resolve));
    try {
      const r = run(env);
      running.push(r);
      await expect(r.exited).resolves.not.toBe(0);
      expect(r.output().trim()).toBe(`session-runner: port ${runnerPort} on 127.0.0.1 is already in use; stop what holds it or choose another with RUNNER_URL`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

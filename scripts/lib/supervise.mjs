// Runs the apps as child processes: if one dies the others are stopped too, and Ctrl-C or
// SIGTERM stops them all (each gets SHUTDOWN_GRACE before the script exits anyway).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

// Longer than the gateway's own grace (SHUTDOWN_GRACE_MS, by default the sync-send wait + 5 s),
// so that a sync send in flight is answered before the apps are killed.
const SHUTDOWN_GRACE_MS = Number(process.env.SHUTDOWN_GRACE_MS ?? 20_000) + 5_000;
const READY_POLL_MS = 250;

/**
 * Listens on each port for a moment: a port another process holds is named with the app and the
 * variable that moves it, before any app starts and dies with a stack trace about EADDRINUSE.
 * @param {{app: string, host: string, port: number, variable: string}[]} ports
 * @returns {Promise<string | undefined>} the line to print when one is taken
 */
export async function takenPort(ports) {
  for (const p of ports) {
    const problem = await new Promise((resolve) => {
      const srv = createServer();
      srv.once('error', (err) => resolve(err.code === 'EADDRINUSE' ? 'is already in use' : `cannot be used (${err.code ?? err.message})`));
      srv.listen(p.port, p.host, () => srv.close(() => resolve(undefined)));
    });
    if (problem) return `${p.app}: port ${p.port} on ${p.host} ${problem}; stop what holds it or choose another with ${p.variable}`;
  }
  return undefined;
}

/**
 * @param {{name: string, main: string, env: Record<string, string | undefined>}[]} apps started in order
 * @param {{cwd: string, onStopped?: () => Promise<void>}} options
 * @returns {{exited: Promise<string>, stop: (code: number) => void}} `exited` settles with a description when an app ends on its own
 */
export function supervise(apps, { cwd, onStopped = async () => undefined }) {
  const children = [];
  let stopping = false;
  let reportExit;
  const exited = new Promise((resolve) => (reportExit = resolve));

  const stopAll = (code) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    setTimeout(() => process.exit(code), SHUTDOWN_GRACE_MS).unref();
    Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)))
      .then(onStopped)
      .then(() => process.exit(code));
  };

  for (const app of apps) {
    const child = spawn(process.execPath, [app.main], { cwd, env: app.env, stdio: 'inherit' });
    child.once('exit', (code, signal) => {
      if (stopping) return;
      const what = `${app.name} exited (${signal ?? code})`;
      reportExit(what);
      process.stderr.write(`${what}; stopping the others\n`);
      stopAll(code || 1);
    });
    children.push(child);
  }
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(0));
  return { exited, stop: stopAll };
}

/**
 * Resolves once the gateway's readiness (database and a runner answering) is 200; rejects when
 * `exited` settles first (an app died) or after `timeoutMs`.
 * @param {string} baseUrl
 * @param {{exited: Promise<string>, timeoutMs?: number}} options
 */
export async function waitUntilReady(baseUrl, { exited, timeoutMs = 120_000 }) {
  let died;
  void exited.then((what) => (died = what));
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (died) throw new Error(`not ready: ${died}`);
    try {
      const res = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) throw new Error(`the gateway was not ready after ${Math.round(timeoutMs / 1000)} s (last answer: ${last})`);
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
}

/** The port of a `tcp://host:port` transport URL. */
export function tcpTarget(url) {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

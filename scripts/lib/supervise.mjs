// Runs the apps as child processes: if one dies the others are stopped too, and Ctrl-C or
// SIGTERM stops them all (each gets SHUTDOWN_GRACE before the script exits anyway).
import { spawn } from 'node:child_process';

// Longer than the gateway's own grace (SHUTDOWN_GRACE_MS, by default the sync-send wait + 5 s),
// so that a sync send in flight is answered before the apps are killed.
const SHUTDOWN_GRACE_MS = Number(process.env.SHUTDOWN_GRACE_MS ?? 20_000) + 5_000;

/**
 * @param {{name: string, main: string, env: Record<string, string | undefined>}[]} apps started in order
 * @param {{cwd: string, headStartMs?: number, onStopped?: () => Promise<void>}} options
 */
export async function supervise(apps, { cwd, headStartMs = 1500, onStopped = async () => undefined }) {
  const children = [];
  let stopping = false;

  const stopAll = (code) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    setTimeout(() => process.exit(code), SHUTDOWN_GRACE_MS).unref();
    Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)))
      .then(onStopped)
      .then(() => process.exit(code));
  };

  for (const [i, app] of apps.entries()) {
    const child = spawn(process.execPath, [app.main], { cwd, env: app.env, stdio: 'inherit' });
    child.once('exit', (code, signal) => {
      if (stopping) return;
      process.stderr.write(`${app.name} exited (${signal ?? code}); stopping the others\n`);
      stopAll(code || 1);
    });
    children.push(child);
    // The gateway's readiness asks the runner: give each app a head start on the next one.
    if (i < apps.length - 1) await new Promise((r) => setTimeout(r, headStartMs));
  }
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(0));
}

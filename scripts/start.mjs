// Starts one session runner and one gateway on this machine (SQLite files under ./data and the
// built-in TCP transport unless the environment says otherwise), stops both on Ctrl-C, and
// stops the survivor if either dies.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
env.RUNNER_URL ??= 'tcp://127.0.0.1:4010';
env.PORT ??= '3000';

const apps = [
  { name: 'session-runner', main: 'apps/session-runner/dist/main.js', env: { DATABASE_URL: env.RUNNER_DATABASE_URL ?? env.DATABASE_URL ?? 'sqlite:./data/session-runner.db' } },
  { name: 'gateway', main: 'apps/gateway/dist/main.js', env: { DATABASE_URL: env.GATEWAY_DATABASE_URL ?? env.DATABASE_URL ?? 'sqlite:./data/gateway.db' } },
];

const children = [];
let stopping = false;

function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 12_000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null))).then(() => process.exit(code));
}

for (const app of apps) {
  const child = spawn(process.execPath, [join(root, app.main)], { cwd: root, env: { ...env, ...app.env }, stdio: 'inherit' });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${app.name} exited (${signal ?? code}); stopping the others\n`);
      stopAll(code || 1);
    }
  });
  children.push(child);
  // The gateway's readiness asks the runner; give the runner a head start.
  if (app.name === 'session-runner') await new Promise((r) => setTimeout(r, 1500));
}

process.stderr.write(`\nGateway on http://localhost:${env.PORT}  (API docs: http://localhost:${env.PORT}/docs)\n\n`);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(0));

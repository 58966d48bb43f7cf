// Starts one session runner and one gateway on this machine (SQLite files under ./data and the
// built-in TCP transport unless the environment says otherwise).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { supervise } from './lib/supervise.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
env.RUNNER_URL ??= 'tcp://127.0.0.1:4010';
env.PORT ??= '3000';

await supervise(
  [
    {
      name: 'session-runner',
      main: join(root, 'apps/session-runner/dist/main.js'),
      env: { ...env, DATABASE_URL: env.RUNNER_DATABASE_URL ?? env.DATABASE_URL ?? 'sqlite:./data/session-runner.db' },
    },
    {
      name: 'gateway',
      main: join(root, 'apps/gateway/dist/main.js'),
      env: { ...env, DATABASE_URL: env.GATEWAY_DATABASE_URL ?? env.DATABASE_URL ?? 'sqlite:./data/gateway.db' },
    },
  ],
  { cwd: root },
);
process.stderr.write(`\nGateway on http://localhost:${env.PORT}  (API docs: http://localhost:${env.PORT}/docs)\n\n`);

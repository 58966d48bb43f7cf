// Starts one session runner and one gateway on this machine (SQLite files under ./data and the
// built-in TCP transport unless the environment says otherwise), and says "ready" only once the
// gateway's readiness check (database and runner) answers 200.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, isAbsolute, join } from 'node:path';
import { supervise, takenPort, tcpTarget, waitUntilReady } from './lib/supervise.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
env.RUNNER_URL ??= 'tcp://127.0.0.1:4010';
env.GATEWAY_EVENTS_URL ??= 'tcp://127.0.0.1:4011';
env.PORT ??= '3000';
const gatewayDatabase = env.GATEWAY_DATABASE_URL ?? env.DATABASE_URL ?? 'sqlite:./data/gateway.db';
const gatewayEnv = { ...env, DATABASE_URL: gatewayDatabase };
const say = (line) => process.stdout.write(`${line}\n`);

const ports = [{ app: 'gateway', host: env.HOST ?? '0.0.0.0', port: Number(env.PORT), variable: 'PORT' }];
if ((env.TRANSPORT ?? 'tcp') === 'tcp') {
  ports.push({ app: 'session-runner', ...tcpTarget(env.RUNNER_URL), variable: 'RUNNER_URL' });
  ports.push({ app: 'gateway', ...tcpTarget(env.GATEWAY_EVENTS_URL), variable: 'GATEWAY_EVENTS_URL' });
}
const taken = await takenPort(ports);
if (taken) {
  process.stderr.write(`${taken}\n`);
  process.exit(1);
}

// A new installation has no key to call the API with. When nobody named a bootstrap org and the
// gateway's SQLite file does not exist yet, one key for the org "default" is made now and shown
// on this terminal once (never logged); otherwise the closing lines say how to make one.
let firstKey;
const sqlitePath = gatewayDatabase.startsWith('sqlite:') ? gatewayDatabase.slice('sqlite:'.length) : undefined;
const newDatabase = sqlitePath !== undefined && sqlitePath !== ':memory:' && !existsSync(isAbsolute(sqlitePath) ? sqlitePath : join(root, sqlitePath));
if (!env.BOOTSTRAP_ORG && newDatabase) {
  mkdirSync(dirname(isAbsolute(sqlitePath) ? sqlitePath : join(root, sqlitePath)), { recursive: true });
  say('New installation: creating an API key for the org "default"...');
  const cli = spawnSync(
    process.execPath,
    [join(root, 'apps/gateway/dist/cli.js'), 'api-key', 'create', '--org', 'default', '--capabilities', 'send,manage', '--name', 'bootstrap'],
    { cwd: root, env: { ...gatewayEnv, LOG_LEVEL: 'warn' }, encoding: 'utf8' },
  );
  firstKey = /wag_[A-Za-z0-9_-]+/.exec(cli.stdout ?? '')?.[0];
  if (cli.status !== 0 || !firstKey) {
    process.stderr.write(`could not create the first API key:\n${cli.stdout}${cli.stderr}\n`);
    process.exit(1);
  }
}

say(`Starting the session runner (${env.TRANSPORT === 'nats' ? 'NATS' : env.RUNNER_URL}) and the gateway (port ${env.PORT}); waiting until both are ready...`);
const { exited, stop } = supervise(
  [
    {
      name: 'session-runner',
      main: join(root, 'apps/session-runner/dist/main.js'),
      env: { ...env, DATABASE_URL: env.RUNNER_DATABASE_URL ?? env.DATABASE_URL ?? 'sqlite:./data/session-runner.db' },
    },
    { name: 'gateway', main: join(root, 'apps/gateway/dist/main.js'), env: gatewayEnv },
  ],
  { cwd: root },
);
const local = `http://localhost:${env.PORT}`;
try {
  await waitUntilReady(`http://127.0.0.1:${env.PORT}`, { exited, timeoutMs: Number(env.START_READY_TIMEOUT_MS ?? 120_000) });
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  stop(1);
  await new Promise(() => undefined);
}

say(`\nGateway ready on ${local}  (API docs: ${local}/docs)`);
if (firstKey) {
  say(`\nYour first API key (org "default", capabilities send,manage). It is shown only this once: store it now.\n\n  ${firstKey}\n`);
  say(`  curl -s ${local}/api/v1/sessions -H "authorization: Bearer ${firstKey}"`);
} else if (!env.BOOTSTRAP_ORG) {
  say('\nNeed an API key? In another terminal: pnpm gateway api-key create --org <your-org> --capabilities send,manage');
}
say('\nCtrl-C stops everything.\n');

// Try the whole product offline: the WhatsApp sandbox, one session runner that trusts it and
// one gateway, with an API key for the org "demo" and two virtual phones. Prints a walkthrough
// of curl commands. State lives under ./data/sandbox and is wiped at every start, because the
// sandbox forgets its phones when it stops.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supervise, takenPort, tcpTarget, waitUntilReady } from './lib/supervise.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { WaSandbox } = require(join(root, 'packages/wa-sandbox/dist/index.js'));

const port = Number(process.env.PORT ?? 3000);
const sandboxPort = Number(process.env.SANDBOX_PORT ?? 7780);
const dataDir = join(root, 'data/sandbox');
const ACCOUNT = '15550000001';
const CONTACT = '15550000002';

const runnerUrl = process.env.RUNNER_URL ?? 'tcp://127.0.0.1:4010';
const eventsUrl = process.env.GATEWAY_EVENTS_URL ?? 'tcp://127.0.0.1:4011';
const taken = await takenPort([
  { app: 'sandbox', host: '127.0.0.1', port: sandboxPort, variable: 'SANDBOX_PORT' },
  { app: 'gateway', host: process.env.HOST ?? '0.0.0.0', port, variable: 'PORT' },
  { app: 'session-runner', ...tcpTarget(runnerUrl), variable: 'RUNNER_URL' },
  { app: 'gateway', ...tcpTarget(eventsUrl), variable: 'GATEWAY_EVENTS_URL' },
]);
if (taken) {
  process.stderr.write(`${taken}\n`);
  process.exit(1);
}

rmSync(dataDir, { recursive: true, force: true });
mkdirSync(dataDir, { recursive: true });

const sandbox = await (await WaSandbox.create()).start({ port: sandboxPort });
await sandbox.createPhone(ACCOUNT, 'Demo account');
await sandbox.createPhone(CONTACT, 'Bob');

const env = {
  ...process.env,
  TRANSPORT: 'tcp',
  RUNNER_URL: runnerUrl,
  GATEWAY_EVENTS_URL: eventsUrl,
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
};
const runnerEnv = { ...env, DATABASE_URL: `sqlite:${join(dataDir, 'session-runner.db')}`, WA_WS_URL: sandbox.wsUrl,
  WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey,
  NODE_EXTRA_CA_CERTS: sandbox.mediaCaFile,
  WA_MEDIA_BASE_URL: sandbox.mediaBaseUrl,
};
const gatewayEnv = { ...env, PORT: String(port), DATABASE_URL: `sqlite:${join(dataDir, 'gateway.db')}`, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };

const cli = spawnSync(
  process.execPath,
  [join(root, 'apps/gateway/dist/cli.js'), 'api-key', 'create', '--org', 'demo', '--capabilities', 'send,manage', '--name', 'sandbox'],
  { env: gatewayEnv, encoding: 'utf8' },
);
const key = /wag_[A-Za-z0-9_-]+/.exec(cli.stdout ?? '')?.[0];
if (cli.status !== 0 || !key) {
  process.stderr.write(`could not create the demo API key:\n${cli.stdout}${cli.stderr}\n`);
  process.exit(1);
}

process.stdout.write(`Starting the session runner and the gateway (port ${port}); waiting until both are ready...\n`);
const { exited, stop } = supervise(
  [
    { name: 'session-runner', main: join(root, 'apps/session-runner/dist/main.js'), env: runnerEnv },
    { name: 'gateway', main: join(root, 'apps/gateway/dist/main.js'), env: gatewayEnv },
  ],
  { cwd: root, onStopped: () => sandbox.stop() },
);
try {
  await waitUntilReady(`http://127.0.0.1:${port}`, { exited });
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  stop(1);
  await new Promise(() => undefined);
}

const api = `http://localhost:${port}/api/v1`;
const control = sandbox.controlUrl;
process.stdout.write(`
WhatsApp gateway sandbox is up.
  gateway API   ${api}   (docs: http://localhost:${port}/docs)
  sandbox       ${control}  (virtual phones ${ACCOUNT} "Demo account" and ${CONTACT} "Bob")

Try it (copy line by line):

  export KEY=${key}
  H="authorization: Bearer $KEY"
  SID=$(curl -s -X POST ${api}/sessions -H "$H" -H 'content-type: application/json' -d '{"name":"demo"}' | sed 's/.*"id":"\\([^"]*\\)".*/\\1/')
  curl -s -X POST ${api}/sessions/$SID/start -H "$H"
  curl -s "${api}/sessions/$SID/qr?waitMs=30000" -H "$H" -o qr.png   # waits for the QR code, as a picture
  QR=$(curl -s "${api}/sessions/$SID/qr?waitMs=30000" -H "$H" -H 'accept: application/json' | sed 's/.*"qr":"\\([^"]*\\)".*/\\1/')
  curl -s -X POST ${control}/phones/${ACCOUNT}/scan -H 'content-type: application/json' -d "{\\"qr\\":\\"$QR\\"}"   # the phone scans it
  curl -s ${api}/sessions/$SID -H "$H"                          # status: connected
  curl -s -X POST ${api}/sessions/$SID/messages -H "$H" -H 'content-type: application/json' \\
       -d '{"chat":"${CONTACT}@s.whatsapp.net","type":"text","text":"Hello Bob"}'
  curl -s ${control}/phones/${CONTACT}/messages                   # what Bob received
  curl -s -N ${api}/events -H "$H" &                            # watch events as they happen (stop: kill %1)
  curl -s -X POST ${control}/phones/${CONTACT}/messages -H 'content-type: application/json' \\
       -d '{"to":"${ACCOUNT}@s.whatsapp.net","message":{"type":"text","text":"Hi back"}}'   # Bob replies: a message.received event

Ctrl-C stops everything.
`);

// The cost of accepting a message, measured in one run against a baseline on the same app:
//   node bench/send.mjs [--connections 50] [--duration 10] [--postgres] [--sync-count 200] [--warm-up 1000] [--profile DIR] [--only async|sync]
// 1. async-mode send (API key, rate limits on, compiled validation, durable insert), without and
//    with a fresh Idempotency-Key per request, vs a POST echo route that parses the same body (no
//    auth, no validation, no database); SQLite by default, PostgreSQL with --postgres
//    (POSTGRES_URL, default postgres://root@127.0.0.1:5432/test).
// 2. sync-mode latency through the real runner and the WhatsApp sandbox (sequential sends from a
//    client process of their own), next to a bare Baileys socket in a process of its own timing
//    sendMessage until the server ack (what a sync send waits for from its socket), against the
//    same sandbox: the difference of the p50s is what the gateway and the runner add. Both are
//    timed after --warm-up sends of their own: V8 optimises a function only once it has run often
//    enough, and a runner fresh from its start spends about a third more CPU per send until then
//    (its TurboFan compiles go on for the first several hundred sends). The first --sync-count
//    sends after the first ten are printed too, as what a freshly started stack gives.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, printTable, startServer } from './lib/measure.mjs';
import { cpuSeconds } from './lib/processes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback;
};
const connections = option('connections', 50);
const duration = option('duration', 10);
const syncCount = option('sync-count', 200);
const warmUp = Math.max(10, option('warm-up', 1000));
const postgres = flag('postgres');
// --only async | --only sync: one phase alone (the throughput, or the sync latency).
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'async' && only !== 'sync') throw new Error('--only takes async or sync');
// CPU profiles of the throughput phase's gateway and of the sync phase's gateway and runner, written when they stop.
const profileDir = argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] : undefined;
const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
const tmp = mkdtempSync(join(tmpdir(), 'wa-bench-send-'));
const schema = `bench_send_${process.pid}`;

function databaseUrl(app) {
  if (!postgres) return `sqlite:${join(tmp, `${app}.db`)}`;
  const url = new URL(process.env.POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test');
  url.searchParams.set('schema', `${schema}_${app}`);
  return url.toString();
}

const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const body = JSON.stringify({ chat: '491701234567@s.whatsapp.net', type: 'text', text: 'Hello from the benchmark, how are you today?' });
const infoFile = join(tmp, 'info.json');

// --- 1. throughput: async send vs echo on the same app ---
if (only !== 'sync') await throughput();
async function throughput() {
const server = await startServer(join(here, 'lib/send-server.mjs'), { DATABASE_URL: databaseUrl('gateway'), BENCH_INFO_FILE: infoFile }, profileArgs);
const rows = [];
try {
  const { token, sessionId } = JSON.parse(readFileSync(infoFile, 'utf8'));
  const base = `http://127.0.0.1:${server.port}/api/v1`;
  const echo = { url: `${base}/bench/echo`, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections, title: 'POST echo (same app, same body)' };
  const send = {
    url: `${base}/sessions/${sessionId}/messages`,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, prefer: 'respond-async' },
    connections,
    title: `async send + API key + insert (${postgres ? 'PostgreSQL' : 'SQLite'})`,
  };
  // What clients that retry safely send: a fresh Idempotency-Key on every request.
  let keys = 0;
  const keyed = {
    ...send,
    title: `async send + API key + Idempotency-Key (${postgres ? 'PostgreSQL' : 'SQLite'})`,
    setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${++keys}` } }),
  };
  for (const spec of [echo, send, keyed]) await load({ ...spec, duration: 2, title: `${spec.title} (warm-up)` });
  rows.push(await load({ ...echo, duration, pid: server.pid }));
  rows.push(await load({ ...send, duration, pid: server.pid }));
  rows.push(await load({ ...keyed, duration, pid: server.pid }));
} finally {
  await server.stop();
}
printTable(rows, rows[0]);
const target = postgres ? 0.4 : 0.6;
for (const row of rows.slice(1)) {
  const ratio = row.rps / rows[0].rps;
  console.log(
    `${row.title}: ${(ratio * 100).toFixed(1)}% of the echo (target >= ${target * 100}%: ${ratio >= target ? 'met' : 'NOT met'}), ` +
      `p99 ${row.p99} ms (target <= 25 ms on a quiet machine: ${row.p99 <= 25 ? 'met' : 'NOT met'}), ${row.non2xx} errors`,
  );
}
}
if (only === 'async') await finish();

// --- 2. sync-mode latency through runner and sandbox ---
const require = createRequire(import.meta.url);
const { WaSandbox, keepConsoleTextOnly } = require(join(root, 'packages/wa-sandbox/dist/index.js'));
// The sandbox's virtual phones run here: only the text of console lines is kept, so that no
// library's object (a key among it) reaches the output (the bench's own lines are text).
keepConsoleTextOnly((line) => process.stdout.write(line));
const sandbox = await (await WaSandbox.create()).start();
await sandbox.createPhone('15550009001', 'Bench account');
const contact = await sandbox.createPhone('15550009002', 'Bench contact');
const transport = { TRANSPORT: 'tcp', RUNNER_URL: `tcp://127.0.0.1:${await freePort()}`, GATEWAY_EVENTS_URL: `tcp://127.0.0.1:${await freePort()}` };
const runner = spawn(process.execPath, [...profileArgs, join(root, 'apps/session-runner/dist/main.js')], {
  env: { ...process.env, ...transport, DATABASE_URL: databaseUrl('runner'), LOG_LEVEL: 'warn', WA_WS_URL: sandbox.wsUrl, WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve) => {
  let out = '';
  runner.stdout.on('data', (d) => {
    out += d;
    if (out.includes('successfully started') || out.length > 0) resolve();
  });
  setTimeout(resolve, 5000);
});
const syncLatencies = [];
const syncEarly = [];
let syncCpuMs;
let syncIdleCpuPercent;
/** The baseline: a bare socket of another sandbox account sends the same text to the same contact. */
async function bareSocketLatencies() {
  const phone = '15550009003';
  await sandbox.createPhone(phone, 'Bench bare socket');
  const child = fork(join(here, 'lib/bare-socket.mjs'), {
    env: { ...process.env, BARE_SOCKET_SANDBOX: JSON.stringify({ wsUrl: sandbox.wsUrl, rootPublicKey: sandbox.rootPublicKey, mediaBaseUrl: sandbox.mediaBaseUrl, mediaCaFile: sandbox.mediaCaFile, phone }) },
  });
  const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the bare socket exited with ${code}`))));
  const next = () => Promise.race([new Promise((resolve) => child.once('message', resolve)), exited]);
  try {
    const { qr } = await next();
    await sandbox.scanQr(phone, qr);
    child.send({ scanned: true });
    await next();
    child.send({ send: syncCount, warmUp, to: contact.jid });
    return await next();
  } finally {
    exited.catch(() => undefined);
    child.kill('SIGTERM');
  }
}
const gateway = await startServer(join(here, 'lib/send-server.mjs'), {
  ...transport,
  DATABASE_URL: databaseUrl('gateway2'),
  BENCH_INFO_FILE: infoFile,
  BENCH_RUNNER: '1',
  SEND_MIN_INTERVAL_MS: '0',
  SEND_JITTER_MS: '0',
}, profileArgs);
try {
  const { token, sessionId } = JSON.parse(readFileSync(infoFile, 'utf8'));
  const base = `http://127.0.0.1:${gateway.port}/api/v1/sessions/${sessionId}`;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const call = (path, init = {}) => fetch(`${base}${path}`, { headers, ...init });
  const until = async (probe) => {
    for (let i = 0; i < 600; i++) {
      const v = await probe().catch(() => undefined);
      if (v) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('timed out');
  };
  await until(async () => (await call('/start', { method: 'POST' })).status === 200);
  const qr = await until(async () => {
    const res = await call('/qr', { headers: { ...headers, accept: 'application/json' } });
    return res.status === 200 ? (await res.json()).qr : undefined;
  });
  await sandbox.scanQr('15550009001', qr);
  await until(async () => (await (await call('')).json()).status === 'connected');
  // What the two processes spend with nothing sent (lease renewals, polls, the new session's
  // own start-up work), subtracted below so the CPU per send is the sends' own.
  const gatewayRunnerCpu = () => cpuSeconds(gateway.pid) + cpuSeconds(runner.pid);
  await new Promise((r) => setTimeout(r, 5_000));
  const idleFrom = [gatewayRunnerCpu(), performance.now()];
  await new Promise((r) => setTimeout(r, 5_000));
  const idlePerMs = (gatewayRunnerCpu() - idleFrom[0]) / (performance.now() - idleFrom[1]);
  // The sends come from a process of their own (sync-client.mjs says why).
  const client = fork(join(here, 'lib/sync-client.mjs'));
  const clientExited = new Promise((_, reject) => client.once('exit', (code) => (code ? reject(new Error(`the sync client exited with ${code}`)) : undefined)));
  const fromClient = () => Promise.race([new Promise((resolve) => client.once('message', resolve)), clientExited]);
  client.send({ url: `${base}/messages`, headers, body: JSON.stringify({ chat: contact.jid, type: 'text', text: 'sync bench' }), count: syncCount, warmUp });
  await fromClient();
  // CPU the gateway and the runner spend per send: what their overhead costs on a quiet machine,
  // while the wall-clock figures on a shared one mostly measure waiting for a core.
  const [cpuBefore, loopStarted] = [gatewayRunnerCpu(), performance.now()];
  const { latencies, early } = await fromClient();
  clientExited.catch(() => undefined);
  const busy = gatewayRunnerCpu() - cpuBefore - idlePerMs * (performance.now() - loopStarted);
  syncCpuMs = (busy / syncCount) * 1000;
  syncIdleCpuPercent = idlePerMs * 1000 * 100;
  syncLatencies.push(...latencies);
  syncEarly.push(...early);
} finally {
  await gateway.stop();
  // Its profile is written as it exits.
  await new Promise((resolve) => (runner.exitCode !== null ? resolve() : (runner.once('exit', resolve), runner.kill('SIGTERM'))));
}
let socketLatencies;
let socketEarly;
try {
  ({ latencies: socketLatencies, early: socketEarly } = await bareSocketLatencies());
} finally {
  await sandbox.stop();
}
const pctOf = (list, p) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const overhead = pctOf(syncLatencies, 50) - pctOf(socketLatencies, 50);
const after = `${syncCount} sequential after ${warmUp} warm-up sends`;
console.log(`\nsync send through gateway + runner + sandbox (${after}, status sent): p50 ${pctOf(syncLatencies, 50).toFixed(1)} ms, p99 ${pctOf(syncLatencies, 99).toFixed(1)} ms`);
console.log(`bare Baileys socket, sendMessage until the server ack (${after}):   p50 ${pctOf(socketLatencies, 50).toFixed(1)} ms, p99 ${pctOf(socketLatencies, 99).toFixed(1)} ms`);
if (syncEarly.length > 0 && socketEarly.length > 0) {
  // What a freshly started stack gives: sends 11 to 10 + --sync-count, before V8 optimised the hot code.
  const early = pctOf(syncEarly, 50) - pctOf(socketEarly, 50);
  console.log(
    `just after start (sends 11-${10 + syncEarly.length}): sync p50 ${pctOf(syncEarly, 50).toFixed(1)} ms, bare socket p50 ${pctOf(socketEarly, 50).toFixed(1)} ms, overhead ${early.toFixed(1)} ms`,
  );
}
console.log(`CPU of gateway + runner per sync send: ${syncCpuMs.toFixed(1)} ms (after the warm-up; beyond the ${syncIdleCpuPercent.toFixed(0)}% of a core they use with nothing sent)`);
console.log(`sync-send overhead of gateway + runner (p50 difference, after the warm-up): ${overhead.toFixed(2)} ms (target <= 5 ms): ${overhead <= 5 ? 'met' : 'NOT met'}`);
await finish();

/** Drops the bench's PostgreSQL schemas and exits. */
async function finish() {
  if (postgres) {
    const pg = createRequire(join(root, 'apps/gateway/package.json'))('pg');
    const client = new pg.Client({ connectionString: process.env.POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test' });
    await client.connect();
    for (const app of ['gateway', 'runner', 'gateway2']) await client.query(`DROP SCHEMA IF EXISTS "${schema}_${app}" CASCADE`);
    await client.end();
  }
  process.exit(0);
}

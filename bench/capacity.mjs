// How many WhatsApp sessions one runner holds, measured against the sandbox in its own process:
//   node bench/capacity.mjs [--sessions 1000] [--concurrency 20] [--reconnect-concurrency 20]
//                           [--idle-seconds 30] [--scaleout] [--keep-logs] [--profile DIR]
// One gateway and one session runner (SQLite files and the TCP transport; --scaleout:
// PostgreSQL at POSTGRES_URL and NATS at NATS_URL). It first measures the runner idle with no
// session (the baseline), pairs N sessions through the REST API (create, start, QR, the virtual
// phone scans it) at most `--concurrency` at a time, measures the runner idle again, then
// restarts it under the same RUNNER_ID and times until the sandbox sees all N devices connected
// again. Figures are the runner's own, read from /proc, and printed next to their targets.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, freePort, openFds, rssBytes, sampleIdle, spawnApp } from './lib/processes.mjs';
import { POSTGRES_URL, createApiKey, tearDownStack, databaseUrls, startSandbox, stopOnSignals, transportEnv, until, wholeOption } from './lib/stack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name, fallback) => wholeOption(argv, name, fallback);
const args = Object.fromEntries(
  Object.entries({ sessions: 1000, concurrency: 20, 'reconnect-concurrency': 20, 'idle-seconds': 30 }).map(([name, fallback]) => [name, option(name, fallback)]),
);
const scaleout = argv.includes('--scaleout');
const keepLogs = argv.includes('--keep-logs');
// CPU profiles of the runner, written when it stops: one of pairing and idling, one of the restart.
const profileDir = argv.includes('--profile') ? argv[argv.indexOf('--profile') + 1] : undefined;
const runnerExecArgv = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
const N = args.sessions;
const idleSeconds = args['idle-seconds'];
const TARGET = { rssPerSessionMb: 2, reconnectS: 60 };
const tmp = mkdtempSync(join(tmpdir(), 'wa-bench-capacity-'));
const runId = randomBytes(4).toString('hex');
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (line) => process.stdout.write(`${line}\n`);
const progress = (line) => process.stderr.write(`  ${line}\n`);

const databaseUrl = databaseUrls({ postgres: scaleout, tmp, schemaPrefix: `bench_capacity_${runId}` });
const transport = await transportEnv({ nats: scaleout, prefix: `bench-capacity-${runId}` });
const sandbox = await startSandbox(root);
const control = sandbox.control;
const connectedDevices = async () => (await control('/devices')).filter((d) => d.connected).length;

const gatewayPort = await freePort();
const metricsPort = await freePort();
const runnerEnv = {
  ...process.env,
  ...transport,
  DATABASE_URL: databaseUrl('runner'),
  // The same id across the restart: a runner that comes back is the same runner and may take
  // its sessions back at once, instead of waiting out leases it held under another name.
  RUNNER_ID: `bench-capacity-${runId}`,
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  WA_WS_URL: sandbox.wsUrl,
  WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey,
  RECONNECT_CONCURRENCY: String(args['reconnect-concurrency']),
  METRICS_PORT: String(metricsPort),
  METRICS_HOST: '127.0.0.1',
};
const gatewayEnv = {
  ...process.env,
  ...transport,
  DATABASE_URL: databaseUrl('gateway'),
  PORT: String(gatewayPort),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  RATE_LIMIT_PER_API_KEY: 'off',
  RATE_LIMIT_PER_ORG: 'off',
};
const key = createApiKey(root, gatewayEnv, 'capacity');

const startRunner = () => spawnApp('session-runner', join(root, 'apps/session-runner/dist/main.js'), runnerEnv, join(tmp, 'runner.log'), runnerExecArgv);
let runner = startRunner();
const gateway = spawnApp('gateway', join(root, 'apps/gateway/dist/main.js'), gatewayEnv, join(tmp, 'gateway.log'));
// Ctrl-C must not leave a runner with a thousand sockets, the gateway and the sandbox behind.
stopOnSignals(() => [runner, gateway, sandbox]);
const api = `http://127.0.0.1:${gatewayPort}/api/v1`;
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
const call = async (method, path, body) => {
  const res = await fetch(`${api}${path}`, { method, headers: body === undefined ? { authorization: headers.authorization, accept: 'application/json' } : headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const route = `${method} ${path.replace(/\/sessions\/[^/?]+/, '/sessions/:id').replace(/\?.*/, '')}`;
    throw Object.assign(new Error(`${method} ${path} answered ${res.status} ${text.slice(0, 300)}`), { code: `${route} ${res.status} ${json?.error?.code ?? ''}`.trim() });
  }
  return json;
};

/** p99 and max event-loop delay since the previous scrape (prom-client resets its histogram on each). */
async function eventLoopLag() {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: value('nodejs_eventloop_lag_p99_seconds'), max: value('nodejs_eventloop_lag_max_seconds') };
}

async function idleFigures(label) {
  progress(`measuring the runner idle (${label}) for ${idleSeconds} s...`);
  await eventLoopLag();
  const idle = await sampleIdle(runner.pid, idleSeconds);
  return { ...idle, lag: await eventLoopLag(), fds: openFds(runner.pid) };
}

/** Create, start, read the QR code, let the sandbox phone scan it, and wait for `connected`. */
async function pairOne(i) {
  const phone = String(15_550_000_000 + i);
  await control('/phones', { phone, name: `Capacity ${i}` });
  const session = await call('POST', '/sessions', { name: `capacity-${i}` });
  await call('POST', `/sessions/${session.id}/start`, {});
  const { qr } = await call('GET', `/sessions/${session.id}/qr?waitMs=30000`);
  await control(`/phones/${phone}/scan`, { qr });
  await until(`session ${i} connected`, async () => (await call('GET', `/sessions/${session.id}`)).status === 'connected', 60_000, 200);
  return session.id;
}

async function pairAll() {
  const failures = new Map();
  let next = 0;
  let paired = 0;
  let lastReport = performance.now();
  // The worst 5-second window: a runner whose loop stalls this long renews its leases late.
  const worstLag = { p99: 0, max: 0 };
  const started = performance.now();
  const worker = async () => {
    while (next < N) {
      const i = next++;
      try {
        await pairOne(i);
        paired++;
      } catch (err) {
        const reason = err.code ?? err.message.replace(/session \d+/, 'session i');
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        const lag = await eventLoopLag().catch(() => ({ p99: NaN, max: NaN }));
        worstLag.p99 = Math.max(worstLag.p99, lag.p99);
        worstLag.max = Math.max(worstLag.max, lag.max);
        progress(
          `${paired} paired, ${[...failures.values()].reduce((a, b) => a + b, 0)} failed, ${Math.round((performance.now() - started) / 1000)} s, ` +
            `runner RSS ${mb(rssBytes(runner.pid) ?? 0)} MB, event-loop lag p99 ${lag.p99.toFixed(0)} ms, max ${lag.max.toFixed(0)} ms`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.concurrency, N) }, worker));
  return { paired, failures, seconds: (performance.now() - started) / 1000, worstLag };
}

/** Every session's status through the API, page by page. */
async function statuses() {
  const counts = {};
  let cursor;
  do {
    const page = await call('GET', `/sessions?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const s of page.data) counts[s.status] = (counts[s.status] ?? 0) + 1;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return counts;
}

const rows = [];
const row = (figure, value, target = '', baseline = '') => rows.push({ figure, value, target, baseline });
let exitCode = 0;
let targetsMet = false;
try {
  await until('the gateway to be ready (database and runner)', async () => (await fetch(`http://127.0.0.1:${gatewayPort}/health/ready`)).status === 200, 120_000);
  // Nest and the database warm up for a while after readiness; the baseline is the settled runner.
  await sleep(5_000);
  const baseline = await idleFigures('no sessions');
  const baselineRss = baseline.rss;

  say(`pairing ${N} sessions, ${args.concurrency} at a time...`);
  const pairing = await pairAll();
  const connectedAfterPairing = await connectedDevices();
  await sleep(5_000);
  const loaded = await idleFigures(`${connectedAfterPairing} sessions`);
  const perSession = connectedAfterPairing ? (loaded.rss - baselineRss) / connectedAfterPairing : NaN;
  const apiStatuses = await statuses();

  // The sessions that must come back: the ones the API reports connected. A device the sandbox
  // still counts although its session failed in the API (a pairing the runner gave up on) is not
  // resumed after a restart, so waiting for the sandbox's own count could never end.
  const expected = apiStatuses.connected ?? 0;
  say(`restarting the runner (same RUNNER_ID, RECONNECT_CONCURRENCY=${args['reconnect-concurrency']}); waiting for ${expected} sessions...`);
  const cpuBeforeStop = cpuSeconds(runner.pid);
  await runner.stop();
  const restarted = performance.now();
  const since = () => (performance.now() - restarted) / 1000;
  runner = startRunner();
  let peakRss = 0;
  let reconnected;
  let ninetyNine;
  let seen = 0;
  let lastReport = performance.now();
  const reconnectDeadline = restarted + Math.max(180_000, N * 180);
  while (performance.now() < reconnectDeadline) {
    if (runner.exit) throw new Error(runner.exit);
    peakRss = Math.max(peakRss, rssBytes(runner.pid) ?? 0);
    seen = await connectedDevices();
    if (ninetyNine === undefined && seen >= Math.ceil(expected * 0.99)) ninetyNine = since();
    if (seen >= expected) {
      reconnected = since();
      break;
    }
    if (performance.now() - lastReport > 5_000) {
      lastReport = performance.now();
      progress(`${seen}/${expected} connected again after ${Math.round(since())} s, runner RSS ${mb(rssBytes(runner.pid) ?? 0)} MB`);
    }
    await sleep(250);
  }
  const reconnectCpu = cpuSeconds(runner.pid);
  // The gateway's view catches up through runner events; wait for it within a bound.
  let after = {};
  const apiConnected = await until(
    'the API to report the sessions connected',
    async () => ((after = await statuses()).connected ?? 0) >= expected,
    60_000,
    1_000,
  ).catch(() => false);
  const apiReconnected = since();

  const failed = [...pairing.failures].map(([reason, count]) => `${count} × ${reason}`).join('; ') || 'none';
  row('sessions paired (devices connected at the sandbox)', `${pairing.paired} (${connectedAfterPairing})`, String(N));
  row('pairing failures', failed, '0');
  row('time to pair all', `${pairing.seconds.toFixed(1)} s (${(pairing.seconds / Math.max(1, pairing.paired)).toFixed(2)} s each, ${args.concurrency} at a time)`);
  row('API statuses after pairing', JSON.stringify(apiStatuses));
  row('event-loop lag while pairing (worst 5 s: p99 / max)', `${pairing.worstLag.p99.toFixed(0)} / ${pairing.worstLag.max.toFixed(0)} ms`);
  row('runner RSS', `${mb(loaded.rss)} MB`, '', `${mb(baselineRss)} MB with 0 sessions`);
  row('runner RSS per connected session', `${mb(perSession)} MB`, `<= ${TARGET.rssPerSessionMb} MB`);
  row(`runner idle CPU over ${idleSeconds} s`, `${loaded.cpuPercent.toFixed(1)}% of a core`, '', `${baseline.cpuPercent.toFixed(1)}% with 0 sessions`);
  row('event-loop lag idle (p99 / max)', `${loaded.lag.p99.toFixed(1)} / ${loaded.lag.max.toFixed(1)} ms`, '', `${baseline.lag.p99.toFixed(1)} / ${baseline.lag.max.toFixed(1)} ms`);
  row('runner open file descriptors', String(loaded.fds), '', String(baseline.fds));
  row(
    'restart: all connected again at the sandbox',
    reconnected === undefined ? `not within ${Math.round((reconnectDeadline - restarted) / 1000)} s (${seen}/${expected})` : `${reconnected.toFixed(1)} s (${expected} sessions)`,
    `<= ${TARGET.reconnectS} s`,
  );
  row('restart: 99% connected again at the sandbox', ninetyNine === undefined ? 'never' : `${ninetyNine.toFixed(1)} s`);
  row('restart: all connected in the API', apiConnected ? `${apiReconnected.toFixed(1)} s` : `not within 60 s more (${JSON.stringify(after)})`);
  row('restart: runner CPU until all connected', `${reconnectCpu.toFixed(1)} s (previous life used ${cpuBeforeStop.toFixed(1)} s in all)`);
  row('restart: peak runner RSS while reconnecting', `${mb(peakRss)} MB`);

  say('');
  const pad = (s, n) => String(s).padEnd(n);
  say(`${pad('figure', 54)}${pad('value', 58)}${pad('target', 12)}baseline`);
  for (const r of rows) say(`${pad(r.figure, 54)}${pad(r.value, 58)}${pad(r.target, 12)}${r.baseline}`);
  say(`\n${scaleout ? 'PostgreSQL + NATS' : 'SQLite + TCP'}, Node ${process.version}`);
  targetsMet = perSession / 1024 / 1024 <= TARGET.rssPerSessionMb && reconnected !== undefined && reconnected <= TARGET.reconnectS && pairing.paired === N;
  say(targetsMet ? 'targets met' : 'targets NOT met');
} catch (err) {
  process.stderr.write(`${err.stack ?? err}\n`);
  exitCode = 1;
} finally {
  await tearDownStack({ root, runner, gateway, sandbox, postgres: scaleout, schemaPrefix: `bench_capacity_${runId}`, tmp, keep: exitCode !== 0 || !targetsMet || keepLogs });
}
process.exit(exitCode);

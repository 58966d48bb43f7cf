// The scale-out configuration on one machine: the WhatsApp sandbox, N gateways and M session
// runners as separate processes on one PostgreSQL database (a fresh pair of schemas per run) and
// one NATS (a subject prefix per run), so that several clusters and test suites can share both.
// Used by `pnpm cluster` (scripts/cluster.mjs), by `pnpm soak` and by tests that kill, pause and
// restart single processes while traffic flows.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCALEOUT_ENV } from '../scaleout-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MAINS = {
  sandbox: join(root, 'packages/wa-sandbox/dist/cli.js'),
  gateway: join(root, 'apps/gateway/dist/main.js'),
  runner: join(root, 'apps/session-runner/dist/main.js'),
};
const GATEWAY_CLI = join(root, 'apps/gateway/dist/cli.js');
// pg is a dependency of the gateway, not of the repo root.
const { Client } = createRequire(join(root, 'apps/gateway/package.json'))('pg');

const READY_POLL_MS = 200;
// A crash loop would otherwise spin a core: a process that keeps dying is restarted at most this often.
const RESTART_DELAY_MS = 1_000;
const TAIL_BYTES = 64 * 1024;

/** A port nobody listens on right now (the kernel's choice). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Resident memory and open file descriptors of a process, from /proc (Linux); undefined once it
 * is gone. Descriptors are what leaks as sockets, timers' handles and files.
 * @param {number} pid
 * @returns {{rssBytes: number, fds: number} | undefined}
 */
export function processStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    // A process that has exited but not been reaped yet has no VmRSS line (and no descriptors).
    const rssKb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (rssKb === undefined) return undefined;
    return { rssBytes: Number(rssKb) * 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function untilOk(url, { timeoutMs, what, gone }) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const died = gone();
    if (died) throw new Error(`${what} is not ready: ${died}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) throw new Error(`${what} was not ready after ${Math.round(timeoutMs / 1000)} s (last answer: ${last})`);
    await sleep(READY_POLL_MS);
  }
}

function schemaUrl(databaseUrl, schema) {
  const url = new URL(databaseUrl);
  url.searchParams.set('schema', schema);
  return url.toString();
}

async function dropSchemas(databaseUrl, schemas) {
  const url = new URL(databaseUrl);
  url.searchParams.delete('schema');
  const pg = new Client({ connectionString: url.toString() });
  await pg.connect();
  try {
    for (const s of schemas) await pg.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await pg.end();
  }
}

/**
 * @typedef {object} ClusterOptions
 * @property {number} [gateways] gateway processes (2)
 * @property {number} [runners] session-runner processes (3)
 * @property {number} [gatewayPort] port of the first gateway, the others follow it; 0 = free ports (0)
 * @property {number} [sandboxPort] the sandbox's port; 0 = a free one (0)
 * @property {string} [databaseUrl] PostgreSQL database; each run gets its own two schemas in it (SCALEOUT_DATABASE_URL or postgres://root@127.0.0.1:5432/test)
 * @property {string} [natsUrl] (SCALEOUT_NATS_URL or nats://127.0.0.1:4222)
 * @property {boolean} [keepData] keep the run's schemas after stop() (false: the sandbox forgets its phones anyway)
 * @property {string} [org] organization of the API key (cluster)
 * @property {string} [logDir] where each process writes <name>.log (data/cluster/<run id>)
 * @property {Record<string, string>} [env] extra environment of every process
 * @property {Record<string, string>} [gatewayEnv] extra environment of the gateways
 * @property {Record<string, string>} [runnerEnv] extra environment of the runners
 * @property {boolean} [restartCrashed] restart a process that exits when nobody asked it to (true)
 * @property {(name: string, how: string) => void} [onExit] told about each such exit
 * @property {number} [readyTimeoutMs] (120000)
 */

/**
 * Starts the sandbox, the runners and the gateways, each as a child process whose output goes to
 * its own log file, creates an API key with `send,manage` and resolves once every gateway's
 * readiness answers 200 (database and a runner over NATS).
 * @param {ClusterOptions} [options]
 */
export async function startCluster(options = {}) {
  const gatewayCount = options.gateways ?? 2;
  const runnerCount = options.runners ?? 3;
  const runId = `${new Date().toISOString().slice(0, 10).replaceAll('-', '')}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = options.databaseUrl ?? SCALEOUT_ENV.DATABASE_URL;
  const schemas = { gateway: `cluster_${runId}_gateway`, runner: `cluster_${runId}_runner` };
  const gatewayDatabaseUrl = schemaUrl(databaseUrl, schemas.gateway);
  const runnerDatabaseUrl = schemaUrl(databaseUrl, schemas.runner);
  const org = options.org ?? 'cluster';
  const logDir = options.logDir ?? join(root, 'data/cluster', runId);
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const restartCrashed = options.restartCrashed ?? true;
  mkdirSync(logDir, { recursive: true });

  const inherited = { ...process.env };
  // What the caller's shell (or Jest) set for a single-process start must not leak into the cluster.
  for (const v of ['PORT', 'HOST', 'DATABASE_URL', 'RUNNER_URL', 'GATEWAY_EVENTS_URL', 'RUNNER_ID', 'METRICS_PORT', 'GATEWAY_DATABASE_URL', 'RUNNER_DATABASE_URL', 'NODE_OPTIONS']) {
    delete inherited[v];
  }
  const baseEnv = {
    ...inherited,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    LOG_FORMAT: 'json',
    ...options.env,
    TRANSPORT: 'nats',
    NATS_URL: options.natsUrl ?? SCALEOUT_ENV.NATS_URL,
    NATS_SUBJECT_PREFIX: `cluster-${runId}`,
  };

  const sandboxPort = options.sandboxPort || (await freePort());
  const gatewayPorts = [];
  for (let i = 0; i < gatewayCount; i++) gatewayPorts.push(options.gatewayPort ? options.gatewayPort + i : await freePort());
  const runnerMetricsPorts = [];
  for (let i = 0; i < runnerCount; i++) runnerMetricsPorts.push(await freePort());

  /** @type {Map<string, {name: string, kind: string, index: number, child?: import('node:child_process').ChildProcess, starts: number, wanted: 'running'|'stopped', tail: string, exited?: Promise<void>}>} */
  const procs = new Map();
  let stopping = false;
  let sandboxInfo;

  const envOf = (p) => {
    if (p.kind === 'sandbox') return { ...baseEnv, SANDBOX_PORT: String(sandboxPort) };
    if (p.kind === 'runner') {
      return {
        ...baseEnv,
        ...options.runnerEnv,
        DATABASE_URL: runnerDatabaseUrl,
        WA_WS_URL: sandboxInfo.wsUrl,
        WA_ROOT_PUBLIC_KEY: sandboxInfo.rootPublicKey,
        // A new identity per process, as in production: a restarted runner takes its sessions
        // over through the leases like any other runner, not as their previous owner.
        RUNNER_ID: `${runId}-${p.name}-${p.starts}`,
        METRICS_PORT: String(runnerMetricsPorts[p.index]),
        METRICS_HOST: '127.0.0.1',
      };
    }
    return {
      ...baseEnv,
      // The sandbox, the soak's receiver and a user's test receiver all live on loopback.
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      ...options.gatewayEnv,
      DATABASE_URL: gatewayDatabaseUrl,
      HOST: '127.0.0.1',
      PORT: String(gatewayPorts[p.index]),
    };
  };

  const readyCheck = (p) => {
    const gone = () => (p.child.exitCode !== null || p.child.signalCode !== null ? `${p.name} exited (${p.child.signalCode ?? p.child.exitCode}); see ${join(logDir, `${p.name}.log`)}; it ended with:\n${p.tail.slice(-2000)}` : undefined);
    if (p.kind === 'gateway') return untilOk(`http://127.0.0.1:${gatewayPorts[p.index]}/health/ready`, { timeoutMs: readyTimeoutMs, what: p.name, gone });
    if (p.kind === 'runner') return untilOk(`http://127.0.0.1:${runnerMetricsPorts[p.index]}/health`, { timeoutMs: readyTimeoutMs, what: p.name, gone });
    return untilOk(`http://127.0.0.1:${sandboxPort}/health`, { timeoutMs: readyTimeoutMs, what: p.name, gone });
  };

  function spawnProcess(p) {
    p.starts++;
    p.wanted = 'running';
    const log = createWriteStream(join(logDir, `${p.name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [MAINS[p.kind]], { cwd: root, env: envOf(p), stdio: ['ignore', 'pipe', 'pipe'] });
    p.child = child;
    p.tail = '';
    const keep = (chunk) => {
      log.write(chunk);
      p.tail = (p.tail + chunk.toString()).slice(-TAIL_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // 'close' comes after the last output has been read, 'exit' may come before it.
    child.once('close', () => log.end());
    p.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        if (stopping || p.wanted === 'stopped' || p.child !== child) return;
        const how = `${p.name} exited by itself (${signal ?? code})`;
        options.onExit?.(p.name, how);
        if (!restartCrashed) return;
        setTimeout(() => {
          if (!stopping && p.wanted === 'running' && p.child === child) spawnProcess(p);
        }, RESTART_DELAY_MS).unref();
      }),
    );
    return child;
  }

  const add = (kind, index, name) => {
    const p = { name, kind, index, starts: 0, wanted: 'running', tail: '' };
    procs.set(name, p);
    return p;
  };
  const get = (name) => {
    const p = procs.get(name);
    if (!p) throw new Error(`no process "${name}" in this cluster (${[...procs.keys()].join(', ')})`);
    return p;
  };

  async function stopAll() {
    if (stopping) return;
    stopping = true;
    const running = [...procs.values()].filter((p) => p.child && p.child.exitCode === null && p.child.signalCode === null);
    // Gateways first, so that nothing sends to a runner that is already gone, the sandbox last.
    const order = ['gateway', 'runner', 'sandbox'];
    for (const kind of order) {
      const group = running.filter((p) => p.kind === kind);
      for (const p of group) {
        p.child.kill('SIGCONT');
        p.child.kill('SIGTERM');
      }
      await Promise.all(
        group.map((p) =>
          Promise.race([p.exited, sleep(30_000).then(() => p.child.kill('SIGKILL'))]).then(() => p.exited),
        ),
      );
    }
    if (!options.keepData) await dropSchemas(databaseUrl, Object.values(schemas)).catch(() => undefined);
  }

  try {
    const sandbox = add('sandbox', 0, 'sandbox');
    spawnProcess(sandbox);
    await readyCheck(sandbox);
    sandboxInfo = await (await fetch(`http://127.0.0.1:${sandboxPort}/health`)).json();

    // The CLI applies the gateway's migrations before the gateways start, so they do not all
    // race on a fresh schema, and shows the key once on its stdout (it is never logged).
    const cli = spawnSync(process.execPath, [GATEWAY_CLI, 'api-key', 'create', '--org', org, '--capabilities', 'send,manage', '--name', `cluster ${runId}`], {
      cwd: root,
      env: { ...baseEnv, ...options.gatewayEnv, DATABASE_URL: gatewayDatabaseUrl, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    });
    const apiKey = /wag_[A-Za-z0-9_-]+/.exec(cli.stdout ?? '')?.[0];
    if (cli.status !== 0 || !apiKey) throw new Error(`could not create the cluster's API key:\n${cli.stdout}${cli.stderr}`);

    // The first runner migrates the fresh runner schema alone: runners that start together on an
    // empty schema race on its CREATE TABLEs, and all but one die ("relation already exists").
    const runners = Array.from({ length: runnerCount }, (_, i) => add('runner', i, `runner-${i + 1}`));
    spawnProcess(runners[0]);
    await readyCheck(runners[0]);
    for (const r of runners.slice(1)) spawnProcess(r);
    await Promise.all(runners.slice(1).map(readyCheck));
    const gateways = Array.from({ length: gatewayCount }, (_, i) => add('gateway', i, `gateway-${i + 1}`));
    for (const g of gateways) spawnProcess(g);
    await Promise.all(gateways.map(readyCheck));

    const gatewayUrls = gatewayPorts.map((port) => `http://127.0.0.1:${port}`);
    return {
      runId,
      org,
      apiKey,
      gatewayUrls,
      sandboxUrl: `http://127.0.0.1:${sandboxPort}`,
      sandboxWsUrl: sandboxInfo.wsUrl,
      natsSubjectPrefix: baseEnv.NATS_SUBJECT_PREFIX,
      databases: { gateway: gatewayDatabaseUrl, runner: runnerDatabaseUrl },
      runnerMetricsUrls: runnerMetricsPorts.map((port) => `http://127.0.0.1:${port}/metrics`),
      logDir,
      /** Process names: sandbox, runner-1.., gateway-1.. */
      names: () => [...procs.keys()],
      /** The pid of a running process, undefined while it is down. */
      pid: (name) => {
        const c = get(name).child;
        return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
      },
      /** How often a process was started (1 + restarts, deliberate or not). */
      starts: (name) => get(name).starts,
      /** The last 64 KB a process wrote (its current or last incarnation). */
      output: (name) => get(name).tail,
      /**
       * Sends a signal; one that ends the process (SIGKILL, SIGTERM, ...) leaves it down until
       * restart(name), it is not restarted as a crash would be. Resolves once it has exited.
       */
      kill: async (name, signal = 'SIGKILL') => {
        const p = get(name);
        if (!p.child || p.child.exitCode !== null || p.child.signalCode !== null) return;
        p.wanted = 'stopped';
        p.child.kill('SIGCONT');
        p.child.kill(signal);
        await p.exited;
      },
      /** Stops the process (SIGTERM) if it runs, starts it again and resolves once it is ready. */
      restart: async (name) => {
        const p = get(name);
        if (p.child && p.child.exitCode === null && p.child.signalCode === null) {
          p.wanted = 'stopped';
          p.child.kill('SIGCONT');
          p.child.kill('SIGTERM');
          await p.exited;
        }
        spawnProcess(p);
        await readyCheck(p);
      },
      /** SIGSTOP: the process keeps its sockets and leases but does nothing (a long GC pause, a frozen VM). */
      pause: (name) => void get(name).child?.kill('SIGSTOP'),
      /** SIGCONT after pause(). */
      resume: (name) => void get(name).child?.kill('SIGCONT'),
      /** Stops everything (gateways, runners, then the sandbox) and drops the run's schemas unless keepData. */
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

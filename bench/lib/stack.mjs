// What the benches that run the whole product share: databases, transport, the sandbox in a
// process of its own, and an API key made with the gateway's CLI.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort } from './processes.mjs';

export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test';

/** DATABASE_URL per app: a SQLite file in `tmp`, or a PostgreSQL schema `<schemaPrefix>_<app>`. */
export function databaseUrls({ postgres, tmp, schemaPrefix }) {
  return (app) => {
    if (!postgres) return `sqlite:${join(tmp, `${app}.db`)}`;
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', `${schemaPrefix}_${app}`);
    return url.toString();
  };
}

/** NATS under a subject prefix of its own, or the TCP transport on two free ports. */
export async function transportEnv({ nats, prefix }) {
  return nats
    ? { TRANSPORT: 'nats', NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', NATS_SUBJECT_PREFIX: prefix }
    : { TRANSPORT: 'tcp', RUNNER_URL: `tcp://127.0.0.1:${await freePort()}`, GATEWAY_EVENTS_URL: `tcp://127.0.0.1:${await freePort()}` };
}

/** The sandbox as its own process (its CPU must not slow the bench's timers nor count as the runner's), with its control API. */
export async function startSandbox(root) {
  const child = spawn(process.execPath, [join(root, 'packages/wa-sandbox/dist/cli.js')], {
    env: { ...process.env, SANDBOX_PORT: String(await freePort()) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.includes('wa-sandbox.ready'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`the sandbox exited with ${code}: ${out}`)));
  });
  child.stdout.resume();
  const control = async (path, body) => {
    const res = await fetch(`${ready.controlUrl}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`sandbox ${path} answered ${res.status} ${await res.text()}`);
    return res.json();
  };
  return { ...ready, pid: child.pid, control, stop: () => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.kill('SIGTERM')))) };
}

/** An API key with `send,manage` in org `bench`, made with the gateway's CLI against its database. */
export function createApiKey(root, gatewayEnv, name) {
  const cli = spawnSync(
    process.execPath,
    [join(root, 'apps/gateway/dist/cli.js'), 'api-key', 'create', '--org', 'bench', '--capabilities', 'send,manage', '--name', name],
    { env: gatewayEnv, encoding: 'utf8' },
  );
  const key = /wag_[A-Za-z0-9_-]+/.exec(cli.stdout ?? '')?.[0];
  if (!key) throw new Error(`could not create an API key: ${cli.stdout}${cli.stderr}`);
  return key;
}

/** Polls `probe` until it answers something truthy (errors count as not yet), or throws after `timeoutMs`. */
export async function until(what, probe, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `--name N` from `argv` as a whole number of at least `min`, or `fallback`. */
export function wholeOption(argv, name, fallback, min = 1) {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} takes a whole number of at least ${min}`);
  return value;
}

/**
 * Ctrl-C and SIGTERM stop the processes `current()` names (the runner, the gateway, the sandbox)
 * before the bench exits, so none is left behind; `note()` says what else is (logs, schemas).
 */
export function stopOnSignals(current, note = () => '') {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping the runner, the gateway and the sandbox...\n`);
      void Promise.allSettled(current().map((p) => p.stop())).then(() => {
        const left = note();
        if (left) process.stderr.write(`${left}\n`);
        process.exit(130);
      });
    });
  }
}

/** A connected client of POSTGRES_URL, with the gateway's `pg`. */
async function postgresClient(root) {
  const pg = createRequire(join(root, 'apps/gateway/package.json'))('pg');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  return client;
}

/**
 * A note for the figures when the PostgreSQL server at POSTGRES_URL runs with autovacuum off
 * (as this project's CI machine does), else ''. Nothing analyzes the bench's fresh tables then,
 * and a named prepared statement keeps the plan it got while its table was nearly empty: the
 * runner's status UPDATE then walks a session's messages by the wrong index (about 200 buffers a
 * call instead of 6). With autovacuum on, PostgreSQL's default, the first analyze replans.
 */
export async function postgresCaveat(root) {
  const client = await postgresClient(root);
  try {
    const { rows } = await client.query('SHOW autovacuum');
    return rows[0]?.autovacuum === 'off' ? 'PostgreSQL runs with autovacuum off: its plans are those of empty tables' : '';
  } finally {
    await client.end();
  }
}

/**
 * The end of a full-stack bench: the apps and the sandbox stopped, the PostgreSQL schemas
 * `<schemaPrefix>_gateway` and `_runner` dropped (when on PostgreSQL), and the logs in `tmp`
 * removed when `keep` is false, otherwise named.
 */
export async function tearDownStack({ root, runner, gateway, sandbox, postgres, schemaPrefix, tmp, keep }) {
  await Promise.all([gateway.stop(), runner.stop()]);
  await sandbox.stop();
  if (postgres) {
    const client = await postgresClient(root);
    for (const app of ['gateway', 'runner']) await client.query(`DROP SCHEMA IF EXISTS "${schemaPrefix}_${app}" CASCADE`);
    await client.end();
  }
  if (!keep) rmSync(tmp, { recursive: true, force: true });
  else process.stderr.write(`logs in ${tmp}\n`);
}

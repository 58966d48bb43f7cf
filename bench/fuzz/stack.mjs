// The system under test, started from the built apps as an operator would run them: the
// WhatsApp sandbox, one session runner trusting it, one gateway, all as child processes. Then
// the fixture every case draws its valid parts from: keys with and without capabilities, a
// key of another organization, a session linked by QR and connected, a sent message and poll,
// webhooks, and resources that destructive operations may use up.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/processes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNER_MAIN = join(root, 'apps/session-runner/dist/main.js');
const GATEWAY_MAIN = join(root, 'apps/gateway/dist/main.js');
const GATEWAY_CLI = join(root, 'apps/gateway/dist/cli.js');
const SANDBOX_MAIN = join(root, 'bench/fuzz/sandbox-main.mjs');
const LOG_TAIL_CHARS = 64 * 1024;

export const ORG = 'fuzz-org';
export const OTHER_ORG = 'fuzz-other-org';
const ACCOUNT_PHONE = '15550100001';
const CONTACT_PHONE = '15550100002';

/** Settings of the gateway under test; the report names the ones that differ from the defaults. */
export const GATEWAY_SETTINGS = {
  // Fuzzing sends thousands of failed authentications from one address: with the limiters on,
  // nearly every case would stop at 429 before reaching the code under test.
  RATE_LIMIT_PER_API_KEY: 'off',
  RATE_LIMIT_PER_ORG: 'off',
  RATE_LIMIT_FAILED_AUTH: 'off',
  // Bodies over the limit get 413 without each case uploading 25 MB.
  HTTP_BODY_LIMIT_BYTES: String(2 * 1024 * 1024),
  MEDIA_MAX_BYTES: String(1024 * 1024),
  // Sync sends may wait this long (documented); the outbox drains without pacing.
  SEND_SYNC_TIMEOUT_MS: '3000',
  SEND_MIN_INTERVAL_MS: '0',
  SEND_JITTER_MS: '0',
};


// A deadline for a part that hangs, not a measure of start-up: a loaded 2-core CI run took over
// 30 s to start the gateway process while other suites ran (the test suites' HANG_MS).
const SETUP_DEADLINE_MS = 120_000;
const until = async (what, probe, timeoutMs = SETUP_DEADLINE_MS) => {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fuzz setup: gave up waiting for ${what} after ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
};

/** A child process whose output is kept (its tail) for the report when it dies. */
function startProcess(name, args, env, ready) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d) => {
    out += d.toString();
    if (out.length > 2 * LOG_TAIL_CHARS) out = out.slice(-LOG_TAIL_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // Should this process die without stopping the stack (a crash, Ctrl-C), its children go too.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      process.off('exit', orphanGuard);
      resolve(signal ?? code);
    }),
  );
  const proc = {
    name,
    child,
    output: () => out,
    alive: () => child.exitCode === null && child.signalCode === null,
    exited,
    stop: async () => {
      if (proc.alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => proc.alive() && child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const started = ready
    ? Promise.race([
        until(`${name} to start`, () => ready(out)),
        exited.then((code) => {
          throw new Error(`${name} exited (${code}) while starting:\n${out.slice(-4000)}`);
        }),
      ])
    : Promise.resolve();
  return { proc, started };
}

async function json(url, init = {}) {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers }, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/** Database URLs of one run: SQLite files in a temp dir, or fresh PostgreSQL schemas. */
function databases(config) {
  if (config === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'wa-fuzz-'));
    return { url: (app) => `sqlite:${join(dir, `${app}.db`)}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.FUZZ_POSTGRES_URL ?? (process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : 'postgres://root@127.0.0.1:5432/test');
  const tag = `fuzz_${randomBytes(4).toString('hex')}`;
  const url = (app) => {
    const u = new URL(base);
    u.searchParams.set('schema', `${tag}_${app}`);
    return u.toString();
  };
  return {
    url,
    cleanup: async () => {
      const pg = createRequire(join(root, 'apps/gateway/package.json'))('pg');
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        for (const app of ['gateway', 'runner']) await client.query(`DROP SCHEMA IF EXISTS "${tag}_${app}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

async function transport(config) {
  if (config === 'scaleout') {
    return {
      runner: { TRANSPORT: 'nats', NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', NATS_SUBJECT_PREFIX: `fuzz-${randomBytes(4).toString('hex')}` },
      gateway: {},
    };
  }
  const t = { TRANSPORT: 'tcp', RUNNER_URL: `tcp://127.0.0.1:${await freePort()}`, GATEWAY_EVENTS_URL: `tcp://127.0.0.1:${await freePort()}` };
  return { runner: t, gateway: {} };
}

/**
 * @param {{ config: 'embedded'|'scaleout', log: (line: string) => void }} options
 */
export async function startStack({ config, log }) {
  const db = databases(config);
  const t = await transport(config);
  t.gateway = { ...t.runner, ...t.gateway };
  const procs = [];
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop();
    await db.cleanup().catch((err) => log(`could not drop the fuzz database: ${err.message}`));
  };
  try {
    log(`starting the sandbox, a session runner and a gateway (${config})`);
    const sandbox = startProcess('wa-sandbox', [SANDBOX_MAIN], {}, (out) => /^\{"event":"wa-sandbox\.ready".*$/m.exec(out)?.[0]);
    procs.push(sandbox.proc);
    const ready = JSON.parse(await sandbox.started);

    const runner = startProcess(
      'session-runner',
      [RUNNER_MAIN],
      {
        ...t.runner,
        DATABASE_URL: db.url('runner'),
        LOG_LEVEL: 'info',
        WA_WS_URL: ready.wsUrl,
        WA_ROOT_PUBLIC_KEY: ready.rootPublicKey,
        // Media goes to the sandbox's media host, trusted as WhatsApp's would be (without these, every
        // valid media upload failed TLS verification: an image status answered 500).
        WA_MEDIA_BASE_URL: ready.mediaBaseUrl,
        NODE_EXTRA_CA_CERTS: ready.mediaCaFile,
        WA_RECONNECT_BASE_MS: '50',
        WA_RECONNECT_MAX_MS: '500',
      },
      (out) => out.includes('successfully started'),
    );
    procs.push(runner.proc);
    await runner.started;

    const port = await freePort();
    const gatewayEnv = { ...t.gateway, ...GATEWAY_SETTINGS, DATABASE_URL: db.url('gateway'), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', BOOTSTRAP_ORG: ORG };
    const gateway = startProcess('gateway', [GATEWAY_MAIN], gatewayEnv, (out) => /wag_[A-Za-z0-9_-]+/.exec(out)?.[0]);
    procs.push(gateway.proc);
    const ownerToken = await gateway.started;
    const url = `http://127.0.0.1:${port}`;
    await until('the gateway to answer /health/live', async () => (await fetch(`${url}/health/live`)).ok);

    const fixture = await buildFixture({ url, ownerToken, control: ready.controlUrl, gatewayEnv, log });
    return { url, fixture, gateway: gateway.proc, runner: runner.proc, sandbox: sandbox.proc, stop };
  } catch (err) {
    const tails = procs.map((p) => `--- ${p.name} log (tail) ---\n${p.output().slice(-3000)}`).join('\n');
    await stop();
    err.message += `\n${tails}`;
    throw err;
  }
}

async function buildFixture({ url, ownerToken: bootstrapToken, control, gatewayEnv, log }) {
  const api = (token) => (path, init = {}) => json(`${url}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  const expect = async (what, promise, statuses = [200, 201, 202]) => {
    const res = await promise;
    if (!statuses.includes(res.status)) throw new Error(`fuzz setup: ${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  // The fuzzer's owner is a key of its own, not the bootstrap key: that one has a well-known id
  // (all zeros) that a hostile path value can name, and an owner may revoke it, which must not
  // lock the fuzzer out of its own checks.
  const ownerToken = (await expect('creating the owner key', api(bootstrapToken)('/api-keys', { method: 'POST', body: { name: 'fuzz owner', capabilities: ['send', 'manage'] } }))).token;
  const owner = api(ownerToken);

  const key = async (capabilities, name) => (await expect(`creating a ${capabilities.join(',')} key`, owner('/api-keys', { method: 'POST', body: { name, capabilities } })));
  const sendOnly = await key(['send'], 'fuzz send only');
  const manageOnly = await key(['manage'], 'fuzz manage only');
  const sacrificialKey = await key(['send'], 'fuzz revocable');

  // Another organization's key: the CLI is the only way to create one (keys never cross orgs).
  // Not spawnSync: a blocked event loop cannot see the gateway close the idle keep-alive
  // connection (after 5 s, which a busy machine's CLI start outlasts), and the next call below
  // then went out on the closed socket ("fetch failed: other side closed").
  const cli = await new Promise((resolve) => {
    const child = spawn(process.execPath, [GATEWAY_CLI, 'api-key', 'create', '--org', OTHER_ORG, '--capabilities', 'send,manage', '--name', 'fuzz other org'], {
      env: { PATH: process.env.PATH ?? '', ...gatewayEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', (err) => resolve({ status: null, stdout, stderr: `${stderr}${err.message}` }));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
  const otherToken = /wag_[A-Za-z0-9_-]+/.exec(cli.stdout ?? '')?.[0];
  if (cli.status !== 0 || !otherToken) throw new Error(`fuzz setup: the gateway CLI could not create a key:\n${cli.stdout}${cli.stderr}`);
  const other = api(otherToken);
  const otherSession = await expect('creating a session of the other org', other('/sessions', { method: 'POST', body: { name: 'other org session' } }));

  log('linking a session to the sandbox by QR');
  await expect('creating a sandbox phone', json(`${control}/phones`, { method: 'POST', body: { phone: ACCOUNT_PHONE, name: 'Fuzz account' } }));
  await expect('creating a sandbox contact', json(`${control}/phones`, { method: 'POST', body: { phone: CONTACT_PHONE, name: 'Fuzz contact' } }));
  const session = await expect('creating the session', owner('/sessions', { method: 'POST', body: { name: 'fuzz main' } }));
  await expect('starting the session', owner(`/sessions/${session.id}/start`, { method: 'POST', body: {} }));
  const qr = await until('a QR code', async () => {
    const res = await owner(`/sessions/${session.id}/qr`, { headers: { accept: 'application/json' } });
    return res.status === 200 ? res.body.qr : undefined;
  });
  await expect('scanning the QR code', json(`${control}/phones/${ACCOUNT_PHONE}/scan`, { method: 'POST', body: { qr } }));
  let seen;
  await until('the session to connect', async () => {
    seen = (await owner(`/sessions/${session.id}`)).body;
    return seen?.status === 'connected';
  }).catch((err) => {
    throw new Error(`${err.message}; the session is ${JSON.stringify(seen)}`);
  });
  const me = await until('the session to know its own jid', async () => {
    const res = await owner(`/sessions/${session.id}/me`);
    return res.status === 200 ? res.body : undefined;
  });
  const chat = `${CONTACT_PHONE}@s.whatsapp.net`;
  const text = await expect('sending a text', owner(`/sessions/${session.id}/messages`, { method: 'POST', body: { chat, type: 'text', text: 'fuzz fixture' } }));
  const poll = await expect('sending a poll', owner(`/sessions/${session.id}/messages`, { method: 'POST', body: { chat, type: 'poll', name: 'Fuzz?', options: ['Yes', 'No'], selectableCount: 1 } }));
  const spare = await expect('creating a spare session', owner('/sessions', { method: 'POST', body: { name: 'fuzz spare' } }));
  const doomed = await expect('creating a session to delete', owner('/sessions', { method: 'POST', body: { name: 'fuzz doomed' } }));
  const group = await expect('creating a group', owner(`/sessions/${session.id}/groups`, { method: 'POST', body: { subject: 'Fuzz group', participants: [chat] } }));

  const webhookBody = (description) => ({ url: 'https://hooks.example.com/fuzz', events: ['*'], description });
  const webhook = await owner('/webhooks', { method: 'POST', body: webhookBody('fuzz') });
  const spareWebhook = await owner('/webhooks', { method: 'POST', body: webhookBody('fuzz spare') });
  if (webhook.status !== 201) log(`note: creating a webhook answered ${webhook.status}; webhook routes get unknown ids only`);

  return {
    ownerToken,
    otherToken,
    sendOnlyToken: sendOnly.token,
    manageOnlyToken: manageOnly.token,
    sessionId: session.id,
    spareSessionId: spare.id,
    doomedSessionId: doomed.id,
    group: group.jid,
    otherSessionId: otherSession.id,
    keyId: sendOnly.id,
    spareKeyId: sacrificialKey.id,
    webhookId: webhook.status === 201 ? webhook.body.id : undefined,
    spareWebhookId: spareWebhook.status === 201 ? spareWebhook.body.id : undefined,
    chat,
    me: me.jid,
    textMid: text.waMessageId,
    pollMid: poll.waMessageId,
    outboxId: text.outboxId,
    phone: CONTACT_PHONE,
  };
}

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '@wa/contracts/testing';
import type { WaSandbox } from '@wa/wa-sandbox';

/**
 * The product as a user runs it, for the client's end-to-end test: the built session runner and
 * gateway as their own processes, an API key made with the gateway's CLI, and the configuration
 * the suite runs in (SQLite files + TCP by default; PostgreSQL schemas + NATS when DATABASE_URL
 * is postgres:// and TRANSPORT=nats, as apps/gateway/test/harness.ts picks them).
 */
const GATEWAY_DIR = dirname(require.resolve('@wa/gateway/package.json'));
const RUNNER_DIR = dirname(require.resolve('@wa/session-runner/package.json'));
const POLL_MS = 50;

const scaleOut = (process.env.DATABASE_URL ?? '').startsWith('postgres');

async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function startProcess(main: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface Stack {
  url: string;
  apiKey: string;
  close: () => Promise<void>;
}

export async function startStack(sandbox: WaSandbox, org: string): Promise<Stack> {
  const tempDir = mkdtempSync(join(tmpdir(), 'wa-client-e2e-'));
  const schemas: string[] = [];
  const databaseUrl = (label: string): string => {
    if (!scaleOut) return `sqlite:${join(tempDir, `${label}.db`)}`;
    const url = new URL(process.env.DATABASE_URL as string);
    const schema = `t_client_${label}_${randomBytes(4).toString('hex')}`;
    schemas.push(schema);
    url.searchParams.set('schema', schema);
    return url.toString();
  };
  const transport: Record<string, string> =
    process.env.TRANSPORT === 'nats'
      ? { TRANSPORT: 'nats', NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', NATS_SUBJECT_PREFIX: `client-${randomBytes(4).toString('hex')}` }
      : { TRANSPORT: 'tcp', RUNNER_URL: `tcp://127.0.0.1:${await freePort()}`, GATEWAY_EVENTS_URL: `tcp://127.0.0.1:${await freePort()}` };
  const port = await freePort();
  const gatewayEnv = {
    ...transport,
    DATABASE_URL: databaseUrl('gateway'),
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    SEND_MIN_INTERVAL_MS: '0',
    SEND_JITTER_MS: '0',
    OUTBOX_POLL_INTERVAL_MS: '100',
  };
  const runnerEnv = {
    ...transport,
    DATABASE_URL: databaseUrl('runner'),
    LOG_LEVEL: 'info',
    WA_WS_URL: sandbox.wsUrl,
    WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey,
    WA_RECONNECT_BASE_MS: '50',
    WA_RECONNECT_MAX_MS: '500',
  };

  const cli = spawnSync(
    process.execPath,
    [join(GATEWAY_DIR, 'dist/cli.js'), 'api-key', 'create', '--org', org, '--capabilities', 'send,manage', '--name', 'client e2e'],
    { env: { PATH: process.env.PATH ?? '', ...gatewayEnv }, encoding: 'utf8' },
  );
  const apiKey = /wag_[A-Za-z0-9_-]+/.exec(cli.stdout ?? '')?.[0];
  if (cli.status !== 0 || !apiKey) throw new Error(`the gateway CLI made no API key:\n${cli.stdout}${cli.stderr}`);

  const runner = startProcess(join(RUNNER_DIR, 'dist/main.js'), runnerEnv);
  const gateway = startProcess(join(GATEWAY_DIR, 'dist/main.js'), gatewayEnv);
  const url = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    await gateway.stop();
    await runner.stop();
    for (const schema of schemas) {
      const client = new Client({ connectionString: process.env.DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
    rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    await until(() => (runner.child.exitCode !== null ? Promise.reject(new Error(`runner exited:\n${runner.output()}`)) : runner.output().includes('successfully started') || undefined), 'the runner', 60_000);
    await until(async () => {
      if (gateway.child.exitCode !== null) throw new Error(`gateway exited:\n${gateway.output()}`);
      return (await fetch(`${url}/health/live`).then((r) => r.ok, () => false)) || undefined;
    }, 'the gateway', 60_000);
  } catch (err) {
    await close();
    throw err;
  }
  return { url, apiKey, close };
}

export interface Delivery {
  headers: IncomingHttpHeaders;
  rawBody: string;
}

/** A plain HTTP endpoint that keeps every request as received, so the test verifies it itself. */
export async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; waitFor: (pred: (d: Delivery) => boolean, what: string) => Promise<Delivery>; close: () => Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`,
    deliveries,
    waitFor: (pred, what) => until(() => deliveries.find(pred), what, 20_000),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

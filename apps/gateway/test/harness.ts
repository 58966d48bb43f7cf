import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ModuleMetadata } from '@nestjs/common';
import { freePort } from '@wa/contracts/testing';
import { Client } from 'pg';
import { createGatewayApp } from '../src/app.factory';
import { loadGatewayConfig } from '../src/config/gateway.config';

/**
 * Real parts for e2e tests: the session runner as its own process (its built dist), the
 * gateway in-process listening on a loopback port, and a database of the configuration under
 * test (SQLite file by default; a fresh PostgreSQL schema when DATABASE_URL is postgres://).
 */
const RUNNER_MAIN = join(__dirname, '../../session-runner/dist/main.js');
const createdSchemas: string[] = [];
const tempDir = mkdtempSync(join(tmpdir(), 'wa-gw-test-'));

export const scaleOut = (process.env.DATABASE_URL ?? '').startsWith('postgres');

export { freePort };

/** The PostgreSQL the scale-out configuration uses; suites about PostgreSQL itself use it in both configurations. */
const POSTGRES_URL = scaleOut ? (process.env.DATABASE_URL as string) : (process.env.SCALEOUT_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test');

/** A database URL that no other suite uses: of the configuration under test, or PostgreSQL when asked for. */
export function testDatabaseUrl(label: string, kind?: 'postgres'): string {
  const suffix = `${label}_${randomBytes(4).toString('hex')}`;
  if (scaleOut || kind === 'postgres') {
    const url = new URL(POSTGRES_URL);
    const schema = `t_${suffix}`.toLowerCase();
    createdSchemas.push(`${url.toString()}|${schema}`);
    url.searchParams.set('schema', schema);
    return url.toString();
  }
  return `sqlite:${join(tempDir, `${suffix}.db`)}`;
}

export async function dropTestSchemas(): Promise<void> {
  await dropSchemas(createdSchemas.splice(0));
}

/**
 * Schemas made after `schemaMark()` taken out of what `dropTestSchemas()` drops, for a stack that
 * outlives the suite that started it (FeatureStack.shareAmongSuites); `dropSchemas` drops them.
 */
export const schemaMark = (): number => createdSchemas.length;
export const claimSchemas = (mark: number): string[] => createdSchemas.splice(mark);

export async function dropSchemas(entries: string[]): Promise<void> {
  for (const entry of entries) {
    const [conn, schema] = entry.split('|');
    const client = new Client({ connectionString: conn });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

/**
 * A connected client on the PostgreSQL schema a test database URL names (its `schema=`
 * parameter), with that schema first on the search path; `schema` is there for qualified names.
 */
export async function schemaClient(databaseUrl: string): Promise<{ pg: Client; schema: string }> {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema');
  if (!schema) throw new Error(`not a test schema URL: ${databaseUrl}`);
  url.searchParams.delete('schema');
  const pg = new Client({ connectionString: url.toString(), options: `-c search_path=${schema}` });
  await pg.connect();
  return { pg, schema };
}

export interface TransportEnv {
  TRANSPORT: string;
  NATS_SUBJECT_PREFIX?: string;
  RUNNER_URL?: string;
  GATEWAY_EVENTS_URL?: string;
  NATS_URL?: string;
}

export async function transportEnv(): Promise<TransportEnv> {
  if (process.env.TRANSPORT === 'nats') {
    // A subject namespace of its own, so that suites never answer each other over the shared NATS.
    return { TRANSPORT: 'nats', NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', NATS_SUBJECT_PREFIX: `test-${randomBytes(4).toString('hex')}` };
  }
  return { TRANSPORT: 'tcp', RUNNER_URL: `tcp://127.0.0.1:${await freePort()}`, GATEWAY_EVENTS_URL: `tcp://127.0.0.1:${await freePort()}` };
}

/**
 * The environment of a runner that uses the sandbox as WhatsApp, with its own database; short
 * reconnect, query and lease timings keep fault and takeover tests quick.
 */
export function sandboxRunnerEnv(
  sandbox: { wsUrl: string; rootPublicKey: string; mediaCaFile?: string; mediaBaseUrl?: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: testDatabaseUrl('runner'),
    WA_WS_URL: sandbox.wsUrl,
    WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey,
    // The sandbox's media host has a certificate from a CA made at its start: Node trusts it only
    // when the process starts with it (NODE_EXTRA_CA_CERTS is read once).
    ...(sandbox.mediaCaFile ? { NODE_EXTRA_CA_CERTS: sandbox.mediaCaFile } : {}),
    ...(sandbox.mediaBaseUrl ? { WA_MEDIA_BASE_URL: sandbox.mediaBaseUrl } : {}),
    WA_RECONNECT_BASE_MS: '50',
    WA_RECONNECT_MAX_MS: '500',
    WA_QUERY_TIMEOUT_MS: '5000',
    LEASE_TTL_MS: '3000',
    ...extra,
  };
}

export interface RunnerProcess {
  child: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export async function startRunner(transport: TransportEnv, extraEnv: Record<string, string> = {}): Promise<RunnerProcess> {
  const child = spawn(process.execPath, [RUNNER_MAIN], {
    env: { PATH: process.env.PATH ?? '', ...transport, DATABASE_URL: testDatabaseUrl('runner'), LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // What the runner wrote to stderr ("failed to start: <why>") leads the error of a failed start:
  // CI reports show only the first lines of an error, and the log lines before it are many.
  let errOut = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    errOut += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    // A deadline for a runner that cannot start, not a measure of start-up time: on a busy
    // 2-core machine Nest's start-up alone has taken over 20 s.
    const timer = setTimeout(() => {
      // Killed, not left behind: a live child keeps jest from ever exiting, which turned one
      // slow start into a CI run that hung until it was killed.
      child.kill('SIGKILL');
      reject(new Error(`runner did not start: ${errOut.trim()}\n${out}`));
    }, 60_000);
    const check = (): void => {
      if (out.includes('successfully started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    // 'close', not 'exit': by then the runner's stderr has been read to its end.
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`runner exited with ${code}: ${errOut.trim()}\n${out}`));
    });
  });
  child.removeAllListeners('close');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface GatewayHandle {
  app: NestFastifyApplication;
  url: string;
  close: () => Promise<void>;
}

/**
 * Idle keep-alive connections of a test gateway (in this process or spawned) outlive the test
 * client's (undici closes its own a little before the server's advertised timeout): with the server
 * closing first, a request sent on a socket the server was closing at that moment failed with
 * ECONNRESET or "other side closed" on loaded CI runs, where the client's event loop ran seconds late.
 */
export const TEST_KEEPALIVE_ENV = { HTTP_KEEPALIVE_TIMEOUT_MS: '600000' } as const;

export async function startGateway(
  transport: TransportEnv,
  env: Record<string, string> = {},
  imports: ModuleMetadata['imports'] = [],
): Promise<GatewayHandle> {
  const config = loadGatewayConfig({
    ...transport,
    DATABASE_URL: testDatabaseUrl('gateway'),
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    ...TEST_KEEPALIVE_ENV,
    ...env,
  });
  const app = await createGatewayApp(config, { imports });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

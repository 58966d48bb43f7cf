import type { INestMicroservice } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { createRunnerClient, RPC, type SessionStateResult } from '@wa/contracts';
import { dropPostgresSchema, freePort, freshDatabaseTargets } from '@wa/contracts/testing';
import { newId } from '@wa/domain';
import type { WaSandbox } from '@wa/wa-sandbox';
import { firstValueFrom, timeout } from 'rxjs';
import { createRunnerApp } from '../../src/app.factory';
import { loadRunnerConfig } from '../../src/config/runner.config';

export { freePort };

export interface RunnerUnderTest {
  /** The runner's Nest application, for tests that look inside it (its providers, its database). */
  app: INestMicroservice;
  call<T>(pattern: string, payload: object, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

/**
 * A runner in this process, talking to the sandbox, reached through its real transport
 * (TCP, or NATS when TRANSPORT=nats) on SQLite, or PostgreSQL in the scale-out configuration
 * or when a test is about PostgreSQL (`postgres`).
 */
export async function startRunner(sandbox: WaSandbox, name: string, env: Record<string, string> = {}, options: { postgres?: boolean } = {}): Promise<RunnerUnderTest> {
  const scaleOut = process.env.TRANSPORT === 'nats';
  const targets = freshDatabaseTargets(name);
  const target = scaleOut || options.postgres ? targets.postgres : targets.sqlite;
  const transport = scaleOut
    ? { TRANSPORT: 'nats', NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', NATS_SUBJECT_PREFIX: `${process.env.NATS_SUBJECT_PREFIX ?? 'test'}-${name}-${process.pid}` }
    : { TRANSPORT: 'tcp', RUNNER_URL: `tcp://127.0.0.1:${await freePort()}` };
  const config = loadRunnerConfig({
    ...transport,
    DATABASE_URL: target.kind === 'sqlite' ? `sqlite:${target.path}` : `${target.url}?schema=${target.schema}`,
    // Nothing listens there: the runner keeps its events and retries, which is all these tests need.
    GATEWAY_EVENTS_URL: `tcp://127.0.0.1:${await freePort()}`,
    WA_WS_URL: sandbox.wsUrl,
    WA_ROOT_PUBLIC_KEY: sandbox.rootPublicKey,
    WA_VERSION: '2.3000.1043857760',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app: INestMicroservice = await createRunnerApp(config);
  await app.listen();
  const client: ClientProxy = createRunnerClient(config.transport);
  return {
    app,
    call: <T>(pattern: string, payload: object, timeoutMs = 15_000) => firstValueFrom(client.send<T>(pattern, payload).pipe(timeout(timeoutMs))),
    close: async () => {
      await client.close();
      await app.close();
      await dropPostgresSchema(targets.postgres);
    },
  };
}

export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a new session and links it to `phone` by scanning its QR, as a user would. */
export async function linkSession(runner: RunnerUnderTest, sandbox: WaSandbox, orgId: string, phone: string): Promise<string> {
  const sessionId = newId();
  await runner.call(RPC.sessionStart, { orgId, sessionId });
  await eventually(async () => ((await runner.call<SessionStateResult>(RPC.sessionState, { orgId, sessionId })).status === 'qr' ? true : undefined), 'a QR');
  const { qr } = await runner.call<{ qr: string }>(RPC.sessionQr, { orgId, sessionId });
  await sandbox.scanQr(phone, qr);
  await eventually(async () => ((await runner.call<SessionStateResult>(RPC.sessionState, { orgId, sessionId })).status === 'connected' ? true : undefined), 'connected', 30_000);
  return sessionId;
}

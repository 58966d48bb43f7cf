import type { INestMicroservice } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { createRunnerClient, RPC, type RunnerPingResult } from '@wa/contracts';
import { dropPostgresSchema, freePort, freshDatabaseTargets } from '@wa/contracts/testing';
import { firstValueFrom, timeout } from 'rxjs';
import { createRunnerApp } from '../src/app.factory';
import { loadRunnerConfig } from '../src/config/runner.config';

const scaleOut = process.env.TRANSPORT === 'nats';


describe('session-runner over its transport', () => {
  const targets = freshDatabaseTargets('runner_e2e');
  const target = scaleOut ? targets.postgres : targets.sqlite;
  let app: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const env = scaleOut
      ? { TRANSPORT: 'nats', NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', NATS_SUBJECT_PREFIX: `test-runner-${process.pid}` }
      : { TRANSPORT: 'tcp', RUNNER_URL: `tcp://127.0.0.1:${await freePort()}` };
    const databaseUrl = target.kind === 'sqlite' ? `sqlite:${target.path}` : `${target.url}?schema=${target.schema}`;
    const config = loadRunnerConfig({ ...env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', RUNNER_ID: 'runner-under-test' });
    app = await createRunnerApp(config);
    await app.listen();
    client = createRunnerClient(config.transport);
  });

  afterAll(async () => {
    await client?.close();
    await app?.close();
    await dropPostgresSchema(targets.postgres);
  });

  it('answers ping with its identity once its database is migrated', async () => {
    const result = await firstValueFrom(client.send<RunnerPingResult>(RPC.runnerPing, {}).pipe(timeout(5000)));
    expect(result).toEqual({ runnerId: 'runner-under-test', startedAt: expect.any(Number), transport: scaleOut ? 'nats' : 'tcp' });
  });

  it('rejects a pattern it does not serve instead of hanging', async () => {
    await expect(firstValueFrom(client.send('runner.no-such-pattern', {}).pipe(timeout(5000)))).rejects.toBeDefined();
  });
});

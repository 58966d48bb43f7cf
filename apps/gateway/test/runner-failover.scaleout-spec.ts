import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, startRunner, testDatabaseUrl, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv, sandboxRunnerEnv } from './harness';
import { ApiClient } from './session-fixture';
import { leaseOwner as leaseOwnerOf } from './lease-fixture';

/**
 * Scale-out only (PostgreSQL + NATS): two runner processes share one runner database. Commands
 * reach whichever runner NATS picks and are routed to the session's owner; when the owner dies,
 * the other runner takes the session over once the lease expires, without a new QR code.
 */
describe('two session runners sharing the work', () => {
  const ORG = 'org-failover';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  let runnerDb: string;
  const runners = new Map<string, RunnerProcess>();
  let gw: GatewayHandle;
  let client: ApiClient;

  const runnerEnv = (id: string): Record<string, string> => sandboxRunnerEnv(sandbox, { RUNNER_ID: id, DATABASE_URL: runnerDb });

  const leaseOwner = (sessionId: string) => leaseOwnerOf(runnerDb, sessionId);

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    transport = await transportEnv();
    runnerDb = testDatabaseUrl('runners');
    for (const id of ['runner-a', 'runner-b']) runners.set(id, await startRunner(transport, runnerEnv(id)));
    gw = await startGateway(transport, idp.env);
    client = new ApiClient(() => gw.url, idp, ORG);
  });

  afterAll(async () => {
    await gw?.close();
    for (const r of runners.values()) await r.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('routes every command to the runner that owns the session', async () => {
    const { id } = await client.linkSession(sandbox, '15551230001');
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push((await client.call(`/sessions/${id}/start`, { method: 'POST' })).status);
    expect(answers).toEqual(Array(12).fill(200));
    expect((await client.call(`/sessions/${id}/me`)).status).toBe(200);
  });

  it('moves a session to the surviving runner when its owner dies, without a new QR code', async () => {
    const { id, phone } = await client.linkSession(sandbox, '15551230002');
    const before = await leaseOwner(id);
    const survivor = [...runners.keys()].find((r) => r !== before.owner)!;
    await runners.get(before.owner)!.stop('SIGKILL');
    runners.delete(before.owner);

    const deadline = Date.now() + 20_000;
    let after = before;
    while (Date.now() < deadline) {
      after = await leaseOwner(id);
      const online = sandbox.listDevices().filter((d) => d.phone === phone && d.connected);
      if (after.owner === survivor && online.length === 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(after.owner).toBe(survivor);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    expect(sandbox.listDevices().filter((d) => d.phone === phone && d.connected)).toHaveLength(1);
    await expect(client.waitForStatus(id, ['connected'])).resolves.toMatchObject({ status: 'connected' });
    expect((await client.call(`/sessions/${id}/stop`, { method: 'POST' })).status).toBe(200);
  });
});

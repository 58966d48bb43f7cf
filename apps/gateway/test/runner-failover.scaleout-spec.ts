import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, startRunner, testDatabaseUrl, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv, sandboxRunnerEnv } from './harness';
import { ApiClient } from './session-fixture';
import { leaseOwner as leaseOwnerOf, UNPACED_GATEWAY } from './lease-fixture';

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

  // Default lease timing (LEASE_TTL_MS unset): the failover figures below are the product's own.
  const runnerEnv = (id: string): Record<string, string> => {
    const env = sandboxRunnerEnv(sandbox, { RUNNER_ID: id, DATABASE_URL: runnerDb });
    delete env.LEASE_TTL_MS;
    return env;
  };
  const CONTACT = '15551239999';

  /** Waits until `survivor` holds the session and its account has exactly one connected device; answers how long that took. */
  async function takenOverBy(id: string, phone: string, survivor: string, since: number, timeoutMs: number): Promise<number> {
    const deadline = since + timeoutMs;
    for (;;) {
      const lease = await leaseOwner(id);
      const online = sandbox.listDevices().filter((d) => d.phone === phone && d.connected);
      if (lease.owner === survivor && online.length === 1) return Date.now() - since;
      if (Date.now() > deadline) throw new Error(`session ${id} not on ${survivor} with one device within ${timeoutMs} ms (owner ${lease.owner}, ${online.length} online)`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const leaseOwner = (sessionId: string) => leaseOwnerOf(runnerDb, sessionId);

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    transport = await transportEnv();
    runnerDb = testDatabaseUrl('runners');
    for (const id of ['runner-a', 'runner-b']) runners.set(id, await startRunner(transport, runnerEnv(id)));
    gw = await startGateway(transport, { ...idp.env, ...UNPACED_GATEWAY });
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

  it('hands a session over at once when its runner stops gracefully', async () => {
    const { id, phone } = await client.linkSession(sandbox, '15551230003');
    const before = await leaseOwner(id);
    const survivor = [...runners.keys()].find((r) => r !== before.owner)!;
    const stoppedAt = Date.now();
    await runners.get(before.owner)!.stop('SIGTERM');
    runners.delete(before.owner);
    // Released on the way out, picked up at the survivor's next lease round (a third of LEASE_TTL_MS).
    const tookMs = await takenOverBy(id, phone, survivor, stoppedAt, 8_000);
    process.stdout.write(`graceful handover: connected on the survivor ${tookMs} ms after SIGTERM\n`);
    await expect(client.waitForStatus(id, ['connected'])).resolves.toMatchObject({ status: 'connected' });
    // Two runners again for the next test.
    runners.set(before.owner, await startRunner(transport, runnerEnv(before.owner)));
  });

  it('moves a session to the surviving runner within 20 s of its owner dying, and drains its outbox within 30 s', async () => {
    await sandbox.createPhone(CONTACT);
    const { id, phone } = await client.linkSession(sandbox, '15551230002');
    const before = await leaseOwner(id);
    const survivor = [...runners.keys()].find((r) => r !== before.owner)!;
    const queued: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await client.call(`/sessions/${id}/messages`, { method: 'POST', headers: { prefer: 'respond-async' }, body: { chat: `${CONTACT}@s.whatsapp.net`, type: 'text', text: `around the crash ${i}` } });
      queued.push(((await res.json()) as { waMessageId: string }).waMessageId);
    }
    const killedAt = Date.now();
    await runners.get(before.owner)!.stop('SIGKILL');
    runners.delete(before.owner);

    const tookMs = await takenOverBy(id, phone, survivor, killedAt, 20_000);
    process.stdout.write(`failover: connected on the survivor ${tookMs} ms after kill -9\n`);
    const after = await leaseOwner(id);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    await expect(client.waitForStatus(id, ['connected'])).resolves.toMatchObject({ status: 'connected' });
    for (const mid of queued) await sandbox.waitForReceived(CONTACT, (m) => m.id === mid, Math.max(1, killedAt + 30_000 - Date.now()));
    const copies = sandbox.received(CONTACT).filter((m) => queued.includes(m.id));
    expect(copies).toHaveLength(queued.length);
    expect((await client.call(`/sessions/${id}/stop`, { method: 'POST' })).status).toBe(200);
  });
});

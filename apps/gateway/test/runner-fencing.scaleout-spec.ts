import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { sandboxRunnerEnv, startGateway, startRunner, testDatabaseUrl, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { eventually, leaseRows, teardown, UNPACED_GATEWAY } from './lease-fixture';
import { ApiClient } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';
import { HANG_MS } from './deadlines';

/**
 * Scale-out only: a runner paused (SIGSTOP) past its leases, then woken (SIGCONT), while the
 * other runner took its sessions over. The woken runner must find its leases gone before it acts
 * on anything that piled up meanwhile: no status written, no reconnect, no second socket on any
 * account. Repeated in both directions.
 */
describe('a runner that wakes after losing its leases', () => {
  const ORG = 'org-fencing';
  const PHONES = ['15557010001', '15557010002', '15557010003', '15557010004'];
  const CONTACT = '15557019999';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  let runnerDb: string;
  let gw: GatewayHandle;
  let client: ApiClient;
  let receiver: WebhookReceiver;
  const runners = new Map<string, RunnerProcess>();
  const sessions: { id: string; phone: string }[] = [];

  const owners = async (): Promise<Map<string, string>> => {
    const rows = await leaseRows(runnerDb);
    return new Map(sessions.map((s) => [s.id, rows.get(s.id)?.owner ?? '']));
  };
  const device = (phone: string) => sandbox.listDevices().filter((d) => d.phone === phone);

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(CONTACT, 'Contact');
    receiver = await WebhookReceiver.start();
    transport = await transportEnv();
    runnerDb = testDatabaseUrl('runners');
    for (const id of ['runner-a', 'runner-b']) runners.set(id, await startRunner(transport, sandboxRunnerEnv(sandbox, { RUNNER_ID: id, DATABASE_URL: runnerDb })));
    gw = await startGateway(transport, { ...idp.env, ...UNPACED_GATEWAY, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    client = new ApiClient(() => gw.url, idp, ORG);
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: receiver.url, events: ['session.status'] } });
    receiver.secrets = [hook.secret];
    for (const phone of PHONES) sessions.push(await client.linkSession(sandbox, phone));
  });

  afterAll(async () => {
    for (const r of runners.values()) {
      if (r.child.exitCode === null) r.child.kill('SIGCONT');
      await r.stop();
    }
    await teardown(() => gw?.close(), () => receiver?.close(), () => sandbox?.stop(), () => idp?.close());
  });

  it.each([1, 2])('pause %i: the survivor takes every session over and the woken runner disturbs none of them', async () => {
    // The runner holding the most sessions (all of them after the first round) is paused.
    const before = await owners();
    const counts = new Map<string, number>();
    for (const owner of before.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    const paused = [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
    const survivor = [...runners.keys()].find((id) => id !== paused)!;
    const pausedIds = sessions.filter((s) => before.get(s.id) === paused);
    const pausedRunner = runners.get(paused)!;

    const pausedAt = Date.now();
    pausedRunner.child.kill('SIGSTOP');
    // Taken over: the survivor holds every lease and each account has one connected device again.
    await eventually(
      'the survivor to hold every session with one connected device each',
      async () => {
        const now = await owners();
        return sessions.every((s) => now.get(s.id) === survivor && device(s.phone).filter((d) => d.connected).length === 1);
      },
      60_000,
    );
    // The gateway may still show the paused runner's `connected` while the survivor's `starting`
    // is on its way: wait for the survivor's own `connected` of each session it took over.
    await eventually('the survivor to report each session it took over connected', () =>
      pausedIds.every((s) =>
        receiver.received.some((r) => r.body.type === 'session.status' && r.body.sessionId === s.id && r.body.data.status === 'connected' && Number(r.body.timestamp) >= pausedAt),
      ),
    );
    await Promise.all(sessions.map((s) => client.waitForStatus(s.id, ['connected'])));
    const logins = new Map(sessions.map((s) => [s.id, device(s.phone).reduce((n, d) => n + d.logins, 0)]));
    const wokeAt = Date.now();
    const outputBefore = pausedRunner.output().length;

    pausedRunner.child.kill('SIGCONT');
    // The woken runner fences each session it had held (logged with its id) ...
    await eventually('the woken runner to fence every session it had held', () => {
      const woken = pausedRunner.output().slice(outputBefore);
      return pausedIds.every((s) => woken.includes('lost the lease of a session') && woken.includes(s.id));
    });
    // ... and every session still works through the survivor: a sync send reaches the contact.
    for (const s of sessions) {
      const res = await client.call(`/sessions/${s.id}/messages`, { method: 'POST', body: { chat: `${CONTACT}@s.whatsapp.net`, type: 'text', text: `after wake ${s.id}` } });
      const sent = (await res.json()) as { waMessageId: string };
      // The body names the error when it is not a 200.
      expect({ status: res.status, body: res.status === 200 ? undefined : sent }).toEqual({ status: 200, body: undefined });
      await sandbox.waitForReceived(CONTACT, (m) => m.id === sent.waMessageId, HANG_MS);
    }

    const after = await owners();
    const woken = pausedRunner.output().slice(outputBefore);
    for (const s of sessions) {
      expect(after.get(s.id)).toBe(survivor);
      // No second socket: the account saw no login since the takeover, and one device is connected.
      expect(device(s.phone).reduce((n, d) => n + d.logins, 0)).toBe(logins.get(s.id));
      expect(device(s.phone).filter((d) => d.connected)).toHaveLength(1);
      expect((await client.json<{ status: string }>(`/sessions/${s.id}`)).status).toBe('connected');
    }
    expect(woken).not.toMatch(/resuming session/);
    // Nothing but `connected` was reported for these sessions since the woken runner came back.
    const statuses = receiver.received.filter((r) => r.body.type === 'session.status' && Number(r.body.timestamp) >= wokeAt);
    expect(statuses.map((r) => r.body.data.status).filter((st) => st !== 'connected')).toEqual([]);
  });
});

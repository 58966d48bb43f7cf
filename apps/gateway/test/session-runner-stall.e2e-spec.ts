import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { eventually, teardown } from './lease-fixture';
import { ApiClient, type SessionBody } from './session-fixture';
import { DataSource } from 'typeorm';
import { RunnerClient, isRunnerTimeout } from '../src/runner/runner-client';

/**
 * A runner whose event loop stalls past RUNNER_TIMEOUT_MS (as while many sessions pair at once
 * on a busy machine), made here by pausing its process (SIGSTOP) and waking it (SIGCONT): a
 * `GET /sessions/{id}/qr?waitMs=` asks it again while the caller still waits and answers the QR,
 * instead of 503 `session_unavailable` at the first unanswered call. And a hand-over to such a
 * runner keeps its outbox claim, renewed while it waits, however many claim lifetimes it takes.
 */
describe('waiting for a QR code from a runner that stalls', () => {
  const ORG = 'org-runner-stall';
  const RUNNER_TIMEOUT_MS = 1_000;
  /** The shortest claim allowed: renewed every third of it while a hand-over waits. */
  const CLAIM_TTL_MS = 1_000;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  /** Runner calls of the gateway that ended with "did not answer in time", seen, not altered. */
  let timedOut = 0;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    const transport = await transportEnv();
    // Leases outlast the pause: only the runner's answers are late, nothing is taken over.
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox, { LEASE_TTL_MS: '60000' }));
    gw = await startGateway(transport, { ...idp.env, RUNNER_TIMEOUT_MS: String(RUNNER_TIMEOUT_MS), OUTBOX_CLAIM_TTL_MS: String(CLAIM_TTL_MS) });
    client = new ApiClient(() => gw.url, idp, ORG);
    const runnerClient = gw.app.get(RunnerClient);
    const call = runnerClient.call.bind(runnerClient);
    runnerClient.call = (async (...args: Parameters<RunnerClient['call']>) => {
      try {
        return await call(...args);
      } catch (err) {
        if (isRunnerTimeout(err)) timedOut++;
        throw err;
      }
    }) as RunnerClient['call'];
  });

  afterAll(async () => {
    if (runner && runner.child.exitCode === null) runner.child.kill('SIGCONT');
    await teardown(() => gw?.close(), () => runner?.stop(), () => sandbox?.stop(), () => idp?.close());
  });

  it('answers qr?waitMs with the QR once the runner wakes, though a call to it timed out meanwhile', async () => {
    const { id } = await client.json<SessionBody>('/sessions', { method: 'POST', body: { name: 'stall' } });
    expect((await client.call(`/sessions/${id}/start`, { method: 'POST' })).status).toBe(200);
    const code = await client.waitForQr(id);

    runner.child.kill('SIGSTOP');
    let settled = false;
    const waited = client.call(`/sessions/${id}/qr?waitMs=60000`, { accept: 'application/json' }).finally(() => (settled = true));
    // Past RUNNER_TIMEOUT_MS: the gateway's call to the paused runner ran out (or, on a gateway
    // that does not ask again, the request already ended).
    await eventually('a runner call to time out while the runner is paused', () => timedOut > 0 || settled, 30_000);
    runner.child.kill('SIGCONT');

    const res = await waited;
    const body = (await res.json()) as { qr?: string };
    // The QR pending before the pause, or the next one if it was refreshed meanwhile.
    expect({ status: res.status, body }).toEqual({ status: 200, body: { qr: expect.stringMatching(/linked_devices#/) } });
    expect(code).toMatch(/linked_devices#/);
    expect(timedOut).toBeGreaterThan(0);
    await client.call(`/sessions/${id}/stop`, { method: 'POST' });
  });

  it('keeps the claim of a hand-over that waits for the paused runner past several claim lifetimes: the entry is handed over once', async () => {
    const CONTACT = '15550008802';
    const linked = await client.linkSession(sandbox, '15550008801');
    const contact = await sandbox.createPhone(CONTACT, 'Contact');
    const ds = gw.app.get(DataSource);
    const claimOf = async (id: string): Promise<{ attempts: number; expiresAt: number | null }> => {
      const sql = 'SELECT attempts, claim_expires_at AS at FROM outbox WHERE id = $1';
      const [row] = (await ds.query(ds.options.type === 'postgres' ? sql : sql.replace('$1', '?'), [id])) as { attempts: number; at: string | number | null }[];
      return { attempts: Number(row.attempts), expiresAt: row.at === null ? null : Number(row.at) };
    };

    runner.child.kill('SIGSTOP');
    try {
      const res = await client.call(`/sessions/${linked.id}/messages`, {
        method: 'POST',
        headers: { Prefer: 'respond-async' },
        body: { chat: contact.jid, type: 'text', text: 'held while the runner is paused' },
      });
      expect(res.status).toBe(202);
      const { outboxId, waMessageId } = (await res.json()) as { outboxId: string; waMessageId: string };
      const first = (await eventually('the entry to be claimed', async () => (await claimOf(outboxId)).expiresAt))!;
      // Renewed past three lifetimes of the first claim while the hand-over waits.
      await eventually('the claim to be renewed while the runner is paused', async () => ((await claimOf(outboxId)).expiresAt ?? 0) > first + 3 * CLAIM_TTL_MS);
      runner.child.kill('SIGCONT');
      await sandbox.waitForReceived(CONTACT, (m) => m.id === waMessageId, 60_000);
      // Claimed once: no second claim when the first outlived its lifetime.
      expect((await claimOf(outboxId)).attempts).toBe(1);
      expect(sandbox.received(CONTACT).filter((m) => m.id === waMessageId)).toHaveLength(1);
    } finally {
      runner.child.kill('SIGCONT');
    }
  });
});

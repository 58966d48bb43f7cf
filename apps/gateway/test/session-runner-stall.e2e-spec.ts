import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { eventually, teardown } from './lease-fixture';
import { ApiClient, type SessionBody } from './session-fixture';
import { RunnerClient, isRunnerTimeout } from '../src/runner/runner-client';

/**
 * A runner whose event loop stalls past RUNNER_TIMEOUT_MS (as while many sessions pair at once
 * on a busy machine), made here by pausing its process (SIGSTOP) and waking it (SIGCONT): a
 * `GET /sessions/{id}/qr?waitMs=` asks it again while the caller still waits and answers the QR,
 * instead of 503 `session_unavailable` at the first unanswered call.
 */
describe('waiting for a QR code from a runner that stalls', () => {
  const ORG = 'org-runner-stall';
  const RUNNER_TIMEOUT_MS = 1_000;
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
    gw = await startGateway(transport, { ...idp.env, RUNNER_TIMEOUT_MS: String(RUNNER_TIMEOUT_MS) });
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
});

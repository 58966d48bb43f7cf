import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { ApiClient, type SessionBody } from './session-fixture';
import { HANG_MS } from './deadlines';

interface StreamedEvent {
  type: string;
  sessionId: string;
  timestamp: number;
  data: { status?: string; reason?: string; qr?: string; expiresAt?: number };
}

/**
 * Waiting for a QR code (`GET .../qr?waitMs=`) and a QR nobody scans, end to end: the real
 * runner process and Baileys socket against the sandbox. Each QR lives QR_LIFETIME_MS here and
 * the sandbox hands out two refs per connection, so Baileys ends the socket with 408 after the
 * second; with QR_MAX_REFRESHES=1 the runner must then give up instead of reconnecting.
 */
describe('waiting for a QR code, and a QR nobody scans', () => {
  const ORG = 'org-qr-wait';
  const QR_LIFETIME_MS = 4_000;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;

  const create = async (): Promise<string> => (await client.json<SessionBody>('/sessions', { method: 'POST', body: { name: 'qr' } })).id;
  const start = async (id: string): Promise<void> => {
    const res = await client.call(`/sessions/${id}/start`, { method: 'POST' });
    expect(res.status).toBe(200);
  };
  const qr = (id: string, waitMs?: number | string): Promise<Response> =>
    client.call(`/sessions/${id}/qr${waitMs === undefined ? '' : `?waitMs=${waitMs}`}`, { accept: 'application/json' });

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await WaSandbox.create({ qrRefCount: 2 });
    await sandbox.start();
    transport = await transportEnv();
    // Many reconnects allowed: the last test keeps a session reconnecting to a sandbox that is gone.
    runner = await startRunner(
      transport,
      sandboxRunnerEnv(sandbox, { QR_MAX_REFRESHES: '1', WA_QR_TIMEOUT_MS: String(QR_LIFETIME_MS), WA_MAX_RECONNECTS: '1000' }),
    );
    gw = await startGateway(transport, idp.env);
    client = new ApiClient(() => gw.url, idp, ORG);
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('answers a wait begun right after start as soon as the QR arrives, and at once while one is pending', async () => {
    const id = await create();
    await start(id);
    const waited = await qr(id, 30_000);
    expect(waited.status).toBe(200);
    const { qr: code } = (await waited.json()) as { qr: string };
    expect(code).toMatch(/linked_devices#/);

    const startedAt = Date.now();
    const again = await qr(id, 60_000);
    expect(again.status).toBe(200);
    // Well under the minute asked for: a pending QR is answered without waiting.
    expect(Date.now() - startedAt).toBeLessThan(QR_LIFETIME_MS);
    await client.call(`/sessions/${id}/stop`, { method: 'POST' });
  });

  it('keeps the answer without waitMs as it was: 404 no_qr_pending when none is pending', async () => {
    const id = await create();
    const res = await qr(id);
    expect(res.status).toBe(404);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'not_found', details: { reason: 'no_qr_pending' } } });
  });

  it('answers 409 with the reason when the session is where no QR comes from', async () => {
    const id = await create();
    const res = await qr(id, 60_000);
    expect(res.status).toBe(409);
    await expect(res.json()).resolves.toMatchObject({
      error: { code: 'conflict', message: expect.stringMatching(/^session is stopped/), details: { reason: 'no_qr_expected', status: 'stopped' } },
    });
  });

  it.each(['-1', '60001', '1.5', 'soon', '1e3'])('refuses waitMs=%s with a validation error', async (value) => {
    const id = await create();
    const res = await qr(id, value);
    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'validation_error', details: { fields: [{ field: 'waitMs' }] } } });
  });

  it('gives up after QR_MAX_REFRESHES unscanned codes: failed with qr_timeout, no reconnect loop, true expiry times', async () => {
    const events: StreamedEvent[] = [];
    const abort = new AbortController();
    const stream = await client.call('/events?types=session.status,session.qr', { headers: { accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      abort.signal.addEventListener('abort', () => void reader.cancel());
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = buffer.slice(0, end).split('\n').find((l) => l.startsWith('data: '));
          buffer = buffer.slice(end + 2);
          if (data) events.push(JSON.parse(data.slice(6)) as StreamedEvent);
        }
      }
    })();

    try {
      const id = await create();
      await start(id);
      // A waiter stays through the refresh and learns of the failure when it happens.
      const first = await qr(id, 30_000);
      expect(first.status).toBe(200);
      const firstQr = ((await first.json()) as { qr: string }).qr;
      const failed = await client.waitForStatus(id, ['failed'], 4 * QR_LIFETIME_MS + 20_000);
      expect(failed.statusReason).toBe('qr_timeout');

      const waitedAfter = await qr(id, 60_000);
      expect(waitedAfter.status).toBe(409);
      await expect(waitedAfter.json()).resolves.toMatchObject({ error: { code: 'conflict', details: { status: 'failed', statusReason: 'qr_timeout' } } });

      const deadline = Date.now() + HANG_MS;
      while (!events.some((e) => e.sessionId === id && e.data.status === 'failed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const mine = events.filter((e) => e.sessionId === id);
      const qrs = mine.filter((e) => e.type === 'session.qr');
      // The first code and one refresh, nothing after the socket ran out of refs.
      expect(qrs).toHaveLength(2);
      for (const e of qrs) {
        // The event is recorded after the code was issued (its expiry counts from then): later by
        // whatever the machine's load adds, so the lower bound only tells a lifetime from none.
        expect(e.data.expiresAt).toBeGreaterThanOrEqual(e.timestamp + QR_LIFETIME_MS / 2);
        expect(e.data.expiresAt).toBeLessThanOrEqual(e.timestamp + QR_LIFETIME_MS + 1_000);
      }
      const statuses = mine.filter((e) => e.type === 'session.status').map((e) => e.data.status);
      expect(statuses).not.toContain('reconnecting');
      expect(statuses[statuses.length - 1]).toBe('failed');
      expect(mine.find((e) => e.data.status === 'failed')?.data.reason).toBe('qr_timeout');

      // A new start begins again with a new QR code.
      await start(id);
      const fresh = await qr(id, 30_000);
      expect(fresh.status).toBe(200);
      const freshQr = ((await fresh.json()) as { qr: string }).qr;
      expect(freshQr).not.toBe(firstQr);
      await client.call(`/sessions/${id}/stop`, { method: 'POST' });
    } finally {
      abort.abort();
      await reading;
    }
  });

  // Last: it takes the sandbox away, so that the session keeps reconnecting and no QR ever comes.
  it('answers 404 no_qr_pending when the wait is over and the QR is still on its way', async () => {
    await sandbox.stop();
    const id = await create();
    await start(id);
    const startedAt = Date.now();
    const res = await qr(id, 1_500);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_500);
    expect(res.status).toBe(404);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'not_found', details: { reason: 'no_qr_pending', status: expect.stringMatching(/^(starting|reconnecting)$/) } } });
    await client.call(`/sessions/${id}/stop`, { method: 'POST' });
  });
});

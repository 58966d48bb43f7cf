import { randomBytes } from 'node:crypto';
import { WaSandbox, type PhoneInfo } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, freePort, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { parsePrometheusText, sampleValue, type Sample } from './prometheus-text';
import { ApiClient } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

/**
 * Both apps' /metrics after real traffic: a linked session, sends through the outbox to the
 * sandbox, an incoming message delivered to a webhook receiver; then the scraped values must
 * have moved, and the gateway's endpoint must hold its token.
 */
describe('metrics (gateway + runner after real traffic)', () => {
  const ORG = 'org-metrics';
  const OWNER = '4917200000001';
  const CONTACT = '4917200000002';
  const TOKEN = randomBytes(32).toString('hex');
  const SEND_ROUTE = '/api/v1/sessions/:id/messages';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let receiver: WebhookReceiver;
  let runner: RunnerProcess;
  let runnerMetricsUrl: string;
  let gw: GatewayHandle;
  let client: ApiClient;
  let owner: PhoneInfo;
  let contact: PhoneInfo;
  let sessionId: string;

  const scrape = async (url: string, headers: Record<string, string> = {}): Promise<Sample[]> => {
    const res = await fetch(url, { headers });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };
  const scrapeGateway = () => scrape(`${gw.url}/metrics`, { authorization: `Bearer ${TOKEN}` });
  const scrapeRunner = () => scrape(runnerMetricsUrl);

  /** Scrapes until `check` holds (counters are written after the work they count), or says what it waited for. */
  async function scrapeUntil(source: () => Promise<Sample[]>, check: (s: Sample[]) => boolean, what: string): Promise<Sample[]> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const samples = await source();
      if (check(samples)) return samples;
      if (Date.now() > deadline) throw new Error(`metrics never showed ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await WaSandbox.create();
    await sandbox.start();
    owner = await sandbox.createPhone(OWNER, 'Owner');
    contact = await sandbox.createPhone(CONTACT, 'Contact');
    receiver = await WebhookReceiver.start();
    const transport = await transportEnv();
    const metricsPort = await freePort();
    runnerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox, { METRICS_PORT: String(metricsPort), METRICS_HOST: '127.0.0.1' }));
    gw = await startGateway(transport, {
      ...idp.env,
      METRICS_TOKEN: TOKEN,
      SEND_MIN_INTERVAL_MS: '0',
      SEND_JITTER_MS: '0',
      OUTBOX_POLL_INTERVAL_MS: '100',
      WEBHOOK_POLL_INTERVAL_MS: '50',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    client = new ApiClient(() => gw.url, idp, ORG);
    sessionId = (await client.linkSession(sandbox, OWNER, 'metrics')).id;
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: receiver.url, events: ['message.received'] } });
    receiver.secrets = [hook.secret];
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await receiver?.close();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('counts requests by route pattern, sends, deliveries and sessions on both apps, with process metrics', async () => {
    const sends = 2;
    for (let i = 0; i < sends; i++) {
      const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: contact.jid, type: 'text', text: `metered ${i}` } });
      expect(res.status).toBe(200);
      const { waMessageId } = (await res.json()) as { waMessageId: string };
      await sandbox.waitForReceived(CONTACT, (m) => m.id === waMessageId, 15_000);
    }
    const incoming = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'text', text: 'hello metrics' });
    await receiver.waitFor(() => receiver.received.some((r) => (r.body.data as { messageId?: string }).messageId === incoming.id), 15_000);

    const gateway = await scrapeUntil(scrapeGateway, (s) => (sampleValue(s, 'wa_gateway_webhook_deliveries_total', { outcome: 'delivered' }) ?? 0) >= 1, 'a delivered webhook');
    expect(sampleValue(gateway, 'wa_gateway_http_request_duration_seconds_count', { method: 'POST', route: SEND_ROUTE, status: '200' })).toBe(sends);
    expect(sampleValue(gateway, 'wa_gateway_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/webhooks', status: '201' })).toBe(1);
    // Labels carry the pattern only: no sample names the session id.
    expect(gateway.filter((s) => Object.values(s.labels).some((v) => v.includes(sessionId)))).toEqual([]);
    expect(sampleValue(gateway, 'wa_gateway_send_handover_seconds_count')).toBe(sends);
    expect(sampleValue(gateway, 'wa_gateway_webhook_delivery_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(gateway, 'wa_gateway_webhook_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(sampleValue(gateway, 'wa_gateway_events_recorded_total', { type: 'message.received' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(gateway, 'wa_gateway_sessions', { status: 'connected' })).toBe(1);
    expect(sampleValue(gateway, 'wa_gateway_outbox_entries', { status: 'queued' })).toBe(0);
    expect(sampleValue(gateway, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleValue(gateway, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    const run = await scrapeUntil(scrapeRunner, (s) => (sampleValue(s, 'wa_runner_messages_received_total', { type: 'text' }) ?? 0) >= 1, 'a received message');
    expect(sampleValue(run, 'wa_runner_sessions', { status: 'connected' })).toBe(1);
    expect(sampleValue(run, 'wa_runner_messages_sent_total', { type: 'text' })).toBe(sends);
    expect(sampleValue(run, 'wa_runner_decrypt_failures_total', { reason: 'decrypt_failed' })).toBe(0);
    // Linking by QR ends with the restart WhatsApp asks for, which is counted like any reconnect.
    expect(sampleValue(run, 'wa_runner_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(run, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(sampleValue(run, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('answers 401 in the error envelope without the metrics token or with a wrong one', async () => {
    const wrongTokens: (string | undefined)[] = [undefined, `Bearer ${TOKEN.slice(0, -1)}x`, `Bearer ${TOKEN}${TOKEN}`, TOKEN, `Basic ${TOKEN}`];
    for (const authorization of wrongTokens) {
      const res = await fetch(`${gw.url}/metrics`, { headers: authorization === undefined ? {} : { authorization } });
      expect(res.status).toBe(401);
      await expect(res.json()).resolves.toEqual({ error: { code: 'unauthorized', message: expect.any(String), details: expect.any(Object) } });
    }
    // An API login does not open it either: the metrics token is its own credential.
    const res = await fetch(`${gw.url}/metrics`, { headers: idp.headers(ORG, 'owner') });
    expect(res.status).toBe(401);
  });

  it('keeps /metrics out of the OpenAPI document and the runner listener to its two routes', async () => {
    const doc = (await (await fetch(`${gw.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.includes('metrics'))).toEqual([]);
    const other = await fetch(runnerMetricsUrl.replace('/metrics', '/elsewhere'));
    expect(other.status).toBe(404);
    await expect(other.json()).resolves.toEqual({ error: { code: 'not_found', message: expect.any(String), details: {} } });
    await expect((await fetch(runnerMetricsUrl.replace('/metrics', '/health'))).json()).resolves.toEqual({ status: 'ok' });
  });
});

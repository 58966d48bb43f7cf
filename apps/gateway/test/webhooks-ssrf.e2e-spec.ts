import { EventsService } from '../src/events/events.service';
import { WebhookDeliveryWorker } from '../src/webhooks/webhook-delivery.worker';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, testDatabaseUrl, transportEnv, type GatewayHandle } from './harness';
import { WebhookReceiver } from './webhook-receiver';
import { api, messageEvent, until } from './webhooks-helpers';
import { HANG_MS } from './deadlines';

interface Delivery {
  eventId: string;
  attempts: { error: string | null; statusCode: number | null }[];
}

describe(`${WebhookDeliveryWorker.name} SSRF protection`, () => {
  let idp: TestIdentityProvider;
  let permissive: GatewayHandle;
  let strict: GatewayHandle;
  let receiver: WebhookReceiver;
  const org = 'ssrf-org';

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    // Listening on :: catches IPv4 and IPv6 loopback alike, so any connection would be counted.
    receiver = await WebhookReceiver.start('::');
    const shared = { ...idp.env, DATABASE_URL: testDatabaseUrl('ssrf'), WEBHOOK_RETRY_SCHEDULE_MS: '0,50', WEBHOOK_POLL_INTERVAL_MS: '50' };
    // One replica only writes the corpus (it may, and it sends nothing); the other delivers with private networks refused.
    permissive = await startGateway(await transportEnv(), { ...shared, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_WORKER: 'false' });
    strict = await startGateway(await transportEnv(), { ...shared, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
  });

  afterAll(async () => {
    await strict?.close();
    await permissive?.close();
    await receiver?.close();
    await idp?.close();
    await dropTestSchemas();
  });

  const port = (): number => receiver.port;
  const literalCorpus = (): string[] => [
    `http://127.0.0.1:${port()}/hook`,
    `http://10.0.0.1:${port()}/hook`,
    'http://169.254.169.254/latest/meta-data/',
    `http://[::1]:${port()}/hook`,
    `http://[::ffff:127.0.0.1]:${port()}/hook`,
    `http://2130706433:${port()}/hook`,
    `http://0x7f000001:${port()}/hook`,
    `http://0177.0.0.1:${port()}/hook`,
    `http://0.0.0.0:${port()}/hook`,
  ];

  it('refuses private, loopback and encoded addresses at create time with a clear 400', async () => {
    for (const url of literalCorpus()) {
      const res = await api<{ error: { code: string; message: string } }>(strict, idp, org, 'POST', '/webhooks', { url, events: ['*'] });
      expect([url, res.status]).toEqual([url, 400]);
      expect(res.body.error.message).toMatch(/private, loopback, link-local/);
    }
    expect(receiver.connections).toBe(0);
  });

  it('makes zero connections to any of the corpus, judged on the resolved address at connect time', async () => {
    const corpus = [...literalCorpus(), `http://localhost:${port()}/hook`];
    const ids: string[] = [];
    for (const url of corpus) {
      const res = await api<{ id: string }>(permissive, idp, org, 'POST', '/webhooks', { url, events: ['*'] });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // A name is accepted at create time; what it resolves to is what gets refused.
    expect((await api(strict, idp, org, 'POST', '/webhooks', { url: `http://localhost:${port()}/x`, events: ['*'] })).status).toBe(201);

    const [event] = await strict.app.get(EventsService).publish(messageEvent(org, 's'));
    for (const id of ids) {
      const attempts = await until(async () => {
        const res = await api<{ data: Delivery[] }>(strict, idp, org, 'GET', `/webhooks/${id}/deliveries`);
        // The message's own delivery: once refusals disable an endpoint, its `webhook.disabled` event is newer.
        const a = res.body.data.find((d) => d.eventId === event.id)?.attempts ?? [];
        return a.length > 0 ? a : undefined;
      }, HANG_MS);
      expect(attempts[0].statusCode).toBeNull();
      expect(attempts[0].error).toMatch(/^refused/);
    }
    expect(receiver.connections).toBe(0);
    expect(receiver.requests).toBe(0);
  });
});

import { EventsRepository } from '../src/events/events.repository';
import { EventsService } from '../src/events/events.service';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, transportEnv, type GatewayHandle } from './harness';
import { WebhookReceiver } from './webhook-receiver';
import { api, messageEvent, until } from './webhooks-helpers';

const DAY_MS = 86_400_000;
const RETENTION_DAYS = 7;

interface Delivery {
  eventId: string;
  status: string;
  attemptCount: number;
}

describe(`${EventsService.name} retention`, () => {
  let idp: TestIdentityProvider;
  let gw: GatewayHandle;
  let events: EventsService;
  let stored: EventsRepository;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    gw = await startGateway(await transportEnv(), {
      ...idp.env,
      EVENT_RETENTION_DAYS: String(RETENTION_DAYS),
      // A failed first attempt leaves its delivery pending for an hour, well past the test.
      WEBHOOK_RETRY_SCHEDULE_MS: '0,3600000',
      WEBHOOK_POLL_INTERVAL_MS: '50',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    });
    events = gw.app.get(EventsService);
    stored = gw.app.get(EventsRepository);
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all(receivers.map((r) => r.close()));
    await idp?.close();
    await dropTestSchemas();
  });

  async function endpoint(org: string, status: number): Promise<string> {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    r.behaviour = () => ({ status });
    const res = await api<{ id: string; secret: string }>(gw, idp, org, 'POST', '/webhooks', { url: r.url, events: ['message.received'] });
    expect(res.status).toBe(201);
    r.secrets.push(res.body.secret);
    return res.body.id;
  }

  async function settled(org: string, webhookId: string, eventId: string): Promise<Delivery> {
    return until(async () => {
      const res = await api<{ data: Delivery[] }>(gw, idp, org, 'GET', `/webhooks/${webhookId}/deliveries`);
      return res.body.data.find((d) => d.eventId === eventId && d.attemptCount > 0);
    });
  }

  const storedIds = async (org: string): Promise<string[]> => (await stored.listAfter(org, 0, 100)).map((e) => e.id);

  it('prunes events past retention once delivered, and keeps those an enabled endpoint still waits for', async () => {
    const [delivered, waiting, unsubscribed] = ['org-retention-delivered', 'org-retention-waiting', 'org-retention-none'];
    const deliveredHook = await endpoint(delivered, 204);
    const waitingHook = await endpoint(waiting, 500);

    const [done] = await events.publish(messageEvent(delivered, 'sess-1'));
    const [pending] = await events.publish(messageEvent(waiting, 'sess-1'));
    const [unwatched] = await events.publish(messageEvent(unsubscribed, 'sess-1'));
    expect(await settled(delivered, deliveredHook, done.id)).toMatchObject({ status: 'delivered' });
    expect(await settled(waiting, waitingHook, pending.id)).toMatchObject({ status: 'pending' });

    // Within retention nothing goes, delivered or not.
    await expect(events.prune(Date.now() + (RETENTION_DAYS - 1) * DAY_MS)).resolves.toBe(0);
    expect(await storedIds(delivered)).toEqual([done.id]);
    expect(await storedIds(unsubscribed)).toEqual([unwatched.id]);

    await expect(events.prune(Date.now() + (RETENTION_DAYS + 1) * DAY_MS)).resolves.toBe(2);
    expect(await storedIds(delivered)).toEqual([]);
    expect(await storedIds(unsubscribed)).toEqual([]);
    expect(await storedIds(waiting)).toEqual([pending.id]);
  });
});

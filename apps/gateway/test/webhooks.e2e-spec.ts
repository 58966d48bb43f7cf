import type { EventInput, EventType } from '@wa/contracts';
import { EventsService } from '../src/events/events.service';
import { WebhooksController } from '../src/webhooks/webhooks.controller';
import { WebhooksRepository, type DeliveryJob } from '../src/webhooks/webhooks.repository';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, testDatabaseUrl, transportEnv, type GatewayHandle, type TransportEnv } from './harness';
import { WebhookReceiver } from './webhook-receiver';
import { api, messageEvent, until } from './webhooks-helpers';

interface Hook {
  id: string;
  secret: string;
  url: string;
  status: string;
  disabledReason: string | null;
}
interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  sessionId: string | null;
  status: string;
  attemptCount: number;
  attempts: { statusCode: number | null; error: string | null; responseBody: string | null; latencyMs: number; attemptedAt: number }[];
}

const FAST_RETRIES = { WEBHOOK_RETRY_SCHEDULE_MS: '0,100,100,100,100', WEBHOOK_POLL_INTERVAL_MS: '50', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };

describe(WebhooksController.name, () => {
  let transport: TransportEnv;
  let idp: TestIdentityProvider;
  let gw: GatewayHandle;
  let events: EventsService;
  const receivers: WebhookReceiver[] = [];
  let orgSeq = 0;
  const newOrg = (): string => `org-${process.pid}-${++orgSeq}`;

  async function receiver(): Promise<WebhookReceiver> {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    return r;
  }

  async function hook(org: string, r: WebhookReceiver, body: Record<string, unknown> = {}): Promise<Hook> {
    const res = await api<Hook>(gw, idp, org, 'POST', '/webhooks', { url: r.url, events: ['*'], ...body });
    expect(res.status).toBe(201);
    r.secrets.push(res.body.secret);
    return res.body;
  }

  beforeAll(async () => {
    transport = await transportEnv();
    idp = await TestIdentityProvider.start();
    gw = await startGateway(transport, { ...idp.env, ...FAST_RETRIES });
    events = gw.app.get(EventsService);
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all(receivers.map((r) => r.close()));
    await idp?.close();
    await dropTestSchemas();
  });

  describe('endpoints', () => {
    it('returns the secret once; the list never shows secrets or another org’s webhooks', async () => {
      const [a, b] = [newOrg(), newOrg()];
      const r = await receiver();
      const created = await hook(a, r, { description: 'crm', events: ['message.received', 'session.status'] });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      await hook(b, r);
      const list = await api<{ data: Record<string, unknown>[]; nextCursor: string }>(gw, idp, a, 'GET', '/webhooks');
      expect(list.status).toBe(200);
      expect(list.body.nextCursor).toBe('');
      expect(list.body.data.map((w) => w.id)).toEqual([created.id]);
      expect(list.text).not.toContain('whsec_');
      expect(list.body.data[0]).toMatchObject({ url: r.url, events: ['message.received', 'session.status'], description: 'crm', status: 'enabled' });
      const one = await api(gw, idp, a, 'GET', `/webhooks/${created.id}`);
      expect(one.text).not.toContain('whsec_');
    });

    it('refuses callers without manage with 403 forbidden', async () => {
      const org = newOrg();
      for (const [method, path] of [['GET', '/webhooks'], ['POST', '/webhooks'], ['GET', '/webhooks/01J00000000000000000000000']]) {
        const res = await api(gw, idp, org, method, path, method === 'POST' ? { url: 'http://127.0.0.1:1/', events: ['*'] } : undefined, 'member');
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ error: { code: 'forbidden' } });
      }
    });

    it('answers another org’s webhook exactly like a missing one on every route', async () => {
      const [owner, other] = [newOrg(), newOrg()];
      const created = await hook(owner, await receiver());
      const missing = '01J00000000000000000000000';
      const routes: [string, string, unknown?][] = [
        ['GET', ''],
        ['PATCH', '', { description: 'x' }],
        ['DELETE', ''],
        ['POST', '/rotate-secret'],
        ['POST', '/test'],
        ['POST', '/enable'],
        ['GET', '/deliveries'],
        ['POST', `/deliveries/${missing}/replay`],
      ];
      for (const [method, suffix, body] of routes) {
        const foreign = await api(gw, idp, other, method, `/webhooks/${created.id}${suffix}`, body);
        const absent = await api(gw, idp, other, method, `/webhooks/${missing}${suffix}`, body);
        expect(foreign.status).toBe(404);
        expect(foreign.text).toBe(absent.text);
      }
      expect((await api(gw, idp, owner, 'GET', `/webhooks/${created.id}`)).status).toBe(200);
    });

    it.each([
      [{ url: 'ftp://example.com/', events: ['*'] }, 'url'],
      [{ url: 'not a url', events: ['*'] }, 'url'],
      [{ url: 'https://example.com/', events: [] }, 'events'],
      [{ url: 'https://example.com/', events: ['message.exploded'] }, 'events[0]'],
    ])('answers a bad body %j with 400 naming %s', async (body, field) => {
      const res = await api<{ error: { code: string; details: { fields: { field: string }[] } } }>(gw, idp, newOrg(), 'POST', '/webhooks', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.details.fields.map((f) => f.field)).toContain(field);
    });

    it('updates, deletes, and pages the delivery log', async () => {
      const org = newOrg();
      const r = await receiver();
      const created = await hook(org, r);
      const patched = await api(gw, idp, org, 'PATCH', `/webhooks/${created.id}`, { events: ['message.received'], sessionIds: ['s1'] });
      expect(patched.body).toMatchObject({ events: ['message.received'], sessionIds: ['s1'] });
      await events.publish([messageEvent(org, 's1'), messageEvent(org, 's2'), messageEvent(org, 's1'), messageEvent(org, 's1')]);
      await r.waitFor(() => r.received.length === 3);
      // The receiver has answered; the attempts' results are written just after, so wait for the log to show them.
      const page1 = await until(async () => {
        const res = await api<{ data: Delivery[]; nextCursor: string }>(gw, idp, org, 'GET', `/webhooks/${created.id}/deliveries?limit=2`);
        return res.body.data.length === 2 && res.body.data.every((d) => d.status === 'delivered') ? res : undefined;
      });
      expect(page1.body.data).toHaveLength(2);
      expect(page1.body.nextCursor).not.toBe('');
      const page2 = await api<{ data: Delivery[]; nextCursor: string }>(gw, idp, org, 'GET', `/webhooks/${created.id}/deliveries?limit=2&cursor=${page1.body.nextCursor}`);
      expect(page2.body.data).toHaveLength(1);
      expect(page2.body.nextCursor).toBe('');
      expect(page1.body.data[0].attempts[0]).toMatchObject({ statusCode: 204, error: null });
      expect((await api(gw, idp, org, 'DELETE', `/webhooks/${created.id}`)).status).toBe(204);
      expect((await api(gw, idp, org, 'GET', `/webhooks/${created.id}`)).status).toBe(404);
    });
  });

  describe('delivery', () => {
    it('delivers every event type signed, verifiable, with the documented envelope', async () => {
      const org = newOrg();
      const r = await receiver();
      await hook(org, r);
      const jid = { jid: '491701234567@s.whatsapp.net', pn: '491701234567@s.whatsapp.net', lid: '123@lid' };
      const base = { messageId: 'M1', chat: jid, sender: jid, fromMe: false, timestamp: 1 };
      const inputs: EventInput[] = [
        messageEvent(org, 'sess'),
        { orgId: org, sessionId: 'sess', type: 'message.status', occurredAt: Date.now(), data: { messageId: 'M1', chat: jid, status: 'read' } },
        { orgId: org, sessionId: 'sess', type: 'message.reaction', occurredAt: Date.now(), data: { ...base, targetMessageId: 'M0', emoji: '👍' } },
        { orgId: org, sessionId: 'sess', type: 'message.edited', occurredAt: Date.now(), data: { ...base, targetMessageId: 'M0', content: { text: 'x' } } },
        { orgId: org, sessionId: 'sess', type: 'message.deleted', occurredAt: Date.now(), data: { ...base, targetMessageId: 'M0' } },
        { orgId: org, sessionId: 'sess', type: 'poll.vote', occurredAt: Date.now(), data: { ...base, pollMessageId: 'P1', voter: jid, selectedOptions: ['Tue'] } },
        { orgId: org, sessionId: 'sess', type: 'session.status', occurredAt: Date.now(), data: { status: 'connected', me: { jid: jid.jid, lid: jid.lid } } },
        { orgId: org, sessionId: 'sess', type: 'session.qr', occurredAt: Date.now(), data: { qr: '2@abc', expiresAt: Date.now() + 20_000 } },
      ];
      const published = await events.publish(inputs);
      await r.waitFor(() => r.received.length === inputs.length);
      expect(r.rejected).toEqual([]);
      expect(r.received.map((x) => x.body.type)).toEqual(inputs.map((i) => i.type));
      for (const [i, got] of r.received.entries()) {
        expect(got.body).toEqual({ ...published[i], data: inputs[i].data });
        expect(got.headers['webhook-id']).toBe(published[i].id);
        expect(got.body.sequence).toBe(i + 1);
      }
    });

    it('dedupes by sourceId and keeps sequences gap-free', async () => {
      const org = newOrg();
      const first = await events.publish({ ...messageEvent(org, 's'), sourceId: 'runner-1' });
      const again = await events.publish([{ ...messageEvent(org, 's'), sourceId: 'runner-1' }, messageEvent(org, 's')]);
      expect(again[0]).toEqual(first[0]);
      expect(again[1].sequence).toBe(2);
    });

    it('delivers everything in order per session, without gaps, after the receiver was down for a while', async () => {
      const org = newOrg();
      const r = await receiver();
      // Down for the first three requests, then back: counted rather than timed, since with five
      // attempts 100 ms apart any fixed outage could outlast the whole schedule on a slow machine
      // and disable the endpoint. Three refusals are fewer than any one delivery's five attempts.
      let refused = 0;
      r.behaviour = () => (refused < 3 ? (refused++, { status: 503, body: 'maintenance' }) : { status: 200, body: 'ok' });
      await hook(org, r);
      const sessions = ['a', 'b', 'c'];
      for (let round = 0; round < 10; round++) await events.publish(sessions.map((s) => messageEvent(org, s)));
      await r.waitFor(() => r.received.length === 30);
      expect(refused).toBe(3);
      for (const s of sessions) {
        expect(r.received.filter((x) => x.body.sessionId === s).map((x) => x.body.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      }
    });

    it('sends a run claimed at once; a failure in it holds the rest, unattempted, until it goes through', async () => {
      const org = newOrg();
      const r = await receiver();
      const tried: string[] = [];
      let failed = false;
      let third = '';
      r.behaviour = (req) => {
        const id = String(req.headers['webhook-id']);
        tried.push(id);
        if (id === third && !failed) {
          failed = true;
          return { status: 500 };
        }
        return { status: 204 };
      };
      const h = await hook(org, r);
      const repo = gw.app.get(WebhooksRepository);
      const claimed: DeliveryJob[][] = [];
      const claim = jest.spyOn(repo, 'claim').mockImplementation(async function (this: WebhooksRepository, ...args) {
        const jobs = await WebhooksRepository.prototype.claim.apply(this, args);
        claimed.push(jobs.filter((j) => j.webhookId === h.id));
        return jobs;
      });
      // The publisher may claim them for the worker in its own transaction instead (a hand-over).
      const fanOut = jest.spyOn(repo, 'createDeliveries').mockImplementation(async function (this: WebhooksRepository, ...args) {
        const result = await WebhooksRepository.prototype.createDeliveries.apply(this, args);
        claimed.push(result.claimed.filter((j) => j.webhookId === h.id));
        return result;
      });
      try {
        const published = await events.publish(Array.from({ length: 6 }, () => messageEvent(org, 'run')));
        const ids = published.map((e) => e.id);
        third = ids[2];
        await r.waitFor(() => r.received.length === 6);
        // One claim (or the publisher's hand-over) brought the whole run (one database round trip for six deliveries, not six).
        expect(claimed.find((c) => c.length > 0)?.map((j) => j.event.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
        // #4 was never tried before #3 went through, and nothing was sent twice but #3.
        expect(tried).toEqual([ids[0], ids[1], ids[2], ids[2], ids[3], ids[4], ids[5]]);
        expect(r.received.map((x) => x.body.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
        const log = await until(async () => {
          const res = await api<{ data: Delivery[] }>(gw, idp, org, 'GET', `/webhooks/${h.id}/deliveries`);
          return res.body.data.length === 6 && res.body.data.every((d) => d.status === 'delivered') ? res.body.data : undefined;
        });
        // The deliveries handed back behind the failure count no attempt of their own.
        const attemptsBySeq = Object.fromEntries(log.map((d) => [ids.indexOf(d.eventId) + 1, d.attempts.length]));
        expect(attemptsBySeq).toEqual({ 1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1 });
      } finally {
        claim.mockRestore();
        fanOut.mockRestore();
      }
    });

    it('retries after 500s with the same webhook-id and logs every attempt', async () => {
      const org = newOrg();
      const r = await receiver();
      const seen: string[] = [];
      r.behaviour = (req, attempt) => {
        seen.push(String(req.headers['webhook-id']));
        return attempt < 3 ? { status: 500, body: 'boom '.repeat(400) } : { status: 200, body: 'fine' };
      };
      const h = await hook(org, r);
      const [event] = await events.publish(messageEvent(org, 's'));
      await r.waitFor(() => r.received.length === 1);
      expect(seen).toEqual([event.id, event.id, event.id]);
      const log = await until(async () => {
        const res = await api<{ data: Delivery[] }>(gw, idp, org, 'GET', `/webhooks/${h.id}/deliveries`);
        return res.body.data[0]?.status === 'delivered' ? res.body.data[0] : undefined;
      });
      expect(log.attempts.map((a) => a.statusCode)).toEqual([500, 500, 200]);
      expect(log.attempts[0].error).toBe('HTTP 500');
      expect(log.attempts[0].responseBody).toHaveLength(1024);
      expect(log.attempts[2].responseBody).toBe('fine');
    });

    it('waits as long as Retry-After says on 429', async () => {
      const org = newOrg();
      const r = await receiver();
      const times: number[] = [];
      r.behaviour = (_req, attempt) => {
        times.push(Date.now());
        return attempt === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 };
      };
      await hook(org, r);
      await events.publish(messageEvent(org, 's'));
      await r.waitFor(() => r.received.length === 1);
      expect(times[1] - times[0]).toBeGreaterThanOrEqual(950);
    });

    it('disables an endpoint that answers 410 at once, announces it, and resumes on enable', async () => {
      const org = newOrg();
      const [gone, watcher] = [await receiver(), await receiver()];
      let status = 410;
      gone.behaviour = () => ({ status });
      const h = await hook(org, gone);
      await hook(org, watcher, { events: ['webhook.disabled'] });
      await events.publish([messageEvent(org, 's'), messageEvent(org, 's')]);
      await watcher.waitFor(() => watcher.received.length === 1);
      expect(watcher.received[0].body).toMatchObject({ type: 'webhook.disabled', sessionId: null, sequence: 0, data: { webhookId: h.id, reason: 'gone' } });
      expect(gone.requests).toBe(1);
      const state = await api<Hook>(gw, idp, org, 'GET', `/webhooks/${h.id}`);
      expect(state.body).toMatchObject({ status: 'disabled', disabledReason: 'gone' });
      status = 200;
      expect((await api<Hook>(gw, idp, org, 'POST', `/webhooks/${h.id}/enable`)).body.status).toBe('enabled');
      await gone.waitFor(() => gone.received.length === 2);
      expect(gone.received.map((x) => x.body.sequence)).toEqual([1, 2]);
    });

    it('disables an endpoint after the retry schedule is exhausted and publishes webhook.disabled', async () => {
      const org = newOrg();
      const [failing, watcher] = [await receiver(), await receiver()];
      failing.behaviour = () => ({ status: 500 });
      const h = await hook(org, failing);
      await hook(org, watcher, { events: ['webhook.disabled'] });
      await events.publish(messageEvent(org, 's'));
      await watcher.waitFor(() => watcher.received.length === 1);
      expect(failing.requests).toBe(5);
      expect(watcher.received[0].body.data).toEqual({ webhookId: h.id, reason: 'failing' });
      expect((await api<Hook>(gw, idp, org, 'GET', `/webhooks/${h.id}`)).body).toMatchObject({ status: 'disabled', disabledReason: 'failing' });
    });

    it('signs with both secrets for a day after rotation; a receiver with either verifies', async () => {
      const org = newOrg();
      const r = await receiver();
      const h = await hook(org, r);
      const rotated = await api<{ secret: string; previousSecretExpiresAt: number }>(gw, idp, org, 'POST', `/webhooks/${h.id}/rotate-secret`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.previousSecretExpiresAt).toBeGreaterThan(Date.now() + 23 * 3_600_000);
      r.secrets = [h.secret, rotated.body.secret];
      await events.publish(messageEvent(org, 's'));
      await r.waitFor(() => r.received.length === 1);
      expect(r.received[0].headers['webhook-signature'].split(' ')).toHaveLength(2);
      expect(r.received[0].verifiedWith).toEqual([0, 1]);
    });

    it('pings only the tested endpoint and replays a delivery with the same webhook-id', async () => {
      const org = newOrg();
      const [target, bystander] = [await receiver(), await receiver()];
      const h = await hook(org, target);
      const other = await hook(org, bystander);
      const ping = await api<Delivery>(gw, idp, org, 'POST', `/webhooks/${h.id}/test`);
      expect(ping.status).toBe(202);
      await target.waitFor(() => target.received.length === 1);
      expect(target.received[0].body).toMatchObject({ type: 'webhook.ping', data: { webhookId: h.id } });
      const replay = await api<Delivery>(gw, idp, org, 'POST', `/webhooks/${h.id}/deliveries/${ping.body.id}/replay`);
      expect(replay.status).toBe(202);
      await target.waitFor(() => target.received.length === 2);
      expect(target.received[1].id).toBe(target.received[0].id);
      // Deliveries are written in the publishing transaction, so an empty log for the bystander
      // now proves nothing will ever be sent to it (no need to wait and see).
      expect((await api<{ data: Delivery[] }>(gw, idp, org, 'GET', `/webhooks/${other.id}/deliveries`)).body.data).toEqual([]);
      expect(bystander.requests).toBe(0);
    });

    it('filters by session and event type', async () => {
      const org = newOrg();
      const r = await receiver();
      const h = await hook(org, r, { events: ['session.status'], sessionIds: ['wanted'] });
      const status = (sessionId: string): EventInput => ({ orgId: org, sessionId, type: 'session.status' as EventType, occurredAt: Date.now(), data: { status: 'connected' } });
      await events.publish([status('other'), messageEvent(org, 'wanted'), status('wanted')]);
      await r.waitFor(() => r.received.length === 1);
      // The filter is applied when the deliveries are written (in the publishing transaction): the
      // log holding only the wanted one proves nothing else is on its way.
      const log = await api<{ data: Delivery[] }>(gw, idp, org, 'GET', `/webhooks/${h.id}/deliveries`);
      expect(log.body.data.map((d) => [d.eventType, d.sessionId])).toEqual([['session.status', 'wanted']]);
      expect(r.received.map((x) => [x.body.type, x.body.sessionId])).toEqual([['session.status', 'wanted']]);
      expect(r.requests).toBe(1);
    });
  });

  describe('two replicas on one database', () => {
    it('deliver each event exactly once', async () => {
      const url = testDatabaseUrl('replicas');
      const env = { ...idp.env, ...FAST_RETRIES, DATABASE_URL: url };
      const a = await startGateway(await transportEnv(), env);
      // Each replica needs its own runner-events listener address over TCP.
      const b = await startGateway(await transportEnv(), env);
      let closed = false;
      try {
        const org = newOrg();
        const r = await receiver();
        const created = await api<Hook>(a, idp, org, 'POST', '/webhooks', { url: r.url, events: ['*'] });
        r.secrets.push(created.body.secret);
        const [pa, pb] = [a.app.get(EventsService), b.app.get(EventsService)];
        for (let i = 0; i < 20; i++) {
          await Promise.all([pa.publish([messageEvent(org, 'x'), messageEvent(org, 'y')]), pb.publish([messageEvent(org, 'x'), messageEvent(org, 'z')])]);
        }
        await r.waitFor(() => r.received.length >= 80);
        // Exactly once: stop both replicas (each lets its in-flight requests finish), after which
        // nothing can be sent at all, instead of waiting a while for a duplicate that may be late.
        closed = true;
        await Promise.all([a.close(), b.close()]);
        expect(r.received).toHaveLength(80);
        expect(new Set(r.ids()).size).toBe(80);
        for (const s of ['x', 'y', 'z']) {
          const seqs = r.received.filter((x) => x.body.sessionId === s).map((x) => x.body.sequence);
          expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
        }
      } finally {
        if (!closed) await Promise.all([a.close(), b.close()]);
      }
    });
  });
});

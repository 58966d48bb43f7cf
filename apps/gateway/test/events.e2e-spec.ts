import type { EventInput } from '@wa/contracts';
import { EventsController } from '../src/events/events.controller';
import { EventsService } from '../src/events/events.service';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, transportEnv, type GatewayHandle } from './harness';
import { messageEvent } from './webhooks-helpers';
import { HANG_MS } from './deadlines';

interface SseMessage {
  id: string;
  event: string;
  data: { id: string; type: string; sequence: number; orgId: string; sessionId: string | null };
}

/** Reads an SSE response until `count` messages arrived (or the timeout), then closes it. */
class SseClient {
  readonly messages: SseMessage[] = [];
  comments = 0;
  private buffer = '';
  private readonly controller = new AbortController();
  status = 0;
  private readonly done: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    this.done = this.run(url, headers).catch(() => undefined);
  }

  private async run(url: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(url, { headers, signal: this.controller.signal });
    this.status = res.status;
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      this.buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = this.buffer.indexOf('\n\n')) >= 0) {
        const block = this.buffer.slice(0, cut);
        this.buffer = this.buffer.slice(cut + 2);
        if (block.startsWith(':')) this.comments++;
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        if (fields.data) this.messages.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) as SseMessage['data'] });
      }
    }
  }

  async waitFor(count: number, timeoutMs = HANG_MS): Promise<void> {
    await this.until(() => this.messages.length >= count, () => `got ${this.messages.length} of ${count} messages`, timeoutMs);
  }

  /**
   * The server fixes where a fresh stream starts before it answers, so once the headers are here
   * every event published afterwards is in the stream.
   */
  async opened(timeoutMs = HANG_MS): Promise<void> {
    await this.until(() => this.status !== 0, () => 'the stream never answered', timeoutMs);
  }

  async until(condition: () => boolean, failure: () => string, timeoutMs = HANG_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(failure());
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

describe(EventsController.name, () => {
  let idp: TestIdentityProvider;
  let gw: GatewayHandle;
  let events: EventsService;

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    gw = await startGateway(await transportEnv(), { ...idp.env, EVENTS_SSE_HEARTBEAT_MS: '200', EVENTS_SSE_POLL_INTERVAL_MS: '100' });
    events = gw.app.get(EventsService);
  });

  afterAll(async () => {
    await gw?.close();
    await idp?.close();
    await dropTestSchemas();
  });

  const stream = (org: string, query = '', lastEventId?: string): SseClient => {
    const headers: Record<string, string> = { authorization: `Bearer ${idp.token(org, 'member')}` };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    return new SseClient(`${gw.url}/api/v1/events${query}`, headers);
  };

  it('refuses a missing token with 401 in the error envelope', async () => {
    const res = await fetch(`${gw.url}/api/v1/events`);
    expect(res.status).toBe(401);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('answers unknown type filters with 400 before streaming', async () => {
    const res = await fetch(`${gw.url}/api/v1/events?types=nope`, { headers: { authorization: `Bearer ${idp.token('o', 'member')}` } });
    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'validation_error' } });
  });

  it("streams the org's live events only, with heartbeats, and resumes after Last-Event-ID without loss or duplicates", async () => {
    const [org, other] = ['sse-org', 'sse-other'];
    const first = stream(org);
    await first.opened();
    const a = await events.publish([messageEvent(org, 's1'), messageEvent(other, 's1'), messageEvent(org, 's2')]);
    await first.waitFor(2);
    expect(first.status).toBe(200);
    expect(first.messages.map((m) => m.id)).toEqual([a[0].id, a[2].id]);
    expect(first.messages[0]).toMatchObject({ event: 'message.received', data: { id: a[0].id, orgId: org, sessionId: 's1', sequence: 1 } });
    // Heartbeats every 200 ms here: wait for one rather than for a time that a slow machine may not give it.
    await first.until(() => first.comments > 0, () => 'no heartbeat comment arrived');
    await first.close();

    const missed = await events.publish([messageEvent(org, 's1'), messageEvent(org, 's1')]);
    const resumed = stream(org, '', a[2].id);
    await resumed.waitFor(2);
    const live = await events.publish(messageEvent(org, 's2'));
    // No duplicates: the stream is in the org's commit order, so once a later event (the marker)
    // is here, any repeat of the earlier ones would have been written before it.
    const marker = await events.publish(messageEvent(org, 's3'));
    await resumed.waitFor(4);
    expect(resumed.messages.map((m) => m.id)).toEqual([missed[0].id, missed[1].id, live[0].id, marker[0].id]);
    expect(resumed.messages.map((m) => m.data.sequence)).toEqual([2, 3, 2, 1]);
    await resumed.close();
  });

  it('filters by type and session', async () => {
    const org = 'sse-filter';
    const s = stream(org, '?types=session.status&sessionId=keep');
    await s.opened();
    await events.publish([
      messageEvent(org, 'keep'),
      { orgId: org, sessionId: 'drop', type: 'session.status', occurredAt: Date.now(), data: { status: 'connected' } },
      { orgId: org, sessionId: 'keep', type: 'session.status', occurredAt: Date.now(), data: { status: 'connected' } },
    ]);
    // A matching event published after the others proves the stream has read past them (commit order).
    const [marker] = await events.publish({ orgId: org, sessionId: 'keep', type: 'session.status', occurredAt: Date.now(), data: { status: 'stopped' } });
    await s.waitFor(2);
    expect(s.messages.map((m) => [m.event, m.data.sessionId])).toEqual([['session.status', 'keep'], ['session.status', 'keep']]);
    expect(s.messages[1].id).toBe(marker.id);
    await s.close();
  });

  it('resumes a filtered stream past pages of events it does not want, in order, without the others', async () => {
    const org = 'sse-filter-resume';
    const status = (sessionId: string, value: 'connected' | 'stopped'): EventInput<'session.status'> => ({ orgId: org, sessionId, type: 'session.status', occurredAt: Date.now(), data: { status: value } });
    const [from] = await events.publish(messageEvent(org, 'keep'));
    // More than one page (500) of another session's events, and the wanted session's events of a
    // type the filter leaves out, between the resume point and the wanted ones.
    await events.publish(Array.from({ length: 1_200 }, (_, i): EventInput => (i % 2 ? messageEvent(org, 'other') : status('other', 'connected'))));
    const wanted = [
      ...(await events.publish(messageEvent(org, 'keep'))),
      ...(await events.publish([status('keep', 'stopped'), messageEvent(org, 'other')] as EventInput[])).slice(0, 1),
    ];
    await events.publish(Array.from({ length: 600 }, (): EventInput<'session.qr'> => ({ orgId: org, sessionId: 'keep', type: 'session.qr', occurredAt: Date.now(), data: { qr: 'x', expiresAt: 0 } })));
    const [last] = await events.publish(messageEvent(org, 'keep'));
    const s = stream(org, '?types=message.received,session.status&sessionId=keep', from.id);
    await s.waitFor(3);
    expect(s.messages.map((m) => m.id)).toEqual([...wanted.map((e) => e.id), last.id]);
    expect(s.messages.every((m) => m.data.sessionId === 'keep')).toBe(true);
    await s.close();
  });
});

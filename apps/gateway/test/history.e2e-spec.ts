import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

/**
 * History on demand end to end: a phone whose chat with a friend holds 30 messages from before
 * the session was linked; the session asks the phone (a peer message through the real Baileys
 * socket), the phone uploads an ON_DEMAND history sync to the sandbox's media host, the runner
 * downloads, verifies and stores it, and the gateway pages it with the rest of the chat.
 */
describe('history on demand (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-history';
  const OWNER = '4917500000001';
  const FRIEND = '4917500000002';
  const STRANGER = '4917500000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  const OLD = 30;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let session: string;
  let liveId: string;
  /** The seeded messages, oldest first: ids the phone gave them, who wrote them, when (Unix ms). */
  let seeded: { id: string; fromMe: boolean; text: string; timestamp: number }[];

  const call = (path: string, method = 'GET', body?: unknown, role?: string, org?: string): Promise<Envelope> => client.envelope(path, { method, body, role, org });
  const history = (count?: number) => call(`/sessions/${session}/chats/${encodeURIComponent(pn(FRIEND))}/history`, 'POST', count === undefined ? {} : { count });
  const answerTo = (requestId: string) => hooks.eventFor(session, 'history.received', (d) => d.requestId === requestId, 60_000);
  const textOf = (m: Record<string, unknown>) => (m.content as { text?: string } | undefined)?.text;

  /** Every stored message of the chat, newest first, read in pages of `limit`. */
  const allPages = async (limit: number): Promise<Array<Record<string, unknown>>> => {
    const out: Array<Record<string, unknown>> = [];
    let cursor = '';
    do {
      const page = await call(`/sessions/${session}/chats/${encodeURIComponent(pn(FRIEND))}/messages?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.status).toBe(200);
      out.push(...(page.body.data ?? []));
      cursor = page.body.nextCursor as string;
    } while (cursor);
    return out;
  };

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, events: ['history.received', 'message.received'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    for (const [phone, name] of [[OWNER, 'Owner'], [FRIEND, 'Friend'], [STRANGER, 'Stranger']]) await sandbox.createPhone(phone, name);
    // A chat from before the session existed: only the two phones have it.
    const start = Math.floor(Date.now() / 1000) - 86_400;
    const messages = Array.from({ length: OLD }, (_, i) => ({ fromMe: i % 3 === 0, text: `old ${i + 1}`, timestamp: start + i * 60 }));
    const { ids } = sandbox.seedChatHistory(OWNER, FRIEND, messages);
    seeded = messages.map((m, i) => ({ ...m, id: ids[i]!, timestamp: m.timestamp * 1000 }));
    session = (await client.linkSession(sandbox, OWNER, 'owner')).id;
    // Since linking, the session has one message of the chat: what older ones are asked relative to.
    liveId = (await sandbox.sendMessage(FRIEND, pn(OWNER), { type: 'text', text: 'still there?' })).id;
    await hooks.eventFor(session, 'message.received', (d) => d.messageId === liveId);
  });

  afterAll(() => stack?.close());

  it('fetches older messages twice, stores them once each in time order, pages them, and announces each answer but no message', async () => {
    const first = await history(10);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ requestId: expect.any(String), chat: pn(FRIEND), count: 10, before: { messageId: liveId, timestamp: expect.any(Number) } });
    const firstAnswer = await answerTo(first.body.requestId as string);
    expect(firstAnswer.data).toEqual(
      expect.objectContaining({ count: 10, stored: 10, oldest: seeded[20]!.timestamp, newest: seeded[29]!.timestamp, chat: expect.objectContaining({ pn: pn(FRIEND) }) }),
    );

    // The next page is relative to the oldest message stored now.
    const second = await history(10);
    expect(second.status).toBe(202);
    expect(second.body.before).toEqual({ messageId: seeded[20]!.id, timestamp: seeded[20]!.timestamp });
    expect((await answerTo(second.body.requestId as string)).data).toEqual(expect.objectContaining({ count: 10, stored: 10, oldest: seeded[10]!.timestamp, newest: seeded[19]!.timestamp }));

    // The phone was asked twice, by this device only, and sent what it was asked for.
    expect(sandbox.historyRequests(OWNER).map((r) => ({ anchor: r.anchorId, count: r.count, answered: r.answered }))).toEqual([
      { anchor: liveId, count: 10, answered: 10 },
      { anchor: seeded[20]!.id, count: 10, answered: 10 },
    ]);

    // Newest first, as every chat page: the live message, then old 30 down to old 11, each once.
    const expected = [{ id: liveId, fromMe: false, text: 'still there?' }, ...seeded.slice(10).reverse().map((m) => ({ id: m.id, fromMe: m.fromMe, text: m.text }))];
    const whole = await allPages(100);
    expect(whole.map((m) => ({ id: m.id, fromMe: m.fromMe, text: textOf(m) }))).toEqual(expected);
    expect(whole.slice(1).map((m) => m.timestamp)).toEqual(seeded.slice(10).reverse().map((m) => m.timestamp));
    expect(whole.slice(1).every((m) => m.sender === (m.fromMe ? pn(OWNER) : pn(FRIEND)) || (!m.fromMe && String(m.sender).endsWith('@lid')))).toBe(true);
    expect((await allPages(7)).map((m) => m.id)).toEqual(expected.map((m) => m.id));

    // Old news is not announced as new messages.
    expect(hooks.events('message.received', session).map((b) => textOf(b.data as Record<string, unknown>))).toEqual(['still there?']);
  });

  it('answers fewer than asked at the start of the chat, and nothing more after that', async () => {
    const third = await history();
    expect(third.status).toBe(202);
    expect(third.body.count).toBe(50);
    expect((await answerTo(third.body.requestId as string)).data).toEqual(expect.objectContaining({ count: 10, stored: 10, oldest: seeded[0]!.timestamp }));
    const last = await history(5);
    expect(last.body.before).toEqual({ messageId: seeded[0]!.id, timestamp: seeded[0]!.timestamp });
    const none = await answerTo(last.body.requestId as string);
    expect(none.data).toEqual(expect.objectContaining({ count: 0, stored: 0 }));
    expect(none.data).not.toHaveProperty('oldest');
    const whole = await allPages(100);
    expect(whole).toHaveLength(OLD + 1);
    expect(new Set(whole.map((m) => m.id)).size).toBe(OLD + 1);
  });

  it('refuses what it cannot ask, in the envelope', async () => {
    const unknownChat = await call(`/sessions/${session}/chats/${encodeURIComponent(pn(STRANGER))}/history`, 'POST', { count: 5 });
    expect({ status: unknownChat.status, code: unknownChat.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    const elsewhere = await call(`/sessions/${session}/chats/${encodeURIComponent(pn(FRIEND))}/history`, 'POST', { count: 5 }, undefined, 'org-elsewhere');
    expect({ status: elsewhere.status, code: elsewhere.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    const viewer = await call(`/sessions/${session}/chats/${encodeURIComponent(pn(FRIEND))}/history`, 'POST', { count: 5 }, 'viewer');
    expect({ status: viewer.status, code: viewer.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    for (const body of [{ count: 0 }, { count: 51 }, { count: 'ten' }, { count: 5, before: 'x' }]) {
      const res = await call(`/sessions/${session}/chats/${encodeURIComponent(pn(FRIEND))}/history`, 'POST', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'validation_error' });
    }
    const badChat = await call(`/sessions/${session}/chats/not-a-jid/history`, 'POST', {});
    expect(badChat.status).toBe(400);
    expect(sandbox.historyRequests(OWNER)).toHaveLength(4);

    expect((await call(`/sessions/${session}/stop`, 'POST')).status).toBe(200);
    await client.waitForStatus(session, ['stopped']);
    const stopped = await history(5);
    expect({ status: stopped.status, code: stopped.body.error?.code }).toEqual({ status: 409, code: 'session_not_connected' });
  });
});

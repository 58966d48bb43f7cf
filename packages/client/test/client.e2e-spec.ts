import { WaSandbox, type PhoneInfo } from '@wa/wa-sandbox';
import { createGatewayClient, GatewayError, RESPOND_ASYNC, unwrap, verifyWebhook, WebhookVerificationError, type GatewayClient, type GatewayEvent } from '../src';
import { startReceiver, startStack, type Delivery, type Stack } from './stack';

/**
 * The typed client against the real product: gateway and session runner processes, the
 * WhatsApp sandbox with virtual phones, and a real HTTP webhook receiver. Everything the test
 * does to the gateway goes through the client.
 */
describe('@wa/client against a running gateway', () => {
  const ORG = 'client-e2e';
  const ACCOUNT = '4917200000001';
  const CONTACT = '4917200000002';
  let sandbox: WaSandbox;
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let gw: GatewayClient;
  let contact: PhoneInfo;
  let webhookSecret: string;
  let sessionId: string;

  const verified = (d: Delivery): GatewayEvent => verifyWebhook(webhookSecret, d.headers, d.rawBody);
  const event = <T extends GatewayEvent['type']>(type: T, pred: (e: Extract<GatewayEvent, { type: T }>) => boolean) =>
    receiver
      .waitFor((d) => {
        const e = verified(d);
        return e.type === type && pred(e as Extract<GatewayEvent, { type: T }>);
      }, `a verified ${type} webhook`)
      .then((d) => verified(d) as Extract<GatewayEvent, { type: T }>);

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(ACCOUNT, 'Account');
    contact = await sandbox.createPhone(CONTACT, 'Contact');
    stack = await startStack(sandbox, ORG);
    receiver = await startReceiver();
    gw = createGatewayClient({ baseUrl: stack.url, token: stack.apiKey });
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
    await sandbox?.stop();
  });

  it('links a session by QR: waitForQr gives the code the phone scans, waitForStatus sees it connect', async () => {
    const hook = await unwrap(gw.POST('/api/v1/webhooks', { body: { url: receiver.url, events: ['session.status', 'message.received', 'poll.vote'] } }));
    webhookSecret = hook.secret;
    const created = await unwrap(gw.POST('/api/v1/sessions', { body: { name: 'client e2e' } }));
    sessionId = created.id;
    // A QR wait begun before the start sees the first code as it is emitted.
    const qr = gw.waitForQr(sessionId, { timeoutMs: 20_000 });
    await unwrap(gw.POST('/api/v1/sessions/{id}/start', { params: { path: { id: sessionId } } }));
    await sandbox.scanQr(ACCOUNT, await qr);
    const connected = await gw.waitForStatus(sessionId, 'connected', { timeoutMs: 30_000 });
    expect(connected).toMatchObject({ id: sessionId, status: 'connected', me: { jid: expect.stringContaining(ACCOUNT) } });
    // Asked again after the fact, the wait answers from the current state at once.
    await expect(gw.waitForStatus(sessionId, 'connected', { timeoutMs: 5_000 })).resolves.toMatchObject({ status: 'connected' });
    await expect(event('session.status', (e) => e.sessionId === sessionId && e.data.status === 'connected')).resolves.toBeDefined();
  });

  it('sends a text once per Idempotency-Key, and answers 202 when asked to respond async', async () => {
    const params = { path: { id: sessionId }, header: { 'Idempotency-Key': `text-${sessionId}` } };
    const body = { chat: contact.jid, type: 'text' as const, text: 'Hello from the typed client' };
    const first = await unwrap(gw.POST('/api/v1/sessions/{id}/messages', { params, body }));
    // Handed to WhatsApp; the contact's receipt may already have come back.
    expect(first).toMatchObject({ mode: 'sync', replayed: false, status: expect.stringMatching(/^(sent|delivered|read)$/) });
    const again = await unwrap(gw.POST('/api/v1/sessions/{id}/messages', { params, body }));
    expect(again).toMatchObject({ replayed: true, waMessageId: first.waMessageId });
    await sandbox.waitForReceived(CONTACT, (m) => m.id === first.waMessageId && m.text === body.text);
    expect(sandbox.received(CONTACT).filter((m) => m.id === first.waMessageId && !m.fromOwnDevice)).toHaveLength(1);

    // Without a key of the caller's, each call gets a fresh one: two calls are two messages.
    const a = await unwrap(gw.POST('/api/v1/sessions/{id}/messages', { params: { path: { id: sessionId }, header: RESPOND_ASYNC }, body }));
    const b = await gw.POST('/api/v1/sessions/{id}/messages', { params: { path: { id: sessionId }, header: RESPOND_ASYNC }, body });
    expect(b.response.status).toBe(202);
    expect(a).toMatchObject({ mode: 'async', replayed: false });
    expect(b.data?.waMessageId).not.toBe(a.waMessageId);
  });

  it('sends a poll the contact votes on, delivered as a signed webhook that verifyWebhook accepts', async () => {
    const poll = await unwrap(
      gw.POST('/api/v1/sessions/{id}/messages', { params: { path: { id: sessionId } }, body: { chat: contact.jid, type: 'poll', name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 } }),
    );
    await sandbox.waitForReceived(CONTACT, (m) => m.id === poll.waMessageId && m.kind === 'poll');
    await sandbox.sendMessage(CONTACT, `${ACCOUNT}@s.whatsapp.net`, { type: 'vote', pollId: poll.waMessageId, options: ['Sushi'] });
    const vote = await event('poll.vote', (e) => e.data.pollMessageId === poll.waMessageId);
    expect(vote).toMatchObject({ sessionId, data: { fromMe: false, selectedOptions: ['Sushi'] } });

    const delivery = receiver.deliveries.find((d) => d.headers['webhook-id'] === vote.id) as Delivery;
    expect(() => verifyWebhook(webhookSecret, delivery.headers, delivery.rawBody.replace('Sushi', 'Pizza'))).toThrow(WebhookVerificationError);
  });

  it("votes with the client on the contact's poll", async () => {
    const { id: pollId } = await sandbox.sendMessage(CONTACT, `${ACCOUNT}@s.whatsapp.net`, { type: 'poll', name: 'Where?', options: ['Here', 'There'], selectableCount: 1 });
    const received = await event('message.received', (e) => e.data.messageId === pollId);
    const result = await unwrap(
      gw.POST('/api/v1/sessions/{id}/messages/{mid}/vote', {
        params: { path: { id: sessionId, mid: pollId } },
        body: { chat: received.data.chat.jid, sender: received.data.sender.jid, options: ['There'] },
      }),
    );
    const got = await sandbox.waitForReceived(CONTACT, (m) => m.id === result.waMessageId && m.kind === 'vote');
    expect(got.vote).toMatchObject({ pollId, selectedOptions: ['There'] });
  });

  it('throws a GatewayError with the envelope and the status', async () => {
    const missing = unwrap(gw.GET('/api/v1/sessions/{id}', { params: { path: { id: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' } } }));
    await expect(missing).rejects.toBeInstanceOf(GatewayError);
    await expect(missing).rejects.toMatchObject({ status: 404, code: 'not_found', details: expect.any(Object) });
    const stranger = createGatewayClient({ baseUrl: stack.url, token: 'wag_not-a-key' });
    await expect(stranger.waitForStatus(sessionId, 'connected', { timeoutMs: 5_000 })).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });
});

import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, sandboxRunnerEnv } from './harness';
import { eventually } from './lease-fixture';
import { ApiClient } from './session-fixture';
import { WebhookReceiver, type Received } from './webhook-receiver';
import { HANG_MS } from './deadlines';

interface StoredMessage {
  id: string;
  type: string;
  content: Record<string, unknown>;
  editedAt?: number;
  deletedAt?: number;
}

/** What `message.received` may carry beyond the stored content: the sender's name and the older fields. */
const EVENT_ONLY_FIELDS = ['pushName', 'text', 'pollOptions'];

/**
 * `message.received` and `GET .../messages/{mid}` describe a message the same way: for every kind a
 * sandbox phone can send, the event's `type` and `content` match the stored message field by field,
 * and carry what the message holds (coordinates, vCards, quote, mentions, poll options). Real
 * gateway, real runner and Baileys, the sandbox as WhatsApp, webhooks verified by signature.
 */
describe('inbound message content: event and stored message agree', () => {
  const ORG = 'org-inbound-content';
  const ACCOUNT = '15557780001';
  const CONTACT = '15557780002';
  const ACCOUNT_JID = `${ACCOUNT}@s.whatsapp.net`;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let receiver: WebhookReceiver;
  let sessionId: string;

  const event = (type: string, match: (data: Record<string, unknown>) => boolean): Promise<Received['body']> =>
    eventually(`a ${type} webhook`, () => receiver.received.find((r) => r.body.type === type && r.body.sessionId === sessionId && match(r.body.data))?.body, HANG_MS);

  const stored = (mid: string): Promise<StoredMessage> =>
    eventually(`message ${mid} in the store`, async () => {
      const res = await client.call(`/sessions/${sessionId}/messages/${mid}`);
      return res.status === 200 ? ((await res.json()) as StoredMessage) : undefined;
    });

  /** The `message.received` of `mid` and its stored form, after checking they agree field by field. */
  async function receivedAndStored(mid: string): Promise<{ content: Record<string, unknown>; type: string }> {
    const received = await event('message.received', (d) => d.messageId === mid);
    const data = received.data as { type: string; content: Record<string, unknown>; fromMe: boolean };
    const message = await stored(mid);
    expect(data.fromMe).toBe(false);
    expect(data.type).toBe(message.type);
    for (const [field, value] of Object.entries(message.content)) {
      expect({ field, value: data.content[field] }).toEqual({ field, value });
    }
    const extra = Object.keys(data.content).filter((field) => !(field in message.content));
    expect(extra.filter((field) => !EVENT_ONLY_FIELDS.includes(field))).toEqual([]);
    expect(data.content.pushName).toBe('Bob');
    // Neither carries media keys or CDN addresses.
    expect(JSON.stringify([data, message])).not.toMatch(/mediaKey|directPath/);
    return { type: data.type, content: data.content };
  }

  const fromContact = (message: Parameters<WaSandbox['sendMessage']>[2]) => sandbox.sendMessage(CONTACT, ACCOUNT_JID, message);

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    const transport = await transportEnv();
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox));
    gw = await startGateway(transport, { ...idp.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0' });
    client = new ApiClient(() => gw.url, idp, ORG);
    receiver = await WebhookReceiver.start();
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: receiver.url, events: ['message.received', 'message.reaction', 'message.edited', 'message.deleted'] } });
    receiver.secrets = [hook.secret];
    await sandbox.createPhone(CONTACT, 'Bob');
    sessionId = (await client.linkSession(sandbox, ACCOUNT)).id;
  });

  afterAll(async () => {
    await receiver?.close();
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('a reply with mentions: text, the quoted message and the mentioned JIDs', async () => {
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: `${CONTACT}@s.whatsapp.net`, type: 'text', text: 'Lunch at noon?' } });
    expect(res.status).toBe(200);
    const { waMessageId } = (await res.json()) as { waMessageId: string };
    await sandbox.waitForReceived(CONTACT, (m) => m.id === waMessageId, HANG_MS);
    const { id } = await fromContact({ type: 'text', text: `Yes @${ACCOUNT}`, quotedId: waMessageId, mentions: [ACCOUNT_JID] });
    await expect(receivedAndStored(id)).resolves.toEqual({
      type: 'text',
      content: { text: `Yes @${ACCOUNT}`, quotedMessageId: waMessageId, mentions: [ACCOUNT_JID], pushName: 'Bob' },
    });
  });

  it('a location: coordinates, name and address', async () => {
    const { id } = await fromContact({ type: 'location', latitude: 48.137154, longitude: 11.576124, name: 'Munich', address: 'Marienplatz 1' });
    const { type, content } = await receivedAndStored(id);
    expect(type).toBe('location');
    expect(content).toMatchObject({ latitude: 48.137154, longitude: 11.576124, name: 'Munich', address: 'Marienplatz 1' });
  });

  it('contact cards, one and several, as `contacts` with every vCard', async () => {
    const jane = { displayName: 'Jane', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nTEL;type=CELL:+491701234567\nEND:VCARD' };
    const john = { displayName: 'John', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:John\nEND:VCARD' };
    const one = await fromContact({ type: 'contact', ...jane });
    await expect(receivedAndStored(one.id)).resolves.toMatchObject({ type: 'contacts', content: { contacts: [jane] } });
    const two = await fromContact({ type: 'contacts', displayName: '2 contacts', contacts: [jane, john] });
    await expect(receivedAndStored(two.id)).resolves.toMatchObject({ type: 'contacts', content: { displayName: '2 contacts', contacts: [jane, john] } });
  });

  it('a poll: question, options and how many may be chosen', async () => {
    const { id } = await fromContact({ type: 'poll', name: 'Where?', options: ['Here', 'There'], selectableCount: 1 });
    await expect(receivedAndStored(id)).resolves.toEqual({
      type: 'poll',
      content: { name: 'Where?', options: ['Here', 'There'], selectableCount: 1, text: 'Where?', pollOptions: ['Here', 'There'], pushName: 'Bob' },
    });
  });

  it('a reaction, an edit and a revoke name their target, and the stored target shows the change', async () => {
    const { id: target } = await fromContact({ type: 'text', text: 'Helo' });
    await expect(receivedAndStored(target)).resolves.toMatchObject({ type: 'text', content: { text: 'Helo' } });

    await fromContact({ type: 'reaction', targetId: target, emoji: '🎉' });
    await expect(event('message.reaction', (d) => d.targetMessageId === target)).resolves.toMatchObject({ data: { emoji: '🎉', fromMe: false } });

    await fromContact({ type: 'edit', targetId: target, text: 'Hello' });
    await expect(event('message.edited', (d) => d.targetMessageId === target)).resolves.toMatchObject({ data: { content: { text: 'Hello' } } });
    const edited = await eventually('the edit in the store', async () => ((await stored(target)).editedAt ? stored(target) : undefined));
    expect(edited).toMatchObject({ type: 'text', content: { text: 'Hello' } });

    await fromContact({ type: 'revoke', targetId: target });
    await expect(event('message.deleted', (d) => d.targetMessageId === target)).resolves.toBeDefined();
    const deleted = await eventually('the revoke in the store', async () => ((await stored(target)).deletedAt ? stored(target) : undefined));
    expect(deleted.content).toEqual({});
  });

  it('every delivery was signed with the endpoint secret', () => {
    expect(receiver.rejected).toEqual([]);
  });
});

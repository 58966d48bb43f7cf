import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WaSandbox } from '@wa/wa-sandbox';
import { Webhook } from 'standardwebhooks';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, sandboxRunnerEnv } from './harness';
import { ApiClient } from './session-fixture';
import { HANG_MS } from './deadlines';

interface Delivered {
  id: string;
  type: string;
  sessionId: string;
  sequence: number;
  data: Record<string, unknown> & { chat?: { pn?: string; lid?: string } };
}

/**
 * What happens on WhatsApp reaches the organization as signed webhooks: a contact's message, the
 * delivery of ours, a contact's poll vote and reaction. Real runner, real Baileys, the sandbox as
 * WhatsApp, and an HTTP receiver that verifies every delivery with the `standardwebhooks` library.
 */
describe('inbound WhatsApp activity as webhooks', () => {
  const ORG = 'org-inbound';
  const ACCOUNT = '15557770001';
  const CONTACT = '15557770002';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let receiver: Server;
  let verifier: Webhook;
  const delivered: Delivered[] = [];
  let sessionId: string;

  const arrived = async (pred: (e: Delivered) => boolean, what: string): Promise<Delivered> => {
    const deadline = Date.now() + HANG_MS;
    while (Date.now() < deadline) {
      const hit = delivered.find(pred);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${what} webhook arrived; got ${delivered.map((e) => e.type).join(', ')}`);
  };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    const transport = await transportEnv();
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox));
    gw = await startGateway(transport, { ...idp.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0' });
    client = new ApiClient(() => gw.url, idp, ORG);

    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        verifier.verify(body, req.headers as Record<string, string>);
        delivered.push(JSON.parse(body) as Delivered);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = await client.json<{ secret: string }>('/webhooks', {
      method: 'POST',
      body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['*'] },
    });
    verifier = new Webhook(hook.secret);
    await sandbox.createPhone(CONTACT, 'Bob');
    sessionId = (await client.linkSession(sandbox, ACCOUNT)).id;
  });

  afterAll(async () => {
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it("delivers a contact's message with both forms of the chat address", async () => {
    const { id } = await sandbox.sendMessage(CONTACT, `${ACCOUNT}@s.whatsapp.net`, { type: 'text', text: 'Hello from Bob' });
    const event = await arrived((e) => e.type === 'message.received' && e.data.messageId === id, 'message.received');
    expect(event).toMatchObject({ sessionId, data: { fromMe: false, type: 'text', content: { text: 'Hello from Bob' } } });
    expect(event.data.chat?.pn ?? event.data.chat?.lid).toBeDefined();
  });

  it('reports the delivery of a message the API sent', async () => {
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: `${CONTACT}@s.whatsapp.net`, type: 'text', text: 'Hi Bob' } });
    expect(res.status).toBe(200);
    const { waMessageId, outboxId } = (await res.json()) as { waMessageId: string; outboxId: string };
    const statusEvent = await arrived((e) => e.type === 'message.status' && e.data.messageId === waMessageId && e.data.status === 'delivered', 'delivered status');
    // The status names the outbox entry the message went out through.
    expect(statusEvent.data.outboxId).toBe(outboxId);
  });

  it("delivers a contact's poll vote with the selected option texts, and a reaction", async () => {
    const res = await client.call(`/sessions/${sessionId}/messages`, {
      method: 'POST',
      body: { chat: `${CONTACT}@s.whatsapp.net`, type: 'poll', name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 },
    });
    const { waMessageId: pollId } = (await res.json()) as { waMessageId: string };
    await sandbox.waitForReceived(CONTACT, (m) => m.id === pollId, HANG_MS);
    await sandbox.sendMessage(CONTACT, `${ACCOUNT}@s.whatsapp.net`, { type: 'vote', pollId, options: ['Sushi'] });
    const vote = await arrived((e) => e.type === 'poll.vote' && e.data.pollMessageId === pollId, 'poll.vote');
    expect(vote.data.selectedOptions).toEqual(['Sushi']);

    await sandbox.sendMessage(CONTACT, `${ACCOUNT}@s.whatsapp.net`, { type: 'reaction', targetId: pollId, emoji: '👍' });
    const reaction = await arrived((e) => e.type === 'message.reaction' && e.data.targetMessageId === pollId, 'message.reaction');
    expect(reaction.data.emoji).toBe('👍');
    // Every message event names the chat in both forms once the LID <-> phone pair is known.
    expect(reaction.data.chat).toMatchObject({ pn: `${CONTACT}@s.whatsapp.net`, lid: expect.stringMatching(/@lid$/) });
  });

  it("reports statuses of our own messages only, not of a contact's message we read", async () => {
    const { id } = await sandbox.sendMessage(CONTACT, `${ACCOUNT}@s.whatsapp.net`, { type: 'text', text: 'read me' });
    await arrived((e) => e.type === 'message.received' && e.data.messageId === id, 'message.received');
    const read = await client.call(`/sessions/${sessionId}/chats/${CONTACT}@s.whatsapp.net/read`, { method: 'POST', body: {} });
    expect(read.status).toBe(204);
    // A message of ours sent after the read: its status comes after anything the read caused.
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: `${CONTACT}@s.whatsapp.net`, type: 'text', text: 'marker' } });
    const { waMessageId } = (await res.json()) as { waMessageId: string };
    const marker = await arrived((e) => e.type === 'message.status' && e.data.messageId === waMessageId, 'status of the marker');
    const about = delivered.filter((e) => e.type === 'message.status' && e.data.messageId === id && e.sequence < marker.sequence);
    expect(about).toEqual([]);
  });

  it('numbers the session events without gaps', () => {
    const sequences = delivered.filter((e) => e.sessionId === sessionId).map((e) => e.sequence).sort((a, b) => a - b);
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
  });
});

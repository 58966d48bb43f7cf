import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createGatewayClient, RESPOND_ASYNC, unwrap } from '../src';

/**
 * Against a real HTTP server that breaks connections on purpose: a write is retried with the
 * Idempotency-Key it was first sent with, so the gateway can answer the retry from its record.
 */
describe('createGatewayClient writes', () => {
  let server: Server;
  let baseUrl: string;
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  let dropNext = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (dropNext > 0) {
          dropNext--;
          req.socket.destroy();
          return;
        }
        const async = req.headers.prefer === 'respond-async';
        res.writeHead(async ? 202 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ mode: async ? 'async' : 'sync', outboxId: 'o1', replayed: false, status: 'sent', timestamp: 1, waMessageId: 'w1' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    seen.length = 0;
    dropNext = 0;
  });

  const send = (client: ReturnType<typeof createGatewayClient>, header?: Record<string, string>) =>
    client.POST('/api/v1/sessions/{id}/messages', { params: { path: { id: 's1' }, header }, body: { chat: '1@s.whatsapp.net', type: 'text', text: 'hi' } });

  it('retries a write after a dropped connection with the same key and body', async () => {
    const client = createGatewayClient({ baseUrl, token: 'wag_x' });
    dropNext = 2;
    await expect(unwrap(send(client))).resolves.toMatchObject({ waMessageId: 'w1' });
    expect(seen).toHaveLength(3);
    const keys = new Set(seen.map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[\x21-\x7e]{1,255}$/);
    expect(new Set(seen.map((r) => r.body)).size).toBe(1);
    expect(seen.every((r) => r.headers.authorization === 'Bearer wag_x')).toBe(true);
  });

  it("gives every call a fresh key, keeps the caller's own, and passes Prefer: respond-async", async () => {
    const client = createGatewayClient({ baseUrl, token: 'wag_x' });
    await send(client);
    await send(client);
    const mine = await send(client, { 'Idempotency-Key': 'order-42', ...RESPOND_ASYNC });
    expect(mine.response.status).toBe(202);
    const keys = seen.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[2]).toBe('order-42');
    expect(seen[2]?.headers.prefer).toBe('respond-async');
  });

  it('neither keys nor retries reads, and gives up on writes after the configured retries', async () => {
    const client = createGatewayClient({ baseUrl, token: 'wag_x', writeRetries: 1 });
    dropNext = 1;
    await expect(client.GET('/api/v1/sessions/{id}', { params: { path: { id: 's1' } } })).rejects.toThrow();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers['idempotency-key']).toBeUndefined();
    dropNext = 2;
    await expect(send(client)).rejects.toThrow();
    expect(seen).toHaveLength(3);
  });
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EventStream, GatewayError } from '../src';

/**
 * A real HTTP server that plays the gateway's event stream and breaks the connection after the
 * first event: the stream must come back with Last-Event-ID and lose nothing.
 */
describe(EventStream.name, () => {
  let server: Server;
  let baseUrl: string;
  const requests: IncomingMessage[] = [];
  let answer: (req: IncomingMessage, res: ServerResponse, n: number) => void;

  const envelope = (id: string, status: string) =>
    `id: ${id}\nevent: session.status\ndata: ${JSON.stringify({ id, type: 'session.status', timestamp: 1, orgId: 'o', sessionId: 's1', sequence: 1, data: { status } })}\n\n`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req);
      answer(req, res, requests.length);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    requests.length = 0;
  });

  it('resumes after a dropped connection with Last-Event-ID, sending the token and filters each time', async () => {
    answer = (req, res, n) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (n === 1) {
        res.write('retry: 10\n\n');
        res.write(envelope('01A', 'starting'));
        setImmediate(() => res.destroy());
      } else res.write(envelope('01B', 'connected'));
    };
    const stream = await EventStream.open({ baseUrl, token: 'wag_x' }, { types: ['session.status'], sessionId: 's1' });
    const statuses: string[] = [];
    for await (const event of stream) {
      if (event.type === 'session.status') statuses.push(event.data.status);
      if (statuses.length === 2) break;
    }
    expect(statuses).toEqual(['starting', 'connected']);
    expect(requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '01A']);
    expect(requests.every((r) => r.headers.authorization === 'Bearer wag_x' && r.url === '/api/v1/events?types=session.status&sessionId=s1')).toBe(true);
    expect(stream.position).toBe('01B');
  });

  it('fails with the GatewayError of a refused stream', async () => {
    answer = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad token', details: {} } }));
    };
    const refused = EventStream.open({ baseUrl, token: 'wag_bad' });
    await expect(refused).rejects.toBeInstanceOf(GatewayError);
    await expect(refused).rejects.toMatchObject({ status: 401, code: 'unauthorized', message: 'bad token' });
  });
});

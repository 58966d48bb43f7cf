import { Controller, Get, Module } from '@nestjs/common';
import { Public } from '@wa/auth';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { BOOTSTRAP_LOG_MARKER } from '../src/api-keys/api-keys.bootstrap';
import { spawnGateway, type GatewayProcess } from './gateway-process';
import { dropTestSchemas, startGateway, testDatabaseUrl, transportEnv, type GatewayHandle } from './harness';
import { HANG_MS } from './deadlines';

const REQUEST_TIMEOUT_MS = 3000;
const MB = 1024 * 1024;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
  /** Body bytes the client had handed to the socket when the answer's first byte arrived. */
  bodyBytesSentBeforeAnswer: number;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/**
 * One request on its own TCP connection, written by hand: the tests need bodies that arrive
 * slowly, bodies bigger than what is read, malformed URLs and oversized heads, which no HTTP
 * client sends. The body is written in 64 KiB slices until the server answers (or, with
 * `sendBeforeAnswer`, until that many bytes are out: then the client waits for the answer).
 */
function rawRequest(port: number, head: string, body?: Buffer, onConnect?: (socket: Socket) => void, sendBeforeAnswer = Infinity): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    let received = Buffer.alloc(0);
    let sent = 0;
    let sentAtAnswer = -1;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      const text = received.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      const payload = received.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      if (payload.length < length) return;
      finished = true;
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: length ? JSON.parse(payload.subarray(0, length).toString('utf8')) : undefined,
        bodyBytesSentBeforeAnswer: sentAtAnswer,
        closed,
      });
    };
    socket.on('data', (chunk: Buffer) => {
      if (sentAtAnswer === -1) sentAtAnswer = sent;
      received = Buffer.concat([received, chunk]);
      finish();
    });
    // Writes into a connection the server has closed fail; what counts is what it answered.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      finish();
      if (!finished) reject(new Error(`connection closed without a complete answer: ${received.toString('latin1').slice(0, 300)}`));
    });
    socket.once('connect', () => {
      socket.write(head);
      onConnect?.(socket);
      if (!body) return;
      const writeMore = (): void => {
        while (sent < Math.min(body.length, sendBeforeAnswer) && sentAtAnswer === -1 && socket.writable) {
          const slice = body.subarray(sent, Math.min(sent + 64 * 1024, body.length));
          sent += slice.length;
          if (!socket.write(slice)) {
            socket.once('drain', writeMore);
            return;
          }
        }
      };
      writeMore();
    });
  });
}

const head = (method: string, path: string, headers: Record<string, string | number> = {}): string =>
  `${method} ${path} HTTP/1.1\r\nhost: localhost\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

function expectEnvelope(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
  expect(answer.headers['x-request-id']).toMatch(/^[0-9A-Z]{26}$/);
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line?.[1] ?? 0) * 1024;
}

describe('gateway HTTP edge under attack', () => {
  let gw: GatewayProcess;
  let port: number;
  let key: string;

  beforeAll(async () => {
    const transport = await transportEnv();
    gw = await spawnGateway(transport, {
      DATABASE_URL: testDatabaseUrl('edge'),
      BOOTSTRAP_ORG: 'edge-org',
      // Every refused request below comes from 127.0.0.1; the failed-auth limit has its own tests.
      RATE_LIMIT_FAILED_AUTH: 'off',
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_HEADERS_TIMEOUT_MS: '2000',
    });
    port = Number(new URL(gw.url).port);
    // The log is written asynchronously: the key line can reach the pipe after the health check answered.
    const lineOf = () => gw.output().split('\n').find((l) => l.includes(BOOTSTRAP_LOG_MARKER));
    for (const deadline = Date.now() + HANG_MS; !lineOf() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50));
    const bootstrap = lineOf() ?? '';
    key = (bootstrap.match(/wag_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}/) ?? [''])[0];
    expect(key).not.toBe('');
  });

  afterAll(async () => {
    await gw?.stop();
    await dropTestSchemas();
  });

  const auth = (): Record<string, string> => ({ authorization: `Bearer ${key}` });

  it('keeps /health/live answering without a stall while three clients send 20 MB bodies nested 10,000,000 deep, and refuses them', async () => {
    // The probes' own connection is opened first, so that they measure the gateway, not a handshake;
    // one small request of each kind first, so that they do not measure its first compilation either.
    await (await fetch(`${gw.url}/health/live`)).text();
    const small = Buffer.from('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[');
    for (const headers of [{}, auth()]) {
      await rawRequest(port, head('POST', '/api/v1/sessions', { 'content-type': 'application/json', 'content-length': small.length * 2, ...headers }), small);
    }
    // What /health/live takes on this machine right now, without the attack: on a quiet machine a
    // few ms, so the budget below is 100 ms; a machine busy with other work (CI next to other
    // suites) answers slower whatever the gateway does, and gets a budget scaled to it. A gateway
    // that parsed or buffered 60 MB of 10,000,000-deep nesting in its event loop stalls for
    // seconds, far over either.
    const quiet: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await (await fetch(`${gw.url}/health/live`)).text();
      quiet.push(performance.now() - started);
    }
    // 5x was too little under stress-ng next to two other suites (quiet 80 ms, attack 620-690 ms:
    // the senders and the gateway's reading share 2 cores), and a 100 ms floor too little with
    // four suites side by side (quiet 11 ms, attack 135 ms). What this test exists to catch is a
    // stall of seconds; latency itself is for the benches.
    const budget = Math.max(500, 10 * Math.max(...quiet));
    const sender = spawn(process.execPath, [join(__dirname, 'hostile-sender.mjs'), String(port), '-', '-', '-', key, key, key], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    sender.stdout.on('data', (d: Buffer) => (output += d.toString()));
    let sending = true;
    const finished = new Promise<void>((resolve) => sender.once('exit', () => resolve())).finally(() => (sending = false));
    // The probes start once the bodies are on their way, not while the sender process boots.
    while (!output.startsWith('sending\n') && sending) await new Promise((r) => setTimeout(r, 5));
    const probes: number[] = [];
    while (sending || probes.length < 10) {
      const started = performance.now();
      const res = await fetch(`${gw.url}/health/live`);
      await res.text();
      probes.push(performance.now() - started);
      expect(res.status).toBe(200);
    }
    await finished;
    const answers = JSON.parse(output.slice('sending\n'.length)) as Array<{ status: number; headers: Record<string, string>; body: any }>;
    const expected = (status: number, code: string) => ({
      status,
      headers: expect.objectContaining({ connection: 'close', 'x-request-id': expect.stringMatching(/^[0-9A-Z]{26}$/) }),
      body: { error: { code, message: expect.any(String), details: expect.any(Object) } },
    });
    expect(answers).toEqual([
      ...Array.from({ length: 3 }, () => expected(401, 'unauthorized')),
      ...Array.from({ length: 3 }, () => expected(400, 'validation_error')),
    ]);
    expect(answers[3].body.error.message).toBe('request body nests deeper than 64 levels');
    expect(Math.max(...probes)).toBeLessThan(budget);
  });

  it('answers unauthenticated 24 MB bodies with 401 before reading them, without holding them in memory', async () => {
    const body = Buffer.alloc(24 * MB, 'a');
    const before = rssBytes(gw.child.pid!);
    // Each client declares 24 MB but sends only its first 64 KiB until it has an answer: a server
    // that read the body before authenticating would wait for the rest and never answer 401.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        rawRequest(port, head('POST', '/api/v1/sessions', { 'content-type': 'application/json', 'content-length': body.length }), body, undefined, 64 * 1024),
      ),
    );
    const grown = rssBytes(gw.child.pid!) - before;
    for (const answer of answers) {
      expectEnvelope(answer, 401, 'unauthorized');
      expect(answer.headers.connection).toBe('close');
      expect(answer.bodyBytesSentBeforeAnswer).toBe(64 * 1024);
      await answer.closed;
    }
    // The same, sending all 24 MB as fast as the server takes them: still answered, memory still flat.
    const flooded = await Promise.all(
      Array.from({ length: 20 }, () =>
        rawRequest(port, head('POST', '/api/v1/sessions', { 'content-type': 'application/json', 'content-length': body.length }), body),
      ),
    );
    // A request still arriving when HTTP_REQUEST_TIMEOUT_MS (3 s here, for the trickle test) has
    // passed is cut off with 408 before its headers are handled: on a loaded machine, twenty 24 MB
    // floods can take the gateway that long. Either answer is an envelope, and memory stays flat.
    for (const answer of flooded) {
      if (answer.status === 408) expectEnvelope(answer, 408, 'request_timeout');
      else expectEnvelope(answer, 401, 'unauthorized');
    }
    // Twenty bodies read into memory would be 480 MB.
    expect(grown).toBeLessThan(100 * MB);
  });

  it('cuts off a body trickled one byte at a time with 408 once the request timeout has passed', async () => {
    let timer: NodeJS.Timeout | undefined;
    const started = Date.now();
    const answer = await rawRequest(
      port,
      head('POST', '/api/v1/sessions', { ...auth(), 'content-type': 'application/json', 'content-length': 1_000_000 }),
      undefined,
      (socket) => {
        timer = setInterval(() => socket.writable && socket.write(' '), 50);
      },
    ).finally(() => clearInterval(timer));
    expectEnvelope(answer, 408, 'request_timeout');
    expect(answer.headers.connection).toBe('close');
    await answer.closed;
    // Cut off by the request timeout, not sooner (Node checks it a quarter of the header timeout
    // apart; how much later a loaded machine gets to it is not this test's business).
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
  });

  it('answers a URL with bad percent-encoding with 400 in the envelope', async () => {
    const answer = await rawRequest(port, head('GET', '/api/v1/sessions/%ED%A0%80', auth()));
    expectEnvelope(answer, 400, 'validation_error');
  });

  it('answers an over-long path parameter with 414 in the envelope', async () => {
    const answer = await rawRequest(port, head('GET', `/api/v1/sessions/${'a'.repeat(200)}`, auth()));
    expectEnvelope(answer, 414, 'uri_too_long');
  });

  it('answers oversized headers with 431 in the envelope and closes the connection', async () => {
    const answer = await rawRequest(port, head('GET', '/health/live', { 'x-padding': 'a'.repeat(20_000) }));
    expectEnvelope(answer, 431, 'headers_too_large');
    expect(answer.headers.connection).toBe('close');
    await answer.closed;
  });

  it('answers an unknown route 404 before authentication, and logs it without the query values', async () => {
    const path = '/api/v1/nope?token=wag_01K0000000000000000000ZZZZ_leakedsecretvalue&sig=plainsecret42';
    const anonymous = await rawRequest(port, head('GET', path));
    expectEnvelope(anonymous, 404, 'not_found');
    const known = await rawRequest(port, head('GET', path, auth()));
    expectEnvelope(known, 404, 'not_found');
    expect(known.body.error.message).toBe('no route GET /api/v1/nope');
    const line = (id: string) => gw.output().split('\n').find((l) => l.includes(id) && l.includes('"msg":"request"'));
    for (const id of [anonymous.headers['x-request-id'], known.headers['x-request-id']]) {
      const deadline = Date.now() + HANG_MS;
      while (!line(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(JSON.parse(line(id) ?? '{}')).toMatchObject({ url: '/api/v1/nope?token=[redacted]&sig=[redacted]', status: 404 });
    }
    expect(gw.output()).not.toContain('leakedsecretvalue');
    expect(gw.output()).not.toContain('plainsecret42');
  });

  it('answers an unauthenticated request to a known route 401 in the envelope', async () => {
    expectEnvelope(await rawRequest(port, head('GET', '/api/v1/sessions')), 401, 'unauthorized');
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['charset=utf-16', { 'content-type': 'application/json; charset=utf-16' }],
    ['gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ])('refuses a %s body with 415 in the envelope', async (_label, headers) => {
    const body = Buffer.from('{"name":"x"}');
    const answer = await rawRequest(port, head('POST', '/api/v1/sessions', { ...auth(), ...headers, 'content-length': body.length }), body);
    expectEnvelope(answer, 415, 'unsupported_media_type');
  });

  it('still takes a JSON body in UTF-8, and an empty one as no body', async () => {
    const body = Buffer.from('{"name":"edge ✓"}');
    const created = await rawRequest(port, head('POST', '/api/v1/sessions', { ...auth(), 'content-type': 'application/json; charset=UTF-8', 'content-length': body.length }), body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'edge ✓' });
    const empty = await rawRequest(port, head('POST', `/api/v1/sessions/${created.body.id}/stop`, { ...auth(), 'content-type': 'application/json', 'content-length': 0 }));
    expect(empty.status).not.toBe(400);
    expect(empty.status).not.toBe(415);
  });

  it('refuses nesting past the limit in a small body as in a streamed one, brackets in strings aside', async () => {
    const post = (text: string, chunked = false) => {
      const body = Buffer.from(text);
      const length: Record<string, string | number> = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length };
      const wire = chunked ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
      return rawRequest(port, head('POST', '/api/v1/sessions', { ...auth(), 'content-type': 'application/json', ...length }), wire);
    };
    const nested = (levels: number) => `{"name":"deep [[[ {{{","x":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;
    for (const chunked of [false, true]) {
      const refused = await post(nested(65), chunked);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'validation_error', message: 'request body nests deeper than 64 levels', details: { maxDepth: 64 } });
      // At the limit the body is parsed; the route's schema then has its say (`x` is no field of it).
      const atLimit = await post(nested(64), chunked);
      expect(atLimit.status).toBe(400);
      expect(atLimit.body.error.message).not.toContain('nests deeper');
    }
  });
});

/** A route that stays in flight until the test lets it answer. */
const held: { entered?: () => void; release?: Promise<void> } = {};

@Public()
@Controller('probe')
class HoldController {
  @Get('hold')
  async hold(): Promise<{ done: true }> {
    held.entered?.();
    await held.release;
    return { done: true };
  }
}

@Module({ controllers: [HoldController] })
class HoldModule {}

describe('gateway HTTP edge at shutdown', () => {
  let gw: GatewayHandle;

  beforeAll(async () => {
    gw = await startGateway(await transportEnv(), {}, [HoldModule]);
  });

  afterAll(async () => {
    await dropTestSchemas();
  });

  it('answers the request in flight, and refuses new ones with a 503 envelope, Retry-After and Connection: close', async () => {
    const port = Number(new URL(gw.url).port);
    const entered = new Promise<void>((resolve) => (held.entered = resolve));
    let release!: () => void;
    held.release = new Promise<void>((resolve) => (release = resolve));
    const inFlight = rawRequest(port, head('GET', '/api/v1/probe/hold'));
    let refused!: Promise<RawAnswer>;
    await entered;

    // A request whose head is still arriving keeps its connection busy, so closing keeps it open.
    let late!: Socket;
    const lateConnected = new Promise<void>((resolve) => {
      refused = rawRequest(port, 'GET /health/live HTTP/1.1\r\nhost: localhost\r\n', undefined, (socket) => {
        late = socket;
        resolve();
      });
    });
    await lateConnected;
    const server = gw.app.getHttpServer();
    const connections = () => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    while ((await connections()) < 2) await new Promise((r) => setTimeout(r, 10));
    const closing = gw.close();
    const deadline = Date.now() + HANG_MS;
    while (server.listening && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.listening).toBe(false);
    late.write('\r\n');

    const answer = await refused;
    expectEnvelope(answer, 503, 'service_unavailable');
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.headers.connection).toBe('close');

    release();
    const done = await inFlight;
    expect(done.status).toBe(200);
    expect(done.body).toEqual({ done: true });
    expect(done.headers.connection).toBe('close');
    await closing;
  });
});

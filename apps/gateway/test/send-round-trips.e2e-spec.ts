import { requestContext } from '@wa/contracts';
import { WaSandbox } from '@wa/wa-sandbox';
import { DataSource } from 'typeorm';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, testDatabaseUrl, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { ApiClient } from './session-fixture';

type Query = (...args: unknown[]) => Promise<unknown>;
interface PgPool {
  query: Query;
  connect: () => Promise<{ query: Query; release: () => void }>;
}

/**
 * What one accepted send costs PostgreSQL: the statements issued in the request's own async
 * context (the gateway's request context, by request id; the dispatcher, webhook and purge loops
 * run outside it), each a round
 * trip. A send with an Idempotency-Key writes the key and the entry in one statement; one without
 * joins the other inserts of its turn of the event loop in one multi-row INSERT.
 */
// About PostgreSQL, so on PostgreSQL in both configurations (the transport is the configuration's).
describe('round trips of an accepted send (PostgreSQL)', () => {
  const ORG = 'org-round-trips';
  let stack: { gw: GatewayHandle; idp: TestIdentityProvider; runner: RunnerProcess; sandbox: WaSandbox };
  let client: ApiClient;
  let sessionId: string;
  /** Statements per request id. */
  const issued = new Map<string, string[]>();
  let requests = 0;

  beforeAll(async () => {
    const transport = await transportEnv();
    const sandbox = await (await WaSandbox.create()).start();
    const runner = await startRunner(transport, sandboxRunnerEnv(sandbox));
    const idp = await TestIdentityProvider.start();
    const gw = await startGateway(transport, {
      ...idp.env,
      RATE_LIMIT_FAILED_AUTH: 'off',
      DATABASE_URL: testDatabaseUrl('gateway', 'postgres'),
      SEND_MIN_INTERVAL_MS: '0',
      SEND_JITTER_MS: '0',
      // No timed pass during the tests: entries go out through the dispatcher's kicks alone.
      OUTBOX_POLL_INTERVAL_MS: '60000',
    });
    stack = { gw, idp, runner, sandbox };
    client = new ApiClient(() => stack.gw.url, stack.idp, ORG);
    sessionId = (await client.json<{ id: string }>('/sessions', { method: 'POST', body: { name: 'round trips' } })).id;

    // Every statement names itself (prepared statements) or is its SQL; counted per request.
    const pool = (stack.gw.app.get(DataSource).driver as unknown as { master: PgPool }).master;
    const label = (q: unknown): string => (typeof q === 'string' ? q.slice(0, 60) : ((q as { name?: string; text?: string }).name ?? (q as { text?: string }).text?.slice(0, 60) ?? '?'));
    const count = (original: Query): Query => (...args) => {
      const id = requestContext.getStore()?.requestId;
      if (id) issued.set(id, [...(issued.get(id) ?? []), label(args[0])]);
      return original(...args);
    };
    // pool.query takes a client with connect() and queries through it: counted there, once.
    // Clients taken for transactions count too; TypeORM takes them with a callback, others with a promise.
    const counted = new WeakSet<object>();
    const wrap = <C extends { query: Query }>(c: C): C => {
      if (!counted.has(c)) {
        counted.add(c);
        c.query = count(c.query.bind(c));
      }
      return c;
    };
    const connect = pool.connect.bind(pool) as (cb?: (err: unknown, c?: { query: Query }, release?: unknown) => void) => Promise<{ query: Query; release: () => void }> | void;
    pool.connect = ((cb?: (err: unknown, c?: { query: Query }, release?: unknown) => void) =>
      cb ? connect((err, c, release) => cb(err, c && wrap(c), release)) : (connect() as Promise<{ query: Query; release: () => void }>).then(wrap)) as PgPool['connect'];
  });

  afterAll(async () => {
    await stack?.gw.close();
    await stack?.idp.close();
    await stack?.runner.stop();
    await stack?.sandbox.stop();
    await dropTestSchemas();
  });

  /** Sends one async text and returns the statements its request issued, and its answer. */
  const sendWithAnswer = async (key?: string): Promise<{ statements: string[]; body: { outboxId: string; replayed: boolean } }> => {
    const requestId = `round-trips-${++requests}`;
    const res = await client.call(`/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { prefer: 'respond-async', 'x-request-id': requestId, ...(key ? { 'idempotency-key': key } : {}) },
      body: { chat: '4915112345678@s.whatsapp.net', type: 'text', text: 'counted' },
    });
    // The shared rate limit takes tokens for many requests at a time (one statement a batch, at
    // most one per hold period): not a cost of this send.
    const statements = (issued.get(requestId) ?? []).filter((q) => !q.includes('rate_limit_buckets'));
    expect(res.status).toBe(202);
    return { statements, body: (await res.json()) as { outboxId: string; replayed: boolean } };
  };
  const send = async (key?: string): Promise<string[]> => (await sendWithAnswer(key)).statements;

  it('writes a send with an Idempotency-Key in at most two round trips (session, key + entry)', async () => {
    await send('warm-up'); // prepares the statements on a connection
    const statements = await send(`key-${Date.now()}`);
    expect(statements.length).toBeLessThanOrEqual(2);
    expect(statements).toContain('acceptWithKey');
  });

  it('writes a send without a key in at most two round trips', async () => {
    await send();
    const statements = await send();
    expect(statements.length).toBeLessThanOrEqual(2);
  });

  it('answers a repeated key from the first request: one more lookup, no second entry', async () => {
    const key = `repeat-${Date.now()}`;
    const first = await sendWithAnswer(key);
    const again = await sendWithAnswer(key);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(again.statements).toEqual(['session', 'acceptWithKey', 'idempotency']);
  });

  /**
   * A sync send waits for its hand-over in the request: the dispatcher's claim and result are
   * its round trips too (the drain it kicked runs in its context). The wait reads nothing: the
   * entry is known to wait when it starts, and the hand-over hands it its outcome.
   */
  it('answers a sync send after four round trips: session, entry, claim, result; the wait reads nothing, nor claims again', async () => {
    const linked = await client.linkSession(stack.sandbox, '15550007001', 'sync round trips');
    const contact = await stack.sandbox.createPhone('15550007002', 'Contact');
    const syncSend = async (): Promise<string> => {
      const requestId = `round-trips-${++requests}`;
      const res = await client.call(`/sessions/${linked.id}/messages`, {
        method: 'POST',
        headers: { 'x-request-id': requestId },
        body: { chat: contact.jid, type: 'text', text: 'counted, sync' },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ mode: 'sync', status: 'sent' });
      return requestId;
    };
    const statementsOf = (requestId: string): string[] => (issued.get(requestId) ?? []).filter((q) => !q.includes('rate_limit_buckets'));
    await syncSend();
    const counted = await syncSend();
    // What the hand-over's end leaves behind runs in the request's context after the answer:
    // read once another request has gone through as well.
    await syncSend();
    const statements = statementsOf(counted);
    expect(statements).not.toContain('byId');
    // The result also claims the chat's next entry, if one is due (one round trip for both); with
    // none due, and nothing accepted meanwhile, the chat is not looked at again.
    expect(statements).toEqual(['session', 'insert', 'claimChatHead', 'finishHandedOverClaimNext']);
  });

  /**
   * An end that finds no next entry does not look at its chat again, unless an entry was accepted
   * meanwhile: its own kick found the chat busy, and the end's statement may have been sent before
   * its commit. Entries accepted while earlier ones are handed over, in one chat, with no timed
   * pass to find them: each still goes out, in the order of acceptance. The requests of one wave
   * are concurrent, so they have no order among themselves (on PostgreSQL their inserts may
   * commit in either order, and a chat's order is the order its entries became visible); every
   * wave is sent after the previous one was accepted, so waves go out in order.
   */
  it('hands over entries accepted while their chat was busy without the timed pass', async () => {
    const linked = await client.linkSession(stack.sandbox, '15550007003', 'busy chat');
    const contact = await stack.sandbox.createPhone('15550007004', 'Busy contact');
    const waves: string[][] = [];
    // Waves of concurrent sends: each lands while the chat's previous entries are being handed over.
    for (let wave = 0; wave < 6; wave++) {
      const answers = await Promise.all(
        [0, 1, 2, 3].map(async (i) => {
          const res = await client.call(`/sessions/${linked.id}/messages`, {
            method: 'POST',
            headers: { prefer: 'respond-async' },
            body: { chat: contact.jid, type: 'text', text: `busy ${wave}-${i}` },
          });
          expect(res.status).toBe(202);
          return (await res.json()) as { waMessageId: string; outboxId: string };
        }),
      );
      waves.push(answers.map((a) => a.waMessageId));
    }
    const ids = waves.flat();
    // Well before the 60 s timed pass.
    for (const id of ids) await stack.sandbox.waitForReceived(contact.phone, (m) => m.id === id, 20_000);
    const received = stack.sandbox.received(contact.phone).map((m) => m.id).filter((id) => ids.includes(id));
    expect(received).toHaveLength(ids.length);
    // Each stretch of four received is one wave, whole.
    expect(waves.map((_w, k) => [...received.slice(4 * k, 4 * k + 4)].sort())).toEqual(waves.map((w) => [...w].sort()));
  });
});

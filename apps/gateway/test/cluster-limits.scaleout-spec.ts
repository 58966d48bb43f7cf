import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { bearer } from './api-key-fixture';
import { TestIdentityProvider } from './auth-fixture';
import { spawnGateway, type GatewayProcess } from './gateway-process';
import { dropTestSchemas, freePort, testDatabaseUrl, transportEnv, type TransportEnv } from './harness';

const CLI = join(__dirname, '../dist/cli.js');
const KEY_LIMIT = 50;
const FAILED_AUTH_LIMIT = 10;
// Behind a load balancer every gateway sees the client's address in X-Forwarded-For.
const GUESSER = { 'x-forwarded-for': '203.0.113.7' };

/**
 * A TCP relay between one gateway and NATS that the test can cut and restore, to see what the
 * gateway does while its NATS connection is down.
 */
class NatsRelay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: URL,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port || 4222), this.target.hostname);
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(from);
        from.on('error', () => to.destroy());
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
        from.pipe(to);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Drops every relayed connection and refuses new ones until `open` again. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Scale-out only: two gateway processes on one PostgreSQL schema and one NATS, as behind a load
 * balancer. Rate limits hold for both together (they live in the database), and a key revoked
 * on one gateway, or with the CLI, is refused by the other within a second (a NATS broadcast);
 * while a gateway's NATS link is down it falls back to its key cache (5 s) and says so.
 */
describe('rate limits and revocations across gateway replicas', () => {
  let idp: TestIdentityProvider;
  let transport: TransportEnv;
  let databaseUrl: string;
  let relay: NatsRelay;
  let a: GatewayProcess;
  let b: GatewayProcess;

  const get = (gw: GatewayProcess, token: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${gw.url}/api/v1/api-keys?limit=1`, { headers: { ...bearer(token), ...headers } });

  async function createKey(org: string): Promise<{ id: string; token: string }> {
    const res = await fetch(`${a.url}/api/v1/api-keys`, { method: 'POST', headers: idp.headers(org, 'owner'), body: JSON.stringify({ name: 'replicated', capabilities: ['manage'] }) });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; token: string };
  }

  /** Both gateways have looked the key up: without a broadcast, each would accept it from its cache for 5 s. */
  async function warm(token: string): Promise<void> {
    for (const gw of [a, b]) expect((await get(gw, token)).status).toBe(200);
  }

  /**
   * The broadcast, not the key cache (5 s), refused the key: the gateway logs the revocation it
   * received for this key id, and from then on refuses the key. The time from the revocation is
   * printed (a few milliseconds on a quiet machine); it is not asserted, since a loaded machine
   * stretches it (a fixed 1 s bound failed once at 1.2 s) without saying anything about the path.
   */
  async function expectRefusedByBroadcast(gw: GatewayProcess, key: { id: string; token: string }, revokedAt: number): Promise<void> {
    const ms = await msUntilRefused(gw, key.token, revokedAt, 6_000);
    await waitFor(`gateway ${gw.url} to log the revocation of ${key.id}`, () => (gw.output().split('\n').some((l) => l.includes('API key revocation received') && l.includes(key.id)) ? true : undefined), 15_000);
    process.stdout.write(`revocation of ${key.id} reached ${gw.url} ${ms} ms after it was made\n`);
  }

  /**
   * Milliseconds from `since` until `gw` refuses the key with 401. Before that it may only accept
   * it: 200, or 429 for the key's own rate limit (checked after the key was accepted).
   */
  async function msUntilRefused(gw: GatewayProcess, token: string, since: number, timeoutMs: number): Promise<number> {
    return waitFor(
      `gateway ${gw.url} to refuse the revoked key`,
      async () => {
        const res = await get(gw, token);
        if (res.status === 200) return undefined;
        if (res.status === 429) {
          await expect(res.json()).resolves.toMatchObject({ error: { details: { scope: 'api_key' } } });
          return undefined;
        }
        expect(res.status).toBe(401);
        await expect(res.json()).resolves.toMatchObject({ error: { code: 'unauthorized', message: 'API key revoked' } });
        return Date.now() - since;
      },
      timeoutMs,
    );
  }

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    transport = await transportEnv();
    databaseUrl = testDatabaseUrl('cluster_limits');
    relay = new NatsRelay(await freePort(), new URL(transport.NATS_URL ?? 'nats://127.0.0.1:4222'));
    await relay.open();
    const env = {
      ...idp.env,
      DATABASE_URL: databaseUrl,
      TRUST_PROXY: 'true',
      RATE_LIMIT_PER_API_KEY: `${KEY_LIMIT}/60`,
      RATE_LIMIT_FAILED_AUTH: `${FAILED_AUTH_LIMIT}/60`,
    };
    a = await spawnGateway(transport, env);
    b = await spawnGateway(transport, { ...env, NATS_URL: relay.url });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await relay?.cut();
    await idp?.close();
    await dropTestSchemas();
  });

  it(`admits about ${KEY_LIMIT} requests of a key limited to ${KEY_LIMIT}/60 s across both gateways, not twice that`, async () => {
    const { token } = await createKey('hammered');
    const admitted = [0, 0];
    const refused = [0, 0];
    const started = Date.now();
    // Eight clients, four per gateway, as fast as they can for 3 s and until each gateway has
    // refused 20 requests (a loaded machine may need longer to get there).
    const hammering = (i: number): boolean => (Date.now() - started < 3_000 || refused[i] < 20) && Date.now() - started < 30_000;
    const clients = [a, b].flatMap((gw, i) =>
      Array.from({ length: 4 }, async () => {
        while (hammering(i)) {
          const res = await get(gw, token);
          await res.arrayBuffer();
          if (res.status === 200) admitted[i]++;
          else if (res.status === 429 && Number(res.headers.get('retry-after')) >= 1) refused[i]++;
          else throw new Error(`unexpected answer ${res.status} from ${gw.url}`);
        }
      }),
    );
    await Promise.all(clients);
    const elapsedMs = Date.now() - started;
    const total = admitted[0] + admitted[1];
    // What one bucket admits over the run (its burst plus its refill), within 10%: the design
    // allows 2% + 1 more and a couple fewer (tokens a replica holds when the run ends).
    const oneBucket = KEY_LIMIT + (KEY_LIMIT * elapsedMs) / 60_000;
    expect(total).toBeLessThanOrEqual(oneBucket + KEY_LIMIT * 0.1);
    expect(total).toBeGreaterThanOrEqual(KEY_LIMIT * 0.9);
    expect(admitted[0]).toBeGreaterThan(0);
    expect(admitted[1]).toBeGreaterThan(0);
    expect(Math.min(...refused)).toBeGreaterThanOrEqual(20);
    for (const gw of [a, b]) expect(gw.output()).not.toContain('rate-limit store unavailable');
  });

  it('counts failed authentications of an address on both gateways together', async () => {
    const answers: number[][] = [[], []];
    for (let i = 0; i < 3 * FAILED_AUTH_LIMIT; i++) answers[i % 2].push((await get([a, b][i % 2], 'wag_guessed', GUESSER)).status);
    const failures = [...answers[0], ...answers[1]].filter((s) => s === 401).length;
    // Each gateway may let one attempt through before it hears that the other used the last token.
    expect(failures).toBeGreaterThanOrEqual(FAILED_AUTH_LIMIT);
    expect(failures).toBeLessThanOrEqual(FAILED_AUTH_LIMIT + 2);
    for (const seen of answers) {
      const firstRefusal = seen.indexOf(429);
      expect(firstRefusal).toBeGreaterThan(0);
      expect(seen.slice(firstRefusal).every((s) => s === 429)).toBe(true);
    }
    // Once refused, the address is refused even with a valid token, on both gateways.
    for (const gw of [a, b]) {
      const res = await fetch(`${gw.url}/api/v1/api-keys`, { headers: { ...idp.headers('guessed', 'owner'), ...GUESSER } });
      expect(res.status).toBe(429);
    }
  });

  it('refuses a key on the other gateway by broadcast after the DELETE that revoked it', async () => {
    const key = await createKey('revoked-rest');
    await warm(key.token);
    const res = await fetch(`${a.url}/api/v1/api-keys/${key.id}`, { method: 'DELETE', headers: idp.headers('revoked-rest', 'owner') });
    expect(res.status).toBe(204);
    await expectRefusedByBroadcast(b, key, Date.now());
    expect((await get(a, key.token)).status).toBe(401);
  });

  it('refuses a key on every gateway by broadcast after a CLI revocation', async () => {
    const key = await createKey('revoked-cli');
    await warm(key.token);
    const cli = spawn(process.execPath, [CLI, 'api-key', 'revoke', '--org', 'revoked-cli', '--id', key.id], {
      env: { PATH: process.env.PATH ?? '', ...(transport as unknown as Record<string, string>), DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    cli.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => cli.once('exit', resolve));
    const revokedAt = Date.now();
    expect(code).toBe(0);
    expect(stdout).toContain('within 1 s over NATS');
    await Promise.all([a, b].map((gw) => expectRefusedByBroadcast(gw, key, revokedAt)));
  });

  it('falls back to the key cache while NATS is cut off, says so, and takes broadcasts again once it is back', async () => {
    const missed = await createKey('revoked-offline');
    await warm(missed.token);
    await relay.cut();
    await waitFor('gateway B to log the lost NATS connection', () => (b.output().includes('NATS connection lost') ? true : undefined), 10_000);
    const res = await fetch(`${a.url}/api/v1/api-keys/${missed.id}`, { method: 'DELETE', headers: idp.headers('revoked-offline', 'owner') });
    expect(res.status).toBe(204);
    // B never hears of it: its cached lookup lasts at most 5 s, and it keeps serving meanwhile.
    expect(await msUntilRefused(b, missed.token, Date.now(), 7_000)).toBeLessThan(6_000);
    expect(b.output()).not.toMatch(new RegExp(`API key revocation received.*${missed.id}`));

    await relay.open();
    await waitFor('gateway B to log the NATS connection back', () => (b.output().includes('NATS connection back') ? true : undefined), 15_000);
    const key = await createKey('revoked-online');
    await warm(key.token);
    const again = await fetch(`${a.url}/api/v1/api-keys/${key.id}`, { method: 'DELETE', headers: idp.headers('revoked-online', 'owner') });
    expect(again.status).toBe(204);
    await expectRefusedByBroadcast(b, key, Date.now());
  });
});

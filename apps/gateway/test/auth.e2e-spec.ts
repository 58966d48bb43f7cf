import { listRouteAuthRequirements } from '@wa/auth';
import { claims, closedPortUrl, makeSigningKey, mintHs256WithPublicKey, mintJwt, mintUnsigned, type SigningKey } from '@wa/auth/testing';
import type { Capability } from '@wa/domain';
import { ApiKeysService } from '../src/api-keys/api-keys.service';
import { bearer, startAuthStack, type AuthStack } from './api-key-fixture';
import { TestIdentityProvider } from './auth-fixture';
import { gatewayTransportEnv, spawnGateway } from './gateway-process';
import { dropTestSchemas, startGateway, testDatabaseUrl, transportEnv, type GatewayHandle, type TransportEnv } from './harness';

interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

async function call(gw: { url: string }, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  return fetch(`${gw.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** A key inserted directly, for tests whose subject is not key creation. */
async function keyFor(gw: GatewayHandle, orgId: string, capabilities: Capability[], expiresAt: number | null = null): Promise<string> {
  const created = await gw.app.get(ApiKeysService).issue(orgId, { name: `test ${capabilities.join('+')}`, capabilities, expiresAt, createdBy: 'cli' });
  return created.token;
}

/**
 * For describes whose tests each start a gateway of their own: one transport for the describe,
 * and everything a test starts is closed, newest first, after the last test.
 */
function gatewaysPerTest(): { gateway: (env: Record<string, string>) => Promise<GatewayHandle>; identityProvider: () => Promise<TestIdentityProvider> } {
  let transport: TransportEnv;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    transport = await transportEnv();
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await dropTestSchemas();
  });

  return {
    gateway: async (env) => {
      const gw = await startGateway(transport, { ...(await gatewayTransportEnv(transport)), ...env });
      closers.push(() => gw.close());
      return gw;
    },
    identityProvider: async () => {
      const idp = await TestIdentityProvider.start();
      closers.push(() => idp.close());
      return idp;
    },
  };
}

describe('authentication through the gateway (real HTTP, real JWKS, real runner)', () => {
  let stack: AuthStack | undefined;
  let idp: TestIdentityProvider;
  let gw: GatewayHandle;
  let signingKey: SigningKey;

  beforeAll(async () => {
    stack = await startAuthStack();
    ({ idp, gw } = stack);
    signingKey = idp.jwks.keys[0];
  });

  afterAll(() => stack?.close());

  it('accepts a valid login JWT', async () => {
    const res = await call(gw, 'GET', '/api/v1/api-keys', idp.headers('acme', 'owner'));
    expect(res.status).toBe(200);
  });

  describe('JWT attack set', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const good = (extra: Record<string, unknown> = {}) => claims({ org_id: 'acme', role: 'owner', ...extra });
    const cases: Array<[string, () => string]> = [
      ['alg none', () => mintUnsigned(good(), signingKey.kid)],
      ['HS256 signed with the public key', () => mintHs256WithPublicKey(signingKey, good())],
      ['expired by 31 s', () => mintJwt(signingKey, good({ iat: now() - 400, exp: now() - 31 }))],
      ['nbf in the future', () => mintJwt(signingKey, good({ nbf: now() + 120 }))],
      ['wrong iss', () => mintJwt(signingKey, good({ iss: 'https://evil.example.test' }))],
      ['wrong aud', () => mintJwt(signingKey, good({ aud: 'another-service' }))],
      ['unknown kid', () => mintJwt(makeSigningKey('not-published', 'ES256'), good())],
      [
        'tampered payload',
        () => {
          const [header, , signature] = mintJwt(signingKey, good({ role: 'viewer' })).split('.');
          return `${header}.${Buffer.from(JSON.stringify(good({ role: 'owner', org_id: 'other-org' }))).toString('base64url')}.${signature}`;
        },
      ],
      ['missing org claim', () => mintJwt(signingKey, good({ org_id: undefined }))],
      ['no exp', () => mintJwt(signingKey, good({ exp: undefined }))],
    ];

    it.each(cases)('refuses %s with 401 unauthorized in the envelope', async (_name, token) => {
      const res = await call(gw, 'GET', '/api/v1/api-keys', bearer(token()));
      expect(res.status).toBe(401);
      const body = (await res.json()) as ErrorBody;
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe('unauthorized');
      expect(typeof body.error.message).toBe('string');
    });

    it.each([
      ['no Authorization header', {}],
      ['a Basic header', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['a token of neither shape', { authorization: 'Bearer hello' }],
      ['a malformed API key', { authorization: 'Bearer wag_short' }],
      ['an API key with a wrong secret', { authorization: `Bearer wag_01HZX3K9Q2T4W6Y8A0C2E4G6J8_${'A'.repeat(43)}` }],
    ])('refuses %s with 401 unauthorized', async (_name, headers) => {
      const res = await call(gw, 'GET', '/api/v1/api-keys', headers as Record<string, string>);
      expect(res.status).toBe(401);
      await expect(res.json()).resolves.toMatchObject({ error: { code: 'unauthorized' } });
    });
  });

  describe('API keys', () => {
    it('refuses a revoked key at once and an expired key', async () => {
      const token = await keyFor(gw, 'acme', ['manage']);
      const id = token.split('_')[1];
      // Used once, so the gateway has it cached: the revocation below must beat the cache.
      expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(token))).status).toBe(200);
      expect((await call(gw, 'DELETE', `/api/v1/api-keys/${id}`, idp.headers('acme', 'admin'))).status).toBe(204);
      const revoked = await call(gw, 'GET', '/api/v1/api-keys', bearer(token));
      expect(revoked.status).toBe(401);
      await expect(revoked.json()).resolves.toMatchObject({ error: { code: 'unauthorized', message: 'API key revoked' } });

      const expired = await keyFor(gw, 'acme', ['manage'], Date.now() - 1000);
      const res = await call(gw, 'GET', '/api/v1/api-keys', bearer(expired));
      expect(res.status).toBe(401);
      await expect(res.json()).resolves.toMatchObject({ error: { code: 'unauthorized', message: 'API key expired' } });
    });
  });

  describe('routes', () => {
    it('every registered route declares a capability, "authenticated" or public', () => {
      const routes = listRouteAuthRequirements(gw.app);
      expect(routes.map((r) => `${r.controller}.${r.handler}`)).toEqual(expect.arrayContaining(['ApiKeysController.createApiKey', 'HealthController.live']));
      const undeclared = routes.filter((r) => r.requirement === undefined).map((r) => `${r.controller}.${r.handler}`);
      expect(undeclared).toEqual([]);
    });

    /** Every operation of the served OpenAPI document with the requirement it publishes. */
    async function operations(): Promise<Array<{ method: string; path: string; requirement: string }>> {
      const doc = (await (await fetch(`${gw.url}/docs-json`)).json()) as { paths: Record<string, Record<string, { 'x-capability'?: string }>> };
      const out: Array<{ method: string; path: string; requirement: string }> = [];
      for (const [path, methods] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(methods)) {
          if (op['x-capability']) out.push({ method: method.toUpperCase(), path, requirement: op['x-capability'] });
        }
      }
      return out;
    }

    // Path parameters get a well-formed id: the refusal must come from the capability alone.
    const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '01HZX3K9Q2T4W6Y8A0C2E4G6J8');

    it('answers 403 forbidden, before any validation, to every principal lacking a route\'s capability', async () => {
      const sendKey = await keyFor(gw, 'acme', ['send']);
      const manageKey = await keyFor(gw, 'acme', ['manage']);
      const principals: Array<{ name: string; headers: Record<string, string>; capabilities: Capability[] }> = [
        { name: 'owner JWT', headers: idp.headers('acme', 'owner'), capabilities: ['send', 'manage'] },
        { name: 'admin JWT', headers: idp.headers('acme', 'admin'), capabilities: ['send', 'manage'] },
        { name: 'member JWT', headers: idp.headers('acme', 'member'), capabilities: ['send'] },
        { name: 'viewer JWT', headers: idp.headers('acme', 'viewer'), capabilities: [] },
        { name: 'send key', headers: bearer(sendKey), capabilities: ['send'] },
        { name: 'manage key', headers: bearer(manageKey), capabilities: ['manage'] },
      ];
      const ops = (await operations()).filter((o) => o.requirement === 'send' || o.requirement === 'manage');
      expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(
        expect.arrayContaining(['POST /api/v1/api-keys', 'GET /api/v1/api-keys', 'GET /api/v1/api-keys/{id}', 'DELETE /api/v1/api-keys/{id}']),
      );
      const failures: string[] = [];
      for (const op of ops) {
        for (const p of principals) {
          if (p.capabilities.includes(op.requirement as Capability)) continue;
          // An empty body would be a validation error; it must never get that far.
          const res = await call(gw, op.method, concrete(op.path), p.headers, ['GET', 'DELETE'].includes(op.method) ? undefined : {});
          const body = (await res.json()) as ErrorBody;
          if (res.status !== 403 || body.error?.code !== 'forbidden' || body.error.details.capability !== op.requirement) {
            failures.push(`${p.name} ${op.method} ${op.path}: ${res.status} ${JSON.stringify(body)}`);
          }
        }
      }
      expect(failures).toEqual([]);

      // ...and the principals that do hold the capability get past the guard on the api-keys routes.
      for (const p of principals.filter((q) => q.capabilities.includes('manage'))) {
        expect((await call(gw, 'GET', '/api/v1/api-keys', p.headers)).status).toBe(200);
        expect((await call(gw, 'GET', '/api/v1/api-keys/01HZX3K9Q2T4W6Y8A0C2E4G6J8', p.headers)).status).toBe(404);
        expect((await call(gw, 'POST', '/api/v1/api-keys', p.headers, {})).status).toBe(400);
      }
    });

    it('lets any authenticated principal of the org through "authenticated" routes', async () => {
      const reads = (await operations()).filter((o) => o.requirement === 'authenticated' && o.method === 'GET');
      for (const op of reads) {
        const res = await call(gw, 'GET', concrete(op.path), idp.headers('acme', 'viewer'));
        expect([op.path, res.status]).not.toEqual([op.path, 401]);
        expect([op.path, res.status]).not.toEqual([op.path, 403]);
      }
    });

    it('answers another org\'s key on every api-keys :id route with a body byte-identical to a missing key', async () => {
      const victim = await call(gw, 'POST', '/api/v1/api-keys', idp.headers('victim-org', 'owner'), { name: 'victim', capabilities: ['send'] });
      const { id, token } = (await victim.json()) as { id: string; token: string };
      const idRoutes = (await operations()).filter((o) => o.path.startsWith('/api/v1/api-keys/{id}'));
      expect(idRoutes.length).toBeGreaterThanOrEqual(2);
      for (const op of idRoutes) {
        const attacker = idp.headers('attacker-org', 'owner');
        const theirs = await call(gw, op.method, op.path.replace('{id}', id), attacker);
        const missing = await call(gw, op.method, op.path.replace('{id}', '01HZX3K9Q2T4W6Y8A0C2E4G6J8'), attacker);
        const malformed = await call(gw, op.method, op.path.replace('{id}', 'not-a-ulid'), attacker);
        expect([theirs.status, missing.status, malformed.status]).toEqual([404, 404, 404]);
        const [a, b, c] = await Promise.all([theirs.text(), missing.text(), malformed.text()]);
        expect(a).toBe(b);
        expect(c).toBe(b);
        expect(JSON.parse(a)).toEqual({ error: { code: 'not_found', message: 'API key not found', details: {} } });
      }
      // The attacker's DELETE changed nothing: the victim's key still works.
      expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(token))).status).toBe(403);
      expect((await call(gw, 'GET', `/api/v1/api-keys/${id}`, idp.headers('victim-org', 'owner'))).status).toBe(200);
      await expect((await call(gw, 'GET', `/api/v1/api-keys/${id}`, idp.headers('victim-org', 'owner'))).json()).resolves.toMatchObject({ revokedAt: null });
    });
  });
});

describe('JWKS rotation and outage', () => {
  const own = gatewaysPerTest();

  it('accepts a token signed with a new kid once the issuer publishes it, and drops the withdrawn key', async () => {
    const idp = await own.identityProvider();
    // The shortest refetch interval the gateway allows (default 30 s), so the test can wait it out.
    const gw = await own.gateway({ ...idp.env, AUTH_JWKS_REFETCH_INTERVAL_MS: '1000' });
    const oldKey = idp.jwks.keys[0];
    const oldToken = mintJwt(oldKey, claims({ org_id: 'acme', role: 'owner' }));
    expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(oldToken))).status).toBe(200);

    const newKey = makeSigningKey('test-key-2', 'RS256');
    idp.jwks.keys = [newKey];
    const newToken = mintJwt(newKey, claims({ org_id: 'acme', role: 'owner' }));
    // Accepted once the gateway has refetched the key set (at most a refetch interval from now);
    // polled rather than slept, since a busy machine may take longer than the interval. Every 250
    // ms, so the refusals until then stay far below the failed-auth limit (20 a minute).
    const deadline = Date.now() + 15_000;
    const withNewKey = async (): Promise<number> => {
      const res = await call(gw, 'GET', '/api/v1/api-keys', bearer(newToken));
      await res.arrayBuffer();
      return res.status;
    };
    let status: number;
    while ((status = await withNewKey()) !== 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(status).toBe(200);
    // The refetch replaced the key set: the issuer withdrew the old key, so its tokens stop working.
    const old = await call(gw, 'GET', '/api/v1/api-keys', bearer(oldToken));
    expect(old.status).toBe(401);
    await expect(old.json()).resolves.toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('answers 503 service_unavailable in the envelope when the JWKS cannot be reached, and API keys keep working', async () => {
    const gw = await own.gateway({
      AUTH_JWKS_URL: await closedPortUrl(),
      AUTH_JWT_ISSUER: 'https://login.example.test',
      AUTH_JWT_AUDIENCE: 'wa-gateway',
    });
    const idp = await own.identityProvider();
    const res = await call(gw, 'GET', '/api/v1/api-keys', idp.headers('acme', 'owner'));
    expect(res.status).toBe(503);
    const body = (await res.json()) as ErrorBody;
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe('service_unavailable');
    // Token shape picks the verifier: an outage of the JWKS never touches API keys.
    const key = await keyFor(gw, 'acme', ['manage']);
    expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(key))).status).toBe(200);
  });
});

describe('rate limits', () => {
  const own = gatewaysPerTest();

  it('answers 429 rate_limited with Retry-After once a key used its budget, without slowing other keys', async () => {
    const gw = await own.gateway({ RATE_LIMIT_PER_API_KEY: '3/60' });
    const busy = await keyFor(gw, 'acme', ['manage']);
    const other = await keyFor(gw, 'acme', ['manage']);
    for (let i = 0; i < 3; i++) expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(busy))).status).toBe(200);
    const res = await call(gw, 'GET', '/api/v1/api-keys', bearer(busy));
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'rate_limited' } });
    expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(other))).status).toBe(200);
  });

  it('answers 429 per organization across its keys', async () => {
    const gw = await own.gateway({ RATE_LIMIT_PER_ORG: '4/60' });
    const keys = [await keyFor(gw, 'busy-org', ['manage']), await keyFor(gw, 'busy-org', ['manage'])];
    for (let i = 0; i < 4; i++) expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(keys[i % 2]))).status).toBe(200);
    const res = await call(gw, 'GET', '/api/v1/api-keys', bearer(keys[1]));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    const calm = await keyFor(gw, 'calm-org', ['manage']);
    expect((await call(gw, 'GET', '/api/v1/api-keys', bearer(calm))).status).toBe(200);
  });

  it('answers 429 to an address after repeated failed authentications, even with a valid token', async () => {
    const idp = await own.identityProvider();
    const gw = await own.gateway({ ...idp.env, RATE_LIMIT_FAILED_AUTH: '3/60' });
    for (let i = 0; i < 3; i++) expect((await call(gw, 'GET', '/api/v1/api-keys', bearer('wag_nope'))).status).toBe(401);
    for (const headers of [bearer('wag_nope'), idp.headers('acme', 'owner')]) {
      const res = await call(gw, 'GET', '/api/v1/api-keys', headers);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await expect(res.json()).resolves.toMatchObject({ error: { code: 'rate_limited' } });
    }
  });
});

describe('logs', () => {
  afterAll(async () => {
    await dropTestSchemas();
  });

  it('never contain a login token, an API key or its secret, even at debug level', async () => {
    const transport = await transportEnv();
    const idp = await TestIdentityProvider.start();
    const gw = await spawnGateway(transport, { ...idp.env, DATABASE_URL: testDatabaseUrl('logs'), LOG_LEVEL: 'debug', RATE_LIMIT_FAILED_AUTH: 'off' });
    try {
      const jwt = idp.token('acme', 'owner');
      const created = await call(gw, 'POST', '/api/v1/api-keys', bearer(jwt), { name: 'logged?', capabilities: ['send', 'manage'] });
      expect(created.status).toBe(201);
      const { id, token } = (await created.json()) as { id: string; token: string };
      const secret = token.slice(`wag_${id}_`.length);
      const wrongSecret = `wag_${id}_${'B'.repeat(43)}`;
      const badJwt = `${jwt.slice(0, -4)}AAAA`;
      for (const t of [token, wrongSecret, jwt, badJwt, 'wag_garbage']) await call(gw, 'GET', '/api/v1/api-keys', bearer(t));
      await call(gw, 'DELETE', `/api/v1/api-keys/${id}`, bearer(jwt));
      await call(gw, 'GET', '/api/v1/api-keys', bearer(token));
      await call(gw, 'GET', `/api/v1/nothing?x=1`, bearer(token));

      await gw.stop();
      const log = gw.output();
      // The capture works: the requests above are in it.
      expect(log).toContain('"url":"/api/v1/api-keys"');
      for (const leaked of [token, secret, wrongSecret.slice(-43), jwt, jwt.split('.')[2], badJwt]) expect(log).not.toContain(leaked);
      expect(log).not.toMatch(/wag_[0-9A-Z]{26}_/);
      expect(log).not.toMatch(/eyJ[A-Za-z0-9_-]+\.eyJ/);
    } finally {
      await gw.stop();
      await idp.close();
    }
  });
});

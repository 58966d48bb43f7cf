import 'reflect-metadata';
import {
  Catch,
  Controller,
  Get,
  Module,
  Post,
  type ArgumentsHost,
  type DynamicModule,
  type ExceptionFilter,
  type INestApplication,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { AppError, type Capability } from '@wa/domain';
import {
  AuthGuard,
  AuthModule,
  CurrentPrincipal,
  Public,
  RequireAuthenticated,
  RequireCapability,
  addAuthSecuritySchemes,
  generateApiKey,
  listRouteAuthRequirements,
  type ApiKeyLookup,
  type ApiKeyRecord,
  type AuthModuleOptions,
  type Principal,
} from '../src/index';
import { AUDIENCE, ISSUER, JwksServer, claims, makeSigningKey, mintJwt } from '../src/testing';

@Controller('things')
class ThingsController {
  @Get('health')
  @Public()
  health() {
    return { ok: true };
  }

  @Get()
  @RequireAuthenticated()
  list(@CurrentPrincipal() principal: Principal) {
    return { kind: principal.kind, orgId: principal.orgId, subject: principal.subject };
  }

  @Post('send')
  @RequireCapability('send')
  send() {
    return { done: 'send' };
  }

  @Post('manage')
  @RequireCapability('manage')
  manage() {
    return { done: 'manage' };
  }
}

@Controller('legacy')
class LegacyController {
  @Get()
  forgotten() {
    return { leaked: true };
  }
}

/** What the gateway's global filter does with an AppError, including `Retry-After`. */
@Catch(AppError)
class EnvelopeFilter implements ExceptionFilter {
  catch(err: AppError, host: ArgumentsHost) {
    const reply = host.switchToHttp().getResponse<{ header(name: string, value: string): unknown; status(code: number): { send(body: unknown): unknown } }>();
    if (typeof err.details.retryAfterSeconds === 'number') reply.header('Retry-After', String(err.details.retryAfterSeconds));
    void reply.status(err.status).send({ error: err.toJSON() });
  }
}

class MemoryKeys implements ApiKeyLookup {
  readonly rows = new Map<string, ApiKeyRecord>();
  async findById(id: string) {
    return this.rows.get(id);
  }
  add(capabilities: Capability[]): string {
    const key = generateApiKey();
    this.rows.set(key.id, { id: key.id, orgId: 'org-1', capabilities, hash: key.hash });
    return key.token;
  }
}

async function startApp(options: AuthModuleOptions | DynamicModule, keys?: MemoryKeys): Promise<NestFastifyApplication> {
  const auth = 'module' in options ? options : AuthModule.forRoot({ ...options, apiKeyLookup: { useValue: keys! } });
  @Module({
    imports: [auth],
    controllers: [ThingsController, LegacyController],
    providers: [
      { provide: APP_GUARD, useExisting: AuthGuard },
      { provide: APP_FILTER, useClass: EnvelopeFilter },
    ],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  // trustProxy lets each test pose as its own client address through X-Forwarded-For.
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ trustProxy: true }), { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/**
 * Real HTTP rather than `app.inject`: light-my-request pulls in the ESM-only `cookie` 2, which
 * Jest on Node 20 cannot require.
 */
async function request(
  app: NestFastifyApplication,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${await app.getUrl()}${path}`, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const rsa = makeSigningKey('rsa-1', 'RS256');

describe(AuthGuard.name, () => {
  let jwks: JwksServer;
  let keys: MemoryKeys;
  let app: NestFastifyApplication;
  let address = 0;

  const call = (method: 'GET' | 'POST', path: string, token?: string, clientAddress = `10.0.0.${++address}`) =>
    request(app, method, path, { 'x-forwarded-for': clientAddress, ...(token ? { authorization: `Bearer ${token}` } : {}) });

  beforeAll(async () => {
    jwks = await JwksServer.start([rsa]);
    keys = new MemoryKeys();
    app = await startApp(
      { jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE }, rateLimits: { failedAuthPerAddress: { limit: 3, windowSec: 60 } } },
      keys,
    );
  });

  afterAll(async () => {
    await app.close();
    await jwks.close();
  });

  describe('capability matrix', () => {
    const callers: Record<string, () => string | undefined> = {
      anonymous: () => undefined,
      'owner JWT': () => mintJwt(rsa, claims({ role: 'owner' })),
      'member JWT': () => mintJwt(rsa, claims({ role: 'member' })),
      'viewer JWT': () => mintJwt(rsa, claims({ role: 'viewer' })),
      'send key': () => keys.add(['send']),
      'manage key': () => keys.add(['manage']),
    };
    const expected: Array<[string, number, number, number, number]> = [
      // caller        health list send manage
      ['anonymous', 200, 401, 401, 401],
      ['owner JWT', 200, 200, 201, 201],
      ['member JWT', 200, 200, 201, 403],
      ['viewer JWT', 200, 200, 403, 403],
      ['send key', 200, 200, 201, 403],
      ['manage key', 200, 200, 403, 201],
    ];

    it.each(expected)('%s: health %i, list %i, send %i, manage %i', async (caller, health, list, send, manage) => {
      const token = callers[caller]();
      const statuses = [
        (await call('GET', '/things/health', token)).status,
        (await call('GET', '/things', token)).status,
        (await call('POST', '/things/send', token)).status,
        (await call('POST', '/things/manage', token)).status,
      ];
      expect(statuses).toEqual([health, list, send, manage]);
    });
  });

  it('answers a missing capability with 403 forbidden in the error envelope', async () => {
    const res = await call('POST', '/things/manage', keys.add(['send']));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: { code: 'forbidden', message: 'this action needs the "manage" capability', details: { capability: 'manage' } },
    });
  });

  it('hands the principal to the handler', async () => {
    const token = keys.add(['send']);
    const res = await call('GET', '/things', token);
    expect(res.body).toEqual({ kind: 'api_key', orgId: 'org-1', subject: token.split('_')[1] });
    const user = await call('GET', '/things', mintJwt(rsa, claims({ sub: 'alice', org_id: 'org-7' })));
    expect(user.body).toEqual({ kind: 'user', orgId: 'org-7', subject: 'alice' });
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['an empty bearer', 'Bearer '],
    ['a token of neither shape', 'Bearer hello-world'],
    ['a malformed key', 'Bearer wag_nope'],
  ])('answers %s with 401 unauthorized', async (_case, authorization) => {
    const res = await request(app, 'GET', '/things', { 'x-forwarded-for': `10.1.0.${++address}`, ...(authorization ? { authorization } : {}) });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'unauthorized', details: {} } });
  });

  it('refuses a route that declares no requirement, for every caller', async () => {
    const res = await call('GET', '/legacy', mintJwt(rsa, claims({ role: 'owner' })));
    expect(res.status).toBe(403);
    expect(res.body).not.toHaveProperty('leaked');
  });

  it('lists every route with its requirement, so an undeclared one can fail a test', () => {
    const routes = listRouteAuthRequirements(app);
    expect(routes).toEqual(
      expect.arrayContaining([
        { controller: 'ThingsController', handler: 'health', requirement: 'public' },
        { controller: 'ThingsController', handler: 'list', requirement: 'authenticated' },
        { controller: 'ThingsController', handler: 'send', requirement: 'send' },
        { controller: 'ThingsController', handler: 'manage', requirement: 'manage' },
      ]),
    );
    expect(routes.filter((r) => r.requirement === undefined)).toEqual([
      { controller: 'LegacyController', handler: 'forgotten', requirement: undefined },
    ]);
  });

  it('answers 429 with Retry-After once an address failed too often, even with a valid token', async () => {
    const bad = `wag_${generateApiKey().id}_${'x'.repeat(43)}`;
    for (let i = 0; i < 3; i++) expect((await call('GET', '/things', bad, '192.0.2.7')).status).toBe(401);
    const refused = await call('GET', '/things', keys.add(['send']), '192.0.2.7');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('20');
    expect(refused.body).toEqual({
      error: { code: 'rate_limited', message: 'too many failed authentication attempts', details: { scope: 'address', retryAfterSeconds: 20 } },
    });
    expect((await call('GET', '/things', keys.add(['send']), '192.0.2.8')).status).toBe(200);
  });

  it('answers a JWT with 503 while the JWKS is down, and never tries it as an API key; keys keep working', async () => {
    const outage = await JwksServer.start([rsa]);
    outage.status = 502;
    const lookups = jest.spyOn(keys, 'findById');
    const isolated = await startApp({ jwt: { jwksUrl: outage.url, issuer: ISSUER, audience: AUDIENCE } }, keys);
    try {
      const res = await request(isolated, 'GET', '/things', { authorization: `Bearer ${mintJwt(rsa, claims())}` });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: { code: 'service_unavailable' } });
      expect(lookups).not.toHaveBeenCalled();

      const withKey = await request(isolated, 'GET', '/things', { authorization: `Bearer ${keys.add(['send'])}` });
      expect(withKey.status).toBe(200);
    } finally {
      lookups.mockRestore();
      await isolated.close();
      await outage.close();
    }
  });

  it('refuses JWTs with a clear 401 when JWT authentication is not configured', async () => {
    const keysOnly = await startApp({}, keys);
    try {
      const res = await request(keysOnly, 'GET', '/things', { authorization: `Bearer ${mintJwt(rsa, claims())}` });
      expect(res.status).toBe(401);
      expect(res.body.error.message).toMatch(/JWT authentication is not configured/);
      const withKey = await request(keysOnly, 'GET', '/things', { authorization: `Bearer ${keys.add(['send'])}` });
      expect(withKey.status).toBe(200);
    } finally {
      await keysOnly.close();
    }
  });

  it('wires through forRootAsync with configuration and a lookup exported by another module', async () => {
    const CONFIG = Symbol('CONFIG');
    @Module({
      providers: [
        { provide: MemoryKeys, useValue: keys },
        { provide: CONFIG, useValue: { jwt: { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE } } },
      ],
      exports: [MemoryKeys, CONFIG],
    })
    class InfraModule {}
    const wired = await startApp(
      AuthModule.forRootAsync({
        imports: [InfraModule],
        inject: [CONFIG],
        useFactory: (config: AuthModuleOptions) => config,
        apiKeyLookup: { useExisting: MemoryKeys },
      }),
    );
    try {
      expect((await request(wired, 'POST', '/things/send', { authorization: `Bearer ${keys.add(['send'])}` })).status).toBe(201);
      const member = mintJwt(rsa, claims({ role: 'member' }));
      expect((await request(wired, 'POST', '/things/manage', { authorization: `Bearer ${member}` })).status).toBe(403);
    } finally {
      await wired.close();
    }
  });

  describe('OpenAPI', () => {
    let doc: OpenAPIObject;
    beforeAll(() => {
      doc = SwaggerModule.createDocument(app as INestApplication, addAuthSecuritySchemes(new DocumentBuilder()).build());
    });

    it('declares the bearer (JWT) and apiKey security schemes', () => {
      expect(doc.components?.securitySchemes).toEqual({
        bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
        apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer', description: expect.stringMatching(/API key/) }),
      });
    });

    const op = (path: string, method: 'get' | 'post') => doc.paths[path][method] as Record<string, any>;

    it('publishes each route requirement as x-capability, with security and error responses', () => {
      const send = op('/things/send', 'post');
      expect(send['x-capability']).toBe('send');
      expect(send.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
      expect(send.responses['401']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelopeDto' } } } });
      expect(send.responses['403']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelopeDto' } } } });
      expect(send.responses['429']).toMatchObject({ headers: { 'Retry-After': expect.anything() } });
      expect(op('/things/manage', 'post')['x-capability']).toBe('manage');

      const list = op('/things', 'get');
      expect(list['x-capability']).toBe('authenticated');
      expect(list.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
      expect(list.responses['403']).toBeUndefined();

      const health = op('/things/health', 'get');
      expect(health['x-capability']).toBe('public');
      expect(health.security).toBeUndefined();
      expect(health.responses['401']).toBeUndefined();
    });
  });
});

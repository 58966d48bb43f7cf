import { AsyncResource } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { Public } from '@wa/auth';
import { currentRequestId, named, Type, type Static } from '@wa/contracts';
import { ValidBody } from '../src/http/request-schema';
import { dropTestSchemas, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { HANG_MS } from './deadlines';

const Probe = named(
  'Probe',
  Type.Object(
    {
      email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', example: 'a@b.co' }),
      count: Type.Integer({ minimum: 1, maximum: 10 }),
      address: Type.Object({ city: Type.String() }, { additionalProperties: false }),
    },
    { additionalProperties: false },
  ),
);

/** Routes that exist only in this test, to reach the pipe and the filter through real HTTP. */
@Public()
@Controller('probe')
class ProbeController {
  @Post()
  echo(@ValidBody(Probe) body: Static<typeof Probe>): Static<typeof Probe> {
    return body;
  }

  /** The request id as the handler sees it after a few turns of the event loop (what its logs carry). */
  @Post('context')
  async context(@ValidBody(Probe) body: Static<typeof Probe>): Promise<{ requestId?: string; count: number }> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { requestId: currentRequestId(), count: body.count };
  }

  @Get('crash')
  crash(): never {
    throw new Error('secret internal detail at /srv/app.js:12');
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('gateway foundation (real HTTP app + real runner process)', () => {
  let transport: TransportEnv;
  let runner: RunnerProcess;
  let gw: GatewayHandle;

  beforeAll(async () => {
    transport = await transportEnv();
    runner = await startRunner(transport);
    gw = await startGateway(transport, { HTTP_BODY_LIMIT_BYTES: '4096' }, [ProbeModule]);
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await dropTestSchemas();
  });

  it('answers liveness and echoes a caller-supplied request id', async () => {
    const res = await fetch(`${gw.url}/health/live`, { headers: { 'x-request-id': 'trace-123' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    await expect(res.json()).resolves.toEqual({ status: 'ok' });
  });

  it('is ready when the database and the runner answer over the transport', async () => {
    const res = await fetch(`${gw.url}/health/ready`);
    await expect(res.json()).resolves.toEqual({ status: 'ok', checks: { database: 'ok', runner: 'ok' } });
    expect(res.status).toBe(200);
  });

  it.each([
    ['GET', '/api/v1/nothing-here'],
    ['POST', '/api/v1/nothing-here'],
    ['DELETE', '/somewhere/else'],
  ])('answers an unknown route %s %s with 404 not_found in the envelope', async (method, path) => {
    const res = await fetch(`${gw.url}${path}`, { method });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('not_found');
    expect(Object.keys(body)).toEqual(['error']);
  });

  it('answers malformed JSON with 400 validation_error', async () => {
    const res = await fetch(`${gw.url}/api/v1/probe`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email": ' });
    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'validation_error' } });
  });

  it('answers a body over the limit with 413 payload_too_large', async () => {
    const res = await fetch(`${gw.url}/api/v1/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@b.co', count: 1, address: { city: 'x'.repeat(5000) } }),
    });
    expect(res.status).toBe(413);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('reports every invalid field, including nested ones and unknown fields', async () => {
    const res = await fetch(`${gw.url}/api/v1/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nope', count: 11, address: { city: 5 }, admin: true }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { fields: { field: string }[] } } };
    expect(body.error.code).toBe('validation_error');
    expect(body.error.details.fields.map((f) => f.field).sort()).toEqual(['address.city', 'admin', 'count', 'email']);
  });

  it('accepts a valid body', async () => {
    const res = await fetch(`${gw.url}/api/v1/probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@b.co', count: 3, address: { city: 'Berlin' } }),
    });
    expect(res.status).toBe(201);
    await expect(res.json()).resolves.toEqual({ email: 'a@b.co', count: 3, address: { city: 'Berlin' } });
  });

  it('keeps the request id in the async context of the handler without AsyncResource.bind (Node 20 builds deprecation wrappers on each call)', async () => {
    // fastify's body parsing and Nest's interceptors carry the context; patches/ makes both use
    // runInAsyncScope, as AsyncResource.bind made two util.deprecate wrappers (DEP0172) per call.
    const original = AsyncResource.prototype.bind;
    let binds = 0;
    AsyncResource.prototype.bind = function (this: AsyncResource, ...args: Parameters<typeof original>) {
      binds++;
      return original.apply(this, args);
    } as typeof original;
    try {
      const answers = await Promise.all(
        ['ctx-one', 'ctx-two', 'ctx-three'].map(async (id) => {
          const res = await fetch(`${gw.url}/api/v1/probe/context`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-request-id': id },
            body: JSON.stringify({ email: 'a@b.co', count: 2, address: { city: 'Berlin' } }),
          });
          expect(res.status).toBe(201);
          return [id, (await res.json()) as { requestId?: string }] as const;
        }),
      );
      for (const [id, body] of answers) expect(body.requestId).toBe(id);
    } finally {
      AsyncResource.prototype.bind = original;
    }
    expect(binds).toBe(0);
  });

  it('turns an unexpected error into 500 internal_error with the request id and no internals', async () => {
    const res = await fetch(`${gw.url}/api/v1/probe/crash`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret internal detail');
    expect(text).not.toContain('.js:');
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal_error', message: 'internal error', details: { requestId: res.headers.get('x-request-id') } } });
  });

  it('serves the OpenAPI document and the Swagger UI', async () => {
    const doc = (await (await fetch(`${gw.url}/docs-json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toContain('/health/ready');
    const ui = await fetch(`${gw.url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('turns readiness into a fast 503 in the envelope when the runner is gone', async () => {
    await runner.stop('SIGKILL');
    const started = Date.now();
    const res = await fetch(`${gw.url}/health/ready`);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(503);
    await expect(res.json()).resolves.toMatchObject({
      error: { code: 'service_unavailable', details: { checks: { database: 'ok', runner: expect.stringMatching(/^failed/) } } },
    });
  });
});

describe('gateway configuration errors', () => {
  const main = join(__dirname, '../dist/main.js');
  it.each([
    ['PORT', 'abc'],
    ['DATABASE_URL', 'mysql://x'],
    ['TRANSPORT', 'carrier-pigeon'],
    ['RUNNER_URL', 'http://127.0.0.1:1'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses to start with one clear line naming %s', (name, value) => {
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', [name]: value }, encoding: 'utf8', timeout: HANG_MS });
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
  });
});

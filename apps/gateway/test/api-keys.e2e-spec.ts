import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ApiKeysController } from '../src/api-keys/api-keys.controller';
import { BOOTSTRAP_LOG_MARKER } from '../src/api-keys/api-keys.bootstrap';
import { bearer, startAuthStack, type AuthStack } from './api-key-fixture';
import type { TestIdentityProvider } from './auth-fixture';
import { gatewayTransportEnv, spawnGateway, type GatewayProcess } from './gateway-process';
import { dropTestSchemas, startGateway, testDatabaseUrl, transportEnv, type GatewayHandle, type TransportEnv } from './harness';
import { until } from './webhooks-helpers';
import { HANG_MS } from './deadlines';

interface KeyBody {
  id: string;
  name: string;
  capabilities: string[];
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  token?: string;
}

const CLI = join(__dirname, '../dist/cli.js');

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe(ApiKeysController.name, () => {
  let stack: AuthStack | undefined;
  let idp: TestIdentityProvider;
  let gw: GatewayHandle;

  const api = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${gw.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });

  async function create(orgId: string, body: unknown, headers = idp.headers(orgId, 'owner')): Promise<KeyBody> {
    const res = await api('POST', '/api-keys', headers, body);
    expect(res.status).toBe(201);
    return (await res.json()) as KeyBody;
  }

  beforeAll(async () => {
    stack = await startAuthStack();
    ({ idp, gw } = stack);
  });

  afterAll(() => stack?.close());

  it('creates a key that is shown once, works at once and carries what was asked', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const key = await create('acme', { name: 'CRM sync', capabilities: ['send', 'manage'], expiresAt });
    expect(key).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      name: 'CRM sync',
      capabilities: ['send', 'manage'],
      createdBy: 'user:user-acme-owner',
      createdAt: expect.any(String),
      lastUsedAt: null,
      expiresAt,
      revokedAt: null,
      token: expect.stringMatching(/^wag_[0-9A-HJKMNP-TV-Z]{26}_[A-Za-z0-9_-]{43}$/),
    });
    expect(key.token!.startsWith(`wag_${key.id}_`)).toBe(true);
    const res = await api('GET', `/api-keys/${key.id}`, bearer(key.token!));
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain(key.token!.slice(-43));
    // The use is recorded off the request path, so the answer to that first request may predate it.
    const shown = await until(async () => {
      const again = (await (await api('GET', `/api-keys/${key.id}`, idp.headers('acme', 'owner'))).json()) as KeyBody;
      return again.lastUsedAt !== null && again;
    });
    expect(shown).toEqual({ ...key, token: undefined, lastUsedAt: expect.any(String) });
    expect(JSON.stringify(shown)).not.toContain(key.token!.slice(-43));
  });

  it('never returns a secret or a hash when listing or reading', async () => {
    const key = await create('quiet', { name: 'one', capabilities: ['manage'] });
    const text = await (await api('GET', '/api-keys', bearer(key.token!))).text();
    expect(text).not.toContain(key.token!.slice(-43));
    expect(text).not.toMatch(/hash|secret|token/i);
    expect(JSON.parse(text)).toEqual({ data: [expect.objectContaining({ id: key.id, name: 'one' })], nextCursor: '' });
  });

  it.each([
    ['an empty name', { name: '', capabilities: ['send'] }, 'name'],
    ['a 201-character name', { name: 'x'.repeat(201), capabilities: ['send'] }, 'name'],
    ['no capabilities', { name: 'k', capabilities: [] }, 'capabilities'],
    ['an unknown capability', { name: 'k', capabilities: ['send', 'admin'] }, 'capabilities[1]'],
    ['capabilities as a string', { name: 'k', capabilities: 'send' }, 'capabilities'],
    ['an expiry in the past', { name: 'k', capabilities: ['send'], expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
    ['an expiry that is not a date', { name: 'k', capabilities: ['send'], expiresAt: 'tomorrow' }, 'expiresAt'],
    ['an unknown field', { name: 'k', capabilities: ['send'], orgId: 'other' }, 'orgId'],
  ])('refuses %s with 400 validation_error naming the field', async (_name, body, field) => {
    const res = await api('POST', '/api-keys', idp.headers('acme', 'owner'), body);
    expect(res.status).toBe(400);
    const error = ((await res.json()) as { error: { code: string; details: { fields: { field: string }[] } } }).error;
    expect(error.code).toBe('validation_error');
    expect(error.details.fields.map((f) => f.field)).toContain(field);
  });

  it('never lets a key grant more than its creator has', async () => {
    const manageOnly = await create('ceiling', { name: 'manager', capabilities: ['manage'] });
    const res = await api('POST', '/api-keys', bearer(manageOnly.token!), { name: 'escalate', capabilities: ['send', 'manage'] });
    expect(res.status).toBe(403);
    await expect(res.json()).resolves.toEqual({
      error: { code: 'forbidden', message: 'a key cannot be granted "send": the caller does not have that capability', details: { capability: 'send' } },
    });
    const child = await create('ceiling', { name: 'child', capabilities: ['manage'] }, bearer(manageOnly.token!));
    expect(child.createdBy).toBe(`api_key:${manageOnly.id}`);
    // The org comes from the caller, never from the request: the key lands in the creator's org.
    const list = (await (await api('GET', '/api-keys', idp.headers('ceiling', 'admin'))).json()) as { data: KeyBody[] };
    expect(list.data.map((k) => k.name)).toEqual(['manager', 'child']);
  });

  it('pages through the org\'s keys in creation order with an opaque cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create('pager', { name: `k${i}`, capabilities: ['send'] })).id);
    await create('not-pager', { name: 'elsewhere', capabilities: ['send'] });
    const seen: string[] = [];
    const cursors: string[] = [];
    let cursor = '';
    do {
      const res = await api('GET', `/api-keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`, idp.headers('pager', 'owner'));
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: KeyBody[]; nextCursor: string };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((k) => k.id));
      cursor = page.nextCursor;
      if (cursor) cursors.push(cursor);
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(cursors).toHaveLength(2);
    for (const c of cursors) expect(ids).not.toContain(c);
  });

  it.each([['limit=0'], ['limit=101'], ['limit=abc'], ['cursor=bm90LWFuLWlk'], ['foo=1']])('refuses ?%s with 400 validation_error', async (query) => {
    const res = await api('GET', `/api-keys?${query}`, idp.headers('acme', 'owner'));
    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'validation_error' } });
  });

  it('revokes with 204, idempotently, keeping the first revocation time', async () => {
    const key = await create('revoker', { name: 'short-lived', capabilities: ['manage'] });
    expect((await api('GET', '/api-keys', bearer(key.token!))).status).toBe(200);
    const first = await api('DELETE', `/api-keys/${key.id}`, idp.headers('revoker', 'owner'));
    expect(first.status).toBe(204);
    expect(await first.text()).toBe('');
    expect((await api('GET', '/api-keys', bearer(key.token!))).status).toBe(401);
    const shown = (await (await api('GET', `/api-keys/${key.id}`, idp.headers('revoker', 'owner'))).json()) as KeyBody;
    expect(shown.revokedAt).not.toBeNull();
    expect((await api('DELETE', `/api-keys/${key.id}`, idp.headers('revoker', 'owner'))).status).toBe(204);
    const again = (await (await api('GET', `/api-keys/${key.id}`, idp.headers('revoker', 'owner'))).json()) as KeyBody;
    expect(again.revokedAt).toBe(shown.revokedAt);
  });

  it('answers a malformed id like a missing one (404, identical body)', async () => {
    const missing = await api('GET', '/api-keys/01HZX3K9Q2T4W6Y8A0C2E4G6J8', idp.headers('acme', 'owner'));
    const malformed = await api('GET', '/api-keys/%20or%201=1', idp.headers('acme', 'owner'));
    expect([missing.status, malformed.status]).toEqual([404, 404]);
    expect(await malformed.text()).toBe(await missing.text());
  });
});

describe('gateway CLI: api-key', () => {
  let transport: TransportEnv;
  let gw: GatewayHandle | undefined;

  beforeAll(async () => {
    transport = await transportEnv();
  });

  afterAll(async () => {
    await gw?.close();
    await dropTestSchemas();
  });

  it('creates a key that a gateway on the same database accepts, lists it and revokes it', async () => {
    const env = { DATABASE_URL: testDatabaseUrl('cli') };
    const created = await runCli(['api-key', 'create', '--org', 'acme', '--capabilities', 'send,manage', '--name', 'ops', '--expires-in-days', '7'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const tokens = created.stdout.match(/wag_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}/g) ?? [];
    expect(tokens).toHaveLength(1);
    const token = tokens[0] ?? '';
    const id = token.split('_')[1] ?? '';

    gw = await startGateway(transport, { ...(await gatewayTransportEnv(transport)), ...env });
    const res = await fetch(`${gw.url}/api/v1/api-keys/${id}`, { headers: bearer(token) });
    expect(res.status).toBe(200);
    const key = (await res.json()) as KeyBody;
    expect(key).toMatchObject({ name: 'ops', capabilities: ['send', 'manage'], createdBy: 'cli', revokedAt: null });
    expect(Date.parse(key.expiresAt!) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

    const listed = await runCli(['api-key', 'list', '--org', 'acme'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(token.slice(-43));
    expect((await runCli(['api-key', 'list', '--org', 'someone-else'], env)).stdout).not.toContain(id);

    expect((await runCli(['api-key', 'revoke', '--org', 'someone-else', '--id', id], env)).code).toBe(1);
    const revoked = await runCli(['api-key', 'revoke', '--org', 'acme', '--id', id], env);
    expect(revoked.code).toBe(0);
    // The CLI cannot reach an embedded gateway's cache, which keeps a key at most 5 s; the
    // deadline is for a hang, not a measure (a loaded machine may poll late).
    const deadline = Date.now() + HANG_MS;
    let status = 200;
    while (status !== 401 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await fetch(`${gw.url}/api/v1/api-keys`, { headers: bearer(token) })).status;
    }
    expect(status).toBe(401);
  });

  // Every kind of bad command line is refused in-process by src/cli-args.spec.ts; these two prove
  // the process turns a refusal into exit code 2 with the usage on stderr.
  it.each([
    ['no arguments', []],
    ['an unknown capability', ['api-key', 'create', '--org', 'a', '--capabilities', 'send,root']],
  ])('exits 2 with the usage on %s', async (_name, args) => {
    const r = await runCli(args, { DATABASE_URL: 'sqlite::memory:' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^gateway: .+\n/);
    expect(r.stderr).toContain('usage:');
  });
});

describe('bootstrap key', () => {
  let transport: TransportEnv;

  beforeAll(async () => {
    transport = await transportEnv();
  });

  afterAll(async () => {
    await dropTestSchemas();
  });

  const bootstrapLines = (log: string) => log.split('\n').filter((l) => l.includes(BOOTSTRAP_LOG_MARKER));
  /** The log is written asynchronously: a started gateway's line may reach the pipe after its health check answers. */
  const printedBy = async (processes: GatewayProcess[]): Promise<string[]> => {
    const deadline = Date.now() + HANG_MS;
    let lines: string[] = [];
    while ((lines = processes.flatMap((p) => bootstrapLines(p.output()))).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return lines;
  };

  it('is printed once on the first start with an empty key table, works, and is never printed again', async () => {
    const env = { DATABASE_URL: testDatabaseUrl('bootstrap'), BOOTSTRAP_ORG: 'acme' };
    const first = await spawnGateway(transport, env);
    let token: string;
    try {
      const lines = await printedBy([first]);
      expect(lines).toHaveLength(1);
      const tokens = (lines[0] ?? '').match(/wag_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}/g) ?? [];
      expect(tokens).toHaveLength(1);
      token = tokens[0] ?? '';
      const res = await fetch(`${first.url}/api/v1/api-keys`, { headers: bearer(token) });
      expect(res.status).toBe(200);
      await expect(res.json()).resolves.toEqual({
        data: [expect.objectContaining({ name: 'bootstrap', capabilities: ['send', 'manage'], createdBy: 'bootstrap', expiresAt: null })],
        nextCursor: '',
      });
      // The one line is the only place the key appears.
      expect(first.output().split(token).length).toBe(2);
    } finally {
      await first.stop();
    }

    const second = await spawnGateway(transport, env);
    try {
      expect((await fetch(`${second.url}/api/v1/api-keys`, { headers: bearer(token) })).status).toBe(200);
    } finally {
      await second.stop();
    }
    // Read once it has stopped: everything it logged is in.
    expect(bootstrapLines(second.output())).toEqual([]);
    expect(second.output()).not.toContain(token);
  });

  it('is created by exactly one of several replicas starting at once', async () => {
    const env = { DATABASE_URL: testDatabaseUrl('bootstrap_race') };
    // Migrate first, as a rolling deployment would: the race under test is the bootstrap, not the schema.
    await (await spawnGateway(transport, env)).stop();
    const replicas = await Promise.all([0, 1, 2].map(() => spawnGateway(transport, { ...env, BOOTSTRAP_ORG: 'acme' })));
    try {
      await printedBy(replicas);
      await Promise.all(replicas.slice(0, 2).map((r) => r.stop()));
      // The two stopped have logged everything; the one left logs nothing more at start-up.
      const printed = replicas.flatMap((r) => bootstrapLines(r.output()));
      expect(printed).toHaveLength(1);
      const token = ((printed[0] ?? '').match(/wag_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}/) ?? [''])[0];
      const res = await fetch(`${replicas[2].url}/api/v1/api-keys`, { headers: bearer(token) });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { data: unknown[] }).data).toHaveLength(1);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it('is not created when BOOTSTRAP_ORG is unset', async () => {
    const gw = await spawnGateway(transport, { DATABASE_URL: testDatabaseUrl('no_bootstrap') });
    await gw.stop();
    expect(bootstrapLines(gw.output())).toEqual([]);
    expect(gw.output()).not.toMatch(/wag_[0-9A-Z]{26}_/);
  });
});

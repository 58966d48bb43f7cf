import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES } from '@wa/contracts';
import { ERROR_STATUS } from '@wa/domain';

/**
 * The committed document passes both linters a reader's tooling is likely to run (Redocly's
 * `recommended` and Spectral's `spectral:oas` rules, configured in this package's redocly.yaml
 * and .spectral.yaml), and keeps the promises the linters cannot check.
 */

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const DOCUMENT = 'openapi.json';

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(join(BIN, command), args, {
    cwd: ROOT,
    encoding: 'utf8',
    // A deadline for a hang: a loaded 2-core CI run took Spectral past 60 s.
    timeout: 240_000,
    // No usage reports or update checks from a test run.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

interface Operation {
  operationId: string;
  tags?: string[];
  description?: string;
  security?: unknown[];
  requestBody?: unknown;
  'x-capability'?: string;
  responses: Record<string, { description?: string; headers?: Record<string, unknown>; content?: Record<string, { schema?: { $ref?: string; type?: string; format?: string }; examples?: Record<string, { value: unknown }> }> }>;
}

const doc = JSON.parse(readFileSync(join(ROOT, DOCUMENT), 'utf8')) as {
  tags: Array<{ name: string; description?: string }>;
  servers: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { bearerFormat?: string }> };
};
const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

describe('OpenAPI lint', () => {
  it('passes `redocly lint` (recommended) with no error and no warning', () => {
    const { status, output } = run('redocly', ['lint', DOCUMENT, '--format=json']);
    const report = JSON.parse(output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1)) as { totals: { errors: number; warnings: number }; problems: unknown[] };
    expect({ status, totals: report.totals, problems: report.problems }).toEqual({ status: 0, totals: expect.objectContaining({ errors: 0, warnings: 0 }), problems: [] });
  });

  it('passes `spectral lint` (spectral:oas) with no problem of any severity', () => {
    const { status, output } = run('spectral', ['lint', DOCUMENT, '--ruleset', '.spectral.yaml', '--fail-severity=hint']);
    expect({ status, output: output.trim() }).toEqual({ status: 0, output: expect.stringContaining("No results with a severity of 'hint' or higher found!") });
  });
});

describe('OpenAPI content', () => {
  it('gives every operation a <tag>_<verb> id, a described tag and a description', () => {
    const described = new Set(doc.tags.filter((t) => t.description).map((t) => t.name));
    for (const { op } of operations) {
      expect(op.tags).toHaveLength(1);
      const tag = op.tags![0];
      expect({ id: op.operationId, described: described.has(tag) }).toEqual({ id: expect.stringMatching(new RegExp(`^${tag.replace(/-/g, '_')}_[a-z]+(_[a-z]+)*$`)), described: true });
      expect(op.description?.trim()).toBeTruthy();
    }
    expect(doc.servers.length).toBeGreaterThan(0);
  });

  it('documents every error response with the envelope and examples whose code belongs to the status', () => {
    for (const { path, method, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description?.trim()).toBeTruthy();
        if (Number(status) < 400) continue;
        const json = response.content?.['application/json'];
        const where = `${method.toUpperCase()} ${path} ${status}`;
        expect({ where, schema: json?.schema?.$ref }).toEqual({ where, schema: '#/components/schemas/ErrorEnvelopeDto' });
        const examples = Object.values(json?.examples ?? {});
        expect({ where, count: examples.length > 0 }).toEqual({ where, count: true });
        for (const example of examples) {
          const code = (example.value as { error: { code: keyof typeof ERROR_STATUS } }).error.code;
          expect({ where, status: ERROR_STATUS[code] }).toEqual({ where, status: Number(status) });
        }
      }
    }
  });

  it('documents 400 with details.fields, 500 with details.requestId and 429 with Retry-After', () => {
    for (const { op } of operations) {
      const value = (status: string) => Object.values(op.responses[status]?.content?.['application/json']?.examples ?? {})[0]?.value as { error: { details: Record<string, unknown> } } | undefined;
      expect(op.responses['500']).toBeDefined();
      expect(value('500')?.error.details.requestId).toEqual(expect.any(String));
      if (op.responses['400']) expect(value('400')?.error.details.fields).toEqual(expect.any(Array));
      if (op.responses['429']) expect(op.responses['429'].headers?.['Retry-After']).toBeDefined();
    }
  });

  it('declares 400/413/415 on every operation a body can be sent to, and public routes as needing no token', () => {
    for (const { method, op } of operations) {
      if (method !== 'get') expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '413', '415']));
      if (op['x-capability'] === 'public') expect(op.security).toEqual([]);
      else expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '429', '500', '503']));
      if (op['x-capability'] === 'send' || op['x-capability'] === 'manage') expect(op.responses['403']).toBeDefined();
    }
  });

  it('tells the API-key scheme from the JWT one', () => {
    expect(doc.components.securitySchemes.bearer.bearerFormat).toBe('JWT');
    expect(doc.components.securitySchemes.apiKey.bearerFormat).toMatch(/^wag_/);
  });

  it('shows SendResult examples true to the mode, and the QR PNG as binary', () => {
    const send = doc.paths['/api/v1/sessions/{id}/messages'].post.responses;
    for (const example of Object.values(send['202'].content!['application/json'].examples!)) expect(example.value).toMatchObject({ mode: 'async', status: 'queued' });
    for (const example of Object.values(send['200'].content!['application/json'].examples!)) expect(example.value).toMatchObject({ mode: 'sync' });
    expect(doc.paths['/api/v1/sessions/{id}/qr'].get.responses['200'].content!['image/png'].schema).toEqual({ type: 'string', format: 'binary' });
  });

  it('documents the envelope of every event type from the event stream', () => {
    const stream = doc.paths['/api/v1/events'].get.responses['200'].content!['text/event-stream'].schema as unknown as { oneOf: Array<{ $ref: string }> };
    const referenced = stream.oneOf.map((s) => s.$ref.replace('#/components/schemas/', ''));
    const types = referenced.map((name) => {
      const schema = doc.components.schemas[name] as { description?: string; properties: { type: { enum?: string[]; example?: string } } };
      expect(schema.description?.trim()).toBeTruthy();
      return schema.properties.type.enum?.[0] ?? schema.properties.type.example;
    });
    expect(types.sort()).toEqual([...EVENT_TYPES].sort());
  });
});

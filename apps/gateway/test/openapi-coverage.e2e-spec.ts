import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_STATUS, type ErrorCode } from '@wa/domain';
import { startAuthStack, type AuthStack } from './api-key-fixture';

/**
 * Observed against documented: every operation of the committed document is called the ways a
 * client gets it wrong (no token, a principal lacking the capability, unknown ids, a bad body,
 * query or path parameter, a body that is not JSON) and the right way where that needs no
 * fixture; each answer's status must be documented for that operation, and each error must be
 * the documented envelope with a code the document shows for that status.
 */

interface Parameter {
  name: string;
  in: string;
  schema?: { type?: string };
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: unknown;
  'x-capability'?: string;
  responses: Record<string, { content?: Record<string, { examples?: Record<string, { value: { error: { code: string } } }> }> }>;
}

interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
  example?: unknown;
}

const doc = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
};

/** A body made of the documented examples (the first branch of a union): what a reader would try first. */
function exampleBody(op: Operation): unknown {
  const body = op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined;
  let schema = body?.content?.['application/json']?.schema;
  for (let i = 0; schema && i < 5; i++) {
    if (schema.$ref) schema = doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')];
    else if (schema.oneOf) schema = schema.oneOf[0];
    else break;
  }
  if (!schema?.properties) return undefined;
  return Object.fromEntries(Object.entries(schema.properties).filter(([, p]) => p.example !== undefined).map(([name, p]) => [name, p.example]));
}
const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));

const UNKNOWN_ID = '01HZX3K9Q2T4W6Y8A0C2E4G6J8';
/** Well-formed values no fixture owns: a call that gets past validation meets a 404. */
const WELL_FORMED: Record<string, string> = {
  mid: '3EB0C431C26A1916E07A',
  chat: '491701234567@s.whatsapp.net',
  group: '120363041234567890@g.us',
  phone: '491701234567',
};
/** Values every path-parameter schema refuses (a JID parameter needs an `@`). */
const MALFORMED: Record<string, string> = { chat: 'not-a-jid', group: 'not-a-jid', phone: '12' };

function concrete(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(values[name] ?? WELL_FORMED[name] ?? UNKNOWN_ID));
}

interface Probe {
  name: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Observation {
  status: number;
  contentType: string;
  body: unknown;
}

describe('OpenAPI: observed statuses are documented', () => {
  let stack: AuthStack;

  beforeAll(async () => {
    stack = await startAuthStack();
  });

  afterAll(async () => {
    await stack?.close();
  });

  async function observe(method: string, probe: Probe): Promise<Observation> {
    // The event stream never ends: its answer is judged by the status line and headers alone.
    const abort = new AbortController();
    const res = await fetch(`${stack.gw.url}${probe.path}`, { method, headers: probe.headers, body: probe.body, signal: abort.signal });
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.startsWith('text/event-stream')) {
      abort.abort();
      return { status: res.status, contentType, body: undefined };
    }
    const text = await res.text();
    return { status: res.status, contentType, body: contentType.includes('json') && text ? (JSON.parse(text) as unknown) : text };
  }

  function probesFor(path: string, method: string, op: Operation): Probe[] {
    const owner = stack.idp.headers('acme', 'owner');
    const json = { authorization: owner.authorization, 'content-type': 'application/json' };
    const takesBody = method !== 'GET' && method !== 'HEAD';
    const probes: Probe[] = [
      { name: 'no token', path: concrete(path, {}), headers: {} },
      { name: 'unknown ids', path: concrete(path, {}), headers: { authorization: owner.authorization }, ...(op.requestBody ? { headers: json, body: '{}' } : {}) },
    ];
    if (op['x-capability'] === 'send' || op['x-capability'] === 'manage') {
      probes.push({ name: 'viewer (no capability)', path: concrete(path, {}), headers: stack.idp.headers('acme', 'viewer') });
    }
    for (const param of op.parameters ?? []) {
      if (param.in === 'path' && MALFORMED[param.name]) probes.push({ name: `bad path parameter ${param.name}`, path: concrete(path, { [param.name]: MALFORMED[param.name] }), headers: { authorization: owner.authorization } });
      if (param.in === 'query' && (param.schema?.type === 'integer' || param.schema?.type === 'number')) {
        probes.push({ name: `bad query ${param.name}`, path: `${concrete(path, {})}?${param.name}=abc`, headers: { authorization: owner.authorization } });
      }
    }
    if (op.parameters?.some((p) => p.in === 'query')) probes.push({ name: 'unknown query parameter', path: `${concrete(path, {})}?nope=1`, headers: { authorization: owner.authorization } });
    const example = exampleBody(op);
    if (example !== undefined) probes.push({ name: 'example body', path: concrete(path, {}), headers: json, body: JSON.stringify(example) });
    if (takesBody) {
      probes.push({ name: 'body not JSON', path: concrete(path, {}), headers: { authorization: owner.authorization, 'content-type': 'text/plain' }, body: 'hello' });
      probes.push({ name: 'malformed JSON', path: concrete(path, {}), headers: json, body: '{"a":' });
      if (op.requestBody) probes.push({ name: 'body of the wrong shape', path: concrete(path, {}), headers: json, body: '[1,2,3]' });
    }
    return probes;
  }

  it('documents every status each operation answers, with the documented envelope', async () => {
    expect(operations.length).toBeGreaterThan(40);
    const problems: string[] = [];
    const seen = new Map<string, Set<number>>();
    for (const { path, method, op } of operations) {
      const documented = op.responses;
      for (const probe of probesFor(path, method, op)) {
        const { status, contentType, body } = await observe(method, probe);
        const where = `${op.operationId} (${method} ${path}) ${probe.name}: ${status}`;
        seen.set(op.operationId, (seen.get(op.operationId) ?? new Set()).add(status));
        if (!documented[String(status)]) {
          problems.push(`${where} is not documented (documented: ${Object.keys(documented).join(', ')}) ${JSON.stringify(body)}`);
          continue;
        }
        if (status < 400) continue;
        const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
        if (!contentType.startsWith('application/json') || typeof error?.message !== 'string' || typeof error.details !== 'object' || error.details === null) {
          problems.push(`${where} is not the error envelope: ${contentType} ${JSON.stringify(body)}`);
          continue;
        }
        const code = error.code as ErrorCode;
        const codes = Object.values(documented[String(status)].content?.['application/json']?.examples ?? {}).map((e) => e.value.error.code);
        if (ERROR_STATUS[code] !== status || !codes.includes(code)) problems.push(`${where} answered code ${String(code)}; documented codes: ${codes.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);

    // The probes did reach each class of answer somewhere: a walk that only ever saw 401 proves nothing.
    const all = new Set([...seen.values()].flatMap((s) => [...s]));
    expect([...all].sort()).toEqual(expect.arrayContaining([200, 201, 400, 401, 403, 404, 415]));
    for (const { op } of operations) {
      if (op['x-capability'] !== 'public') expect([op.operationId, seen.get(op.operationId)?.has(401)]).toEqual([op.operationId, true]);
    }
  });
});

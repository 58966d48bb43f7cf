// Reads the committed OpenAPI document: the operations to fuzz, and valid bodies built from
// their schemas (with the fixture's real ids where a schema names a chat, a sender or a
// session), so that a mutation changes one thing in a request that would otherwise get deep.
import { readFileSync } from 'node:fs';
import { setKey } from './json-text.mjs';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * @typedef {{ name: string, in: 'path'|'query'|'header', required: boolean, schema: object }} Param
 * @typedef {{ id: string, method: string, path: string, params: Param[], body: object|undefined,
 *   bodyRequired: boolean, capability: string|undefined, public: boolean, statuses: string[], async: boolean }} Operation
 */

export function loadDocument(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

export function resolve(doc, schema) {
  let s = schema;
  for (let i = 0; s && s.$ref && i < 20; i++) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    s = path.reduce((node, key) => node?.[key], doc);
  }
  if (s && Array.isArray(s.allOf) && s.allOf.length === 1 && !s.properties) return { ...resolve(doc, s.allOf[0]), ...omit(s, 'allOf') };
  return s ?? {};
}

const omit = (object, key) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

/** @returns {Operation[]} */
export function listOperations(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = (op.parameters ?? []).map((p) => resolve(doc, p)).map((p) => ({ name: p.name, in: p.in, required: !!p.required, schema: resolve(doc, p.schema) }));
      const json = op.requestBody?.content?.['application/json'];
      ops.push({
        id: op.operationId ?? `${method} ${path}`,
        method: method.toUpperCase(),
        path,
        params,
        body: json ? json.schema : undefined,
        bodyRequired: !!op.requestBody?.required,
        capability: op['x-capability'] === 'send' || op['x-capability'] === 'manage' ? op['x-capability'] : undefined,
        public: !op.security || op.security.length === 0,
        statuses: Object.keys(op.responses ?? {}),
        // Outbox writes: the ones that take Prefer: respond-async and may wait in sync mode.
        async: params.some((p) => p.in === 'header' && p.name.toLowerCase() === 'prefer'),
      });
    }
  }
  return ops;
}

/**
 * A valid value for `schema`. Every field it writes is recorded in `fields` (path, schema,
 * whether required) so that mutations can pick one. `hints(name, schema)` supplies values the
 * fixture knows (a connected chat, a sender) and returns undefined otherwise.
 */
export function sample(doc, schema, rng, hints, fields = [], path = [], required = true) {
  const s = resolve(doc, schema);
  const name = path.length ? path[path.length - 1] : '';
  if (s.oneOf) {
    const variant = rng.pick(s.oneOf);
    return sample(doc, variant, rng, hints, fields, path, required);
  }
  fields.push({ path, schema: s, required });
  const hinted = typeof name === 'string' ? hints(name, s) : undefined;
  if (hinted !== undefined) return hinted;
  if (s.enum) return rng.pick(s.enum);
  if (s.example !== undefined && s.type !== 'object' && s.type !== 'array') return s.example;
  switch (s.type) {
    case 'object': {
      const out = {};
      const req = new Set(s.required ?? []);
      for (const [key, prop] of Object.entries(s.properties ?? {})) {
        if (req.has(key) || rng.chance(0.5)) setKey(out, key, sample(doc, prop, rng, hints, fields, [...path, key], req.has(key)));
      }
      if (!s.properties && s.example && typeof s.example === 'object') Object.assign(out, s.example);
      return out;
    }
    case 'array': {
      if (Array.isArray(s.example)) {
        s.example.forEach((_, i) => fields.push({ path: [...path, i], schema: resolve(doc, s.items ?? {}), required: false }));
        return [...s.example];
      }
      const n = Math.max(s.minItems ?? 0, 1);
      return Array.from({ length: n }, (_, i) => sample(doc, s.items ?? {}, rng, hints, fields, [...path, i], false));
    }
    case 'integer':
      return s.minimum ?? 1;
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return rng.chance(0.5);
    case 'string':
      if (s.format === 'date-time') return new Date(Date.now() + 365 * 86_400_000).toISOString();
      return 'x'.repeat(Math.max(s.minLength ?? 1, 1));
    default:
      return 'x';
  }
}

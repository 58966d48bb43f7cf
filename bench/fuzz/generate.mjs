// Request i of a run: an operation of the OpenAPI document (round robin, so every operation
// gets its share), a caller (owner key, a key lacking the operation's capability, another
// organization's key, no or broken credentials), a valid request built from the schema and the
// fixture, then one or two hostile changes to it.
import { gzipSync } from 'node:zlib';
import { RawJson, clone, setKey, toJsonText } from './json-text.mjs';
import { sample } from './openapi.mjs';
import {
  ACCEPTS,
  CONTENT_ENCODINGS,
  CONTENT_TYPES,
  IDEMPOTENCY_KEYS,
  LAST_EVENT_IDS,
  NASTY_STRINGS,
  PATH_SEGMENTS,
  PREFERS,
  PROTOTYPE_NAMES,
  QUERY_CURSORS,
  QUERY_EXTRAS,
  QUERY_LIMITS,
  WRONG_TYPES,
  badAuthorization,
  deepValue,
  hugeArray,
  hugeString,
} from './hostile.mjs';
import { Rng } from './rng.mjs';

/** Operations that would use up the fixture get its spare resources instead. */
const USES_SPARE = new Set(['sessions_delete', 'sessions_logout', 'sessions_stop', 'sessions_request_pairing_code', 'api_keys_revoke', 'webhooks_delete']);

const SPARE_ON_DELETE = { '/api/v1/sessions/{id}': 'doomedSessionId', '/api/v1/api-keys/{id}': 'spareKeyId', '/api/v1/webhooks/{id}': 'spareWebhookId' };

const ulid = (rng) => Array.from({ length: 26 }, () => rng.pick('0123456789ABCDEFGHJKMNPQRSTVWXYZ'.split(''))).join('');

function pathValue(op, name, fx, rng) {
  const spare = USES_SPARE.has(op.id);
  switch (name) {
    case 'id':
      if (op.path.startsWith('/api/v1/sessions/')) return op.id === 'sessions_delete' ? fx.doomedSessionId : spare ? fx.spareSessionId : fx.sessionId;
      if (op.path.startsWith('/api/v1/api-keys/')) return spare ? fx.spareKeyId : fx.keyId;
      if (op.path.startsWith('/api/v1/webhooks/')) return (spare ? fx.spareWebhookId : fx.webhookId) ?? ulid(rng);
      return ulid(rng);
    case 'mid':
      return op.id === 'messages_vote' ? fx.pollMid : fx.textMid;
    case 'chat':
      return encodeURIComponent(fx.chat);
    case 'phone':
      return fx.phone;
    case 'group':
      return encodeURIComponent(fx.group);
    case 'outboxId':
      return fx.outboxId;
    default:
      return ulid(rng);
  }
}

function queryValue(name, fx) {
  switch (name) {
    case 'limit':
      return '10';
    case 'chat':
      return encodeURIComponent(fx.chat);
    case 'types':
      return 'message.received,message.status';
    case 'sessionId':
      return fx.sessionId;
    default:
      return undefined;
  }
}

function bodyHints(op, fx) {
  return (name, schema) => {
    if (name === 'chat') return fx.chat;
    if (name === 'sender') return fx.me;
    if (name === 'sessionIds') return [fx.sessionId];
    if (name === 'replyTo') return { id: fx.textMid, sender: fx.me };
    if (name === 'options' && op.id === 'messages_vote') return ['Yes'];
    if (name === 'base64') return Buffer.from('fuzz media bytes').toString('base64');
    if (name === 'mimetype' && schema.type === 'string') return 'image/jpeg';
    return undefined;
  };
}

// A body that an earlier mutation made RawJson text is opaque: paths into it lead nowhere.
const isContainer = (node) => !!node && typeof node === 'object' && !(node instanceof RawJson);
const getAt = (root, path) => path.reduce((node, key) => (isContainer(node) ? node[key] : undefined), root);
function setAt(root, path, value) {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1));
  if (isContainer(parent)) setKey(parent, path[path.length - 1], value);
  return root;
}
function deleteAt(root, path) {
  const parent = getAt(root, path.slice(0, -1));
  if (isContainer(parent)) delete parent[path[path.length - 1]];
  return root;
}

/** Body mutations: each returns [new body value, description]. */
const BODY_MUTATIONS = [
  [14, 'wrong type', (rng, body, fields) => {
    const f = rng.pick(fields);
    const v = rng.pick(WRONG_TYPES);
    return [setAt(body, f.path, v), `${fmtPath(f.path)} = ${toJsonText(v)}`];
  }],
  [8, 'missing field', (rng, body, fields) => {
    const req = fields.filter((f) => f.required && f.path.length > 0);
    if (!req.length) return [{}, 'empty object'];
    const f = rng.pick(req);
    return [deleteAt(body, f.path), `without ${fmtPath(f.path)}`];
  }],
  [6, 'extra field', (rng, body, fields) => {
    const objects = fields.filter((f) => f.schema.type === 'object');
    const at = objects.length ? rng.pick(objects).path : [];
    const key = rng.pick(['extra', 'isAdmin', 'orgId', 'id', '', '\u0000', '\ud800', 'k'.repeat(1000), ...PROTOTYPE_NAMES]);
    const target = getAt(body, at);
    if (isContainer(target) && !Array.isArray(target)) setKey(target, key, rng.pick([true, 'x', { polluted: true }, 1]));
    return [body, `extra key ${JSON.stringify(key).slice(0, 40)} at ${fmtPath(at)}`];
  }],
  [6, 'huge string', (rng, body, fields) => {
    const f = rng.pick(fields.filter((x) => x.schema.type === 'string').concat(fields).slice(0, 50));
    const s = hugeString(rng);
    return [setAt(body, f.path, s), `${fmtPath(f.path)} = string of ${s.length} chars`];
  }],
  [5, 'huge array', (rng, body, fields) => {
    const arrays = fields.filter((x) => x.schema.type === 'array');
    const f = arrays.length ? rng.pick(arrays) : rng.pick(fields);
    const a = hugeArray(rng);
    return [setAt(body, f.path, a), `${fmtPath(f.path)} = array of ${a.text.split(',').length}`];
  }],
  [9, 'deep nesting', (rng, body, fields) => {
    const v = deepValue(rng);
    const depth = (v.text.match(/[[{]/g) ?? []).length;
    if (rng.chance(0.3)) return [v, `whole body nested ${depth} deep`];
    const f = rng.pick(fields);
    return [setAt(body, f.path, v), `${fmtPath(f.path)} nested ${depth} deep`];
  }],
  [8, 'nasty string', (rng, body, fields) => {
    const strings = fields.filter((x) => x.schema.type === 'string' || x.schema.enum);
    const f = strings.length ? rng.pick(strings) : rng.pick(fields);
    const s = rng.pick(NASTY_STRINGS);
    return [setAt(body, f.path, s), `${fmtPath(f.path)} = ${JSON.stringify(s).slice(0, 60)}`];
  }],
  [9, 'prototype key', (rng, body, fields) => {
    const objects = fields.filter((f) => f.schema.type === 'object');
    const at = objects.length ? rng.pick(objects).path : [];
    const target = getAt(body, at);
    const key = rng.pick(PROTOTYPE_NAMES);
    const value = rng.pick([{ polluted: true }, { prototype: { polluted: true } }, 'x', 1, null, [], { toString: 'x', valueOf: 1 }]);
    if (rng.chance(0.2)) return [setKey({}, key, body), `body wrapped in ${key}`];
    if (isContainer(target) && !Array.isArray(target)) setKey(target, key, value);
    return [body, `${fmtPath([...at, key])} = ${toJsonText(value)}`];
  }],
  [12, 'prototype name as enum value', (rng, body, fields) => {
    const enums = fields.filter((f) => f.schema.enum || f.path[f.path.length - 1] === 'type');
    const f = enums.length ? rng.pick(enums) : rng.pick(fields);
    const v = rng.pick(PROTOTYPE_NAMES);
    if (!enums.length && isContainer(body)) return [setKey(body, 'type', v), `type = ${v} (no enum field)`];
    return [setAt(body, f.path, v), `${fmtPath(f.path)} = ${JSON.stringify(v)}`];
  }],
  [7, 'not an object', (rng) => {
    const v = rng.pick([null, [], [{}], 0, -1, 'text', true, new RawJson('""'), new RawJson('1e400'), [[[[]]]]]);
    return [v, `body ${toJsonText(v)}`];
  }],
  [4, 'duplicate key', (rng, body, fields) => {
    const f = rng.pick(fields.filter((x) => x.path.length === 1).concat([{ path: ['type'] }]));
    const key = f.path[0];
    const text = toJsonText(body);
    const dup = rng.pick(['"__proto__"', 'null', '{}', '1', '"toString"']);
    return [new RawJson(text.startsWith('{') && text.length > 2 ? `{${JSON.stringify(key)}:${dup},${text.slice(1)}` : text), `duplicate key ${key} (first ${dup})`];
  }],
];

const fmtPath = (path) => (path.length ? path.map(String).join('.') : '(body)');

/** Raw body and encoding mutations: [bytes, headers to set, description]. */
const RAW_MUTATIONS = [
  (rng, text) => [Buffer.from(text.slice(0, Math.max(1, rng.int(1, text.length - 1)))), {}, 'truncated JSON'],
  (rng, text) => [Buffer.from(`${text.replace(/}$/, ',}')}`), {}, 'trailing comma'],
  () => [Buffer.from("{'type':'text'}"), {}, 'single quotes'],
  (rng, text) => [Buffer.from(`\ufeff${text}`), {}, 'byte order mark'],
  (rng, text) => [Buffer.from(`${text}garbage`), {}, 'trailing garbage'],
  (rng, text) => [Buffer.from(`${text}${text}`), {}, 'two JSON documents'],
  () => [Buffer.from('{"a":NaN,"b":Infinity,"c":undefined}'), {}, 'NaN/Infinity literals'],
  () => [Buffer.from('/* c */ {"a":1} // c'), {}, 'comments'],
  () => [Buffer.alloc(0), {}, 'empty body'],
  () => [Buffer.from('   \n\t  '), {}, 'whitespace only'],
  () => [Buffer.from([0]), {}, 'NUL byte'],
  () => [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x22, 0x7d]), {}, 'invalid UTF-8 in a string'],
  (rng, text) => [Buffer.from(text, 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' }, 'UTF-16 body'],
  (rng, text) => [Buffer.from(text, 'utf16le'), {}, 'UTF-16 body labelled UTF-8'],
  (rng, text) => [Buffer.from(text), { 'content-encoding': rng.pick(CONTENT_ENCODINGS) }, 'content-encoding on a plain body'],
  (rng, text) => [gzipSync(Buffer.from(text)), { 'content-encoding': 'gzip' }, 'gzip body'],
  () => [gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' }, 'gzip bomb (5 MB of spaces)'],
  (rng, text) => [Buffer.from(text), { 'content-type': rng.pick(CONTENT_TYPES) }, 'content type'],
  (rng, text) => [Buffer.from(text), { 'content-type': undefined }, 'no content type'],
  () => [Buffer.from(`{"text":"${'z'.repeat(3 * 1024 * 1024)}"}`), {}, 'body over the limit (3 MB)'],
  () => [Buffer.from('type=text&chat=x&__proto__[a]=1'), { 'content-type': 'application/x-www-form-urlencoded' }, 'form body'],
  () => [Buffer.from('--fuzz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--fuzz--\r\n'), { 'content-type': 'multipart/form-data; boundary=fuzz' }, 'multipart body'],
];

/**
 * @returns {{ index: number, op: object, opId: string, auth: string, mutations: string[], category: string,
 *   method: string, path: string, headers: Record<string, any>, body?: Buffer, routeKnown: boolean, syncWait: boolean }}
 */
export function generate(index, seed, doc, ops, fx) {
  const rng = new Rng(seed, index);
  const op = ops[index % ops.length];
  const mutations = [];
  const headers = {};

  const auth = op.public ? 'public' : rng.weighted([[62, 'owner'], [12, 'lacking'], [6, 'other-org'], [20, 'none']]);
  if (auth === 'owner') headers.authorization = `Bearer ${fx.ownerToken}`;
  if (auth === 'other-org') headers.authorization = `Bearer ${fx.otherToken}`;
  if (auth === 'lacking') headers.authorization = `Bearer ${op.capability === 'send' ? fx.manageOnlyToken : fx.sendOnlyToken}`;
  if (auth === 'none') {
    const value = badAuthorization(rng, fx.ownerToken);
    if (value !== undefined) headers.authorization = value;
    mutations.push(`auth ${value === undefined ? 'absent' : JSON.stringify(value).slice(0, 50)}`);
  }

  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const pathValues = Object.fromEntries(pathParams.map((p) => [p.name, pathValue(op, p.name, fx, rng)]));
  const query = [];
  for (const p of queryParams) {
    const v = queryValue(p.name, fx);
    if (v !== undefined && (p.required || rng.chance(0.6))) query.push(`${p.name}=${v}`);
  }
  if (op.async && rng.chance(0.85)) headers.prefer = 'respond-async';

  let body;
  let fields = [];
  if (op.body) {
    body = sample(doc, op.body, rng, bodyHints(op, fx), fields);
    headers['content-type'] = 'application/json';
  }
  let method = op.method;
  let routeKnown = true;
  let rawBody;

  const categories = [
    [op.body ? 40 : 0, 'body'],
    [op.body ? 12 : 3, 'raw'],
    [pathParams.length ? 15 : 0, 'path'],
    [queryParams.length ? 10 : 3, 'query'],
    [10, 'headers'],
    [5, 'route'],
    [5, 'valid'],
  ];
  const picked = [rng.weighted(categories)];
  if (rng.chance(0.2)) picked.push(rng.weighted(categories));

  for (const category of picked) {
    switch (category) {
      case 'body': {
        const [, name, mutate] = rng.weighted(BODY_MUTATIONS.map((m) => [m[0], m]));
        const [next, what] = mutate(rng, clone(body), fields.length ? fields : [{ path: [], schema: {}, required: true }]);
        body = next;
        mutations.push(`${name}: ${what}`);
        break;
      }
      case 'raw': {
        const text = body === undefined ? '{"a":1}' : toJsonText(body);
        const [bytes, extra, what] = rng.pick(RAW_MUTATIONS)(rng, text);
        rawBody = bytes;
        for (const [k, v] of Object.entries(extra)) {
          if (v === undefined) delete headers[k];
          else headers[k] = v;
        }
        if (!op.body && headers['content-type'] === undefined && !('content-type' in extra)) headers['content-type'] = 'application/json';
        mutations.push(`${op.body ? '' : 'body on a route without one: '}${what}`);
        break;
      }
      case 'path': {
        const p = rng.pick(pathParams);
        // Ids of other kinds of resource, of another organization, or empty; never a fixture
        // resource for an operation that would use it up.
        const ids = [fx.otherSessionId, fx.outboxId, fx.textMid, ''];
        if (!USES_SPARE.has(op.id)) ids.push(fx.sessionId, fx.keyId, fx.webhookId ?? '');
        const v = rng.chance(0.15) ? rng.pick(ids) : rng.pick(PATH_SEGMENTS);
        pathValues[p.name] = v;
        mutations.push(`path ${p.name} = ${JSON.stringify(v).slice(0, 60)}`);
        break;
      }
      case 'query': {
        const roll = rng.int(0, 2);
        if (roll === 0 && queryParams.some((p) => p.name === 'limit')) {
          const v = rng.pick(QUERY_LIMITS);
          query.push(`limit=${v}`);
          mutations.push(`limit=${v.slice(0, 40)}`);
        } else if (roll === 1 && queryParams.some((p) => p.name === 'cursor')) {
          const v = rng.pick(QUERY_CURSORS);
          query.push(`cursor=${v}`);
          mutations.push(`cursor=${v.slice(0, 60)}`);
        } else if (queryParams.length && rng.chance(0.5)) {
          const p = rng.pick(queryParams);
          const v = rng.pick(PATH_SEGMENTS);
          query.push(`${p.name}=${v}`);
          mutations.push(`${p.name}=${v.slice(0, 60)}`);
        } else {
          const v = rng.pick(QUERY_EXTRAS);
          query.push(v);
          mutations.push(`query ${v.slice(0, 60)}`);
        }
        break;
      }
      case 'headers': {
        const roll = rng.int(0, 6);
        if (roll <= 1 && op.async) {
          const v = rng.chance(0.8) ? rng.pick(IDEMPOTENCY_KEYS) : `fuzz-${rng.hex(8)}`;
          headers['idempotency-key'] = v;
          mutations.push(`Idempotency-Key ${JSON.stringify(v).slice(0, 50)}`);
        } else if (roll === 2 && op.async) {
          const v = rng.pick(PREFERS);
          headers.prefer = v;
          mutations.push(`Prefer ${JSON.stringify(v).slice(0, 50)}`);
        } else if (roll === 3 && op.id === 'events_stream') {
          const v = rng.pick(LAST_EVENT_IDS);
          headers['last-event-id'] = v;
          mutations.push(`Last-Event-ID ${JSON.stringify(v).slice(0, 50)}`);
        } else if (roll === 4) {
          const v = rng.pick(['\u00ff\u00fe', 'x'.repeat(5000), '../../etc', '__proto__', '', 'id\u00e9']);
          headers['x-request-id'] = v;
          mutations.push(`client x-request-id ${JSON.stringify(v).slice(0, 40)}`);
        } else if (roll === 5) {
          headers['x-fuzz-padding'] = 'h'.repeat(rng.pick([8000, 20_000, 70_000]));
          mutations.push(`a ${headers['x-fuzz-padding'].length}-byte header`);
        } else {
          const v = rng.pick(ACCEPTS);
          headers.accept = v;
          mutations.push(`Accept ${JSON.stringify(v).slice(0, 40)}`);
        }
        break;
      }
      case 'route': {
        const roll = rng.int(0, 4);
        routeKnown = false;
        if (roll === 0) {
          const m = rng.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((x) => x !== op.method));
          method = m;
          // GET /sessions/{id} turned into DELETE would delete the main session: spare ids then.
          if (m === 'DELETE' && SPARE_ON_DELETE[op.path]) pathValues.id = fx[SPARE_ON_DELETE[op.path]] ?? ulid(rng);
          mutations.push(`method ${m}`);
        } else if (roll === 1) {
          mutations.push('trailing segment');
          pathValues.__suffix = rng.pick(['/', '/x', '/..', '/%2e%2e', '//', '/__proto__', '.json', '%00']);
        } else if (roll === 2) {
          mutations.push('unknown route');
          pathValues.__replace = rng.pick(['/api/v1', '/api/v1/', '/api/v2/sessions', '/api/v1/__proto__', '/api/v1/constructor/prototype', '/api/v1/sessions/%2e%2e/%2e%2e/health/live', '/API/V1/SESSIONS', '//api//v1//sessions', `/api/v1/${'x/'.repeat(500)}`, '/api/v1/sessions?limit=__proto__', '/%ff', '/api/v1/%zz']);
        } else {
          mutations.push('doubled slash');
          pathValues.__double = true;
        }
        break;
      }
      default:
        mutations.push('valid');
    }
  }

  let path = op.path.replace(/\{([^}]+)\}/g, (_, name) => pathValues[name]);
  if (pathValues.__double) path = path.replace('/api/v1/', '/api/v1//');
  if (pathValues.__suffix) path += pathValues.__suffix;
  if (pathValues.__replace) path = pathValues.__replace;
  if (query.length) path += `${path.includes('?') ? '&' : '?'}${query.join('&')}`;

  const bytes = rawBody ?? (body === undefined ? undefined : Buffer.from(toJsonText(body)));
  const prefer = String(headers.prefer ?? '');
  return {
    index,
    op,
    opId: routeKnown ? op.id : `${op.id} (route changed)`,
    auth,
    category: picked.join('+'),
    mutations,
    method,
    path,
    headers,
    body: bytes,
    routeKnown,
    pathChanged: picked.includes('path') || !routeKnown,
    // Well-formed JSON within the size and depth limits: any 400 for it comes from validation.
    // (The JSON parser may refuse "__proto__" and "constructor.prototype" keys outright.)
    bodyParses:
      !picked.includes('raw') &&
      !mutations.some((m) => /^(deep nesting|huge|duplicate key)/.test(m)) &&
      !/"(__proto__|prototype)":/.test(bytes?.toString('utf8') ?? '') &&
      !('x-fuzz-padding' in headers),
    syncWait: op.async && !/respond-async/i.test(prefer),
    ourIds: [fx.sessionId, fx.spareSessionId, fx.doomedSessionId, fx.keyId, fx.spareKeyId, fx.webhookId, fx.spareWebhookId].filter(Boolean),
  };
}

// The catalogue of hostile values. Each entry is what an attacker, or a careless client, sends;
// the gateway must answer every one of them inside its error envelope with a 4xx.
import { RawJson, nestedArrays, nestedMixed, nestedObjects } from './json-text.mjs';

export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'toJSON'];

export const DEPTHS = [100, 2000, 5000];

const LONE_SURROGATES = ['\ud800', '\udfff', 'a\ud83dz', '\udc00\ud800', 'text \ud800 with a half'];

/** Strings with content that breaks naive handling: NUL, surrogates, controls, RTL, huge. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  ...LONE_SURROGATES,
  '\u202e\u0000\ufeff',
  '\uffff\ufffe',
  '😀'.repeat(50),
  '\r\n\r\nHTTP/1.1 200 OK',
  '<script>alert(1)</script>',
  "' OR '1'='1' --",
  '"; DROP TABLE sessions; --',
  '${7*7}{{7*7}}',
  '../../../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e400',
  'true',
  '@s.whatsapp.net',
  '123@g.us@lid',
  ':0@s.whatsapp.net',
  '%00',
  ...PROTOTYPE_NAMES,
];

export const hugeString = (rng) => rng.pick(['x'.repeat(65_537), 'y'.repeat(300_000), '\ud800'.repeat(20_000), '😀'.repeat(100_000)]);

/** Values of every JSON type, for a field whose type is something else. */
export const WRONG_TYPES = [
  null,
  0,
  -1,
  1.5,
  -0,
  1e308,
  true,
  false,
  '',
  'a string',
  [],
  {},
  [[]],
  [null],
  { a: {} },
  new RawJson('1e400'),
  new RawJson('-1e400'),
  new RawJson('9007199254740993'),
  new RawJson(`1${'0'.repeat(400)}`),
  new RawJson('0.0000000000000000000000000000001'),
  new RawJson('-0.0'),
  new RawJson('1E+2'),
];

export function deepValue(rng) {
  const depth = rng.pick(DEPTHS);
  return rng.pick([nestedArrays, nestedObjects, nestedMixed])(depth);
}

export function hugeArray(rng) {
  const n = rng.pick([1000, 100_000, 300_000]);
  const item = rng.pick(['0', '"x"', '{}', '[]', 'null']);
  return new RawJson(`[${Array(n).fill(item).join(',')}]`);
}

/**
 * Path segments as they go on the wire (already percent-encoded or deliberately not): traversal,
 * SQL, overlong and broken percent-encoding, encoded NUL and lone surrogates, huge, prototype names.
 */
export const PATH_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '..%2f..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2fhealth%2flive',
  '..%252f..%252f',
  '..%5c..%5cwindows',
  '%c0%ae%c0%ae%c0%af',
  '%e0%80%ae%e0%80%ae',
  '%c0%80',
  '%',
  '%%',
  '%zz',
  '%u002e%u002e',
  '%00',
  'abc%00def',
  '%ff%fe%fd',
  '%ed%a0%80',
  '%F0%9F%98%80',
  '%27%20OR%201%3D1--',
  "'OR'1'='1",
  '1%27%3B%20DROP%20TABLE%20sessions%3B--',
  '%22%3B--',
  '1;SELECT%20pg_sleep(5)',
  '*',
  '%2A',
  '%3F',
  '%23',
  '%2F',
  ';',
  '~',
  '00000000000000000000000000',
  '01hzx3k9q2t4w6y8a0c2e4g6j8',
  'ILOUILOUILOUILOUILOUILOUIL',
  'ZZZZZZZZZZZZZZZZZZZZZZZZZZ',
  '0',
  '-1',
  '1e400',
  'null',
  'undefined',
  ...PROTOTYPE_NAMES,
  '__proto__%5Bx%5D',
  'a'.repeat(300),
  'b'.repeat(10_000),
  '%41'.repeat(3000),
  '\u00ff\u00fe',
  '123456789@s.whatsapp.net',
  '123@g.us%00',
  '%40s.whatsapp.net',
];

export const QUERY_LIMITS = ['-1', '0', '1.5', '1e3', '1e400', 'abc', '', '99999999999999999999', '%00', '0x10', '%205', '+5', '5abc', 'Infinity', 'NaN', '__proto__', 'toString', '%ff', '1&limit=2'];

const b64 = (text) => Buffer.from(text).toString('base64url');
export const QUERY_CURSORS = [
  'garbage',
  '%ff%fe',
  '%00',
  b64('{"__proto__":{"polluted":1}}'),
  b64('{"constructor":{"prototype":{"x":1}}}'),
  b64('{"t":"toString","id":"valueOf"}'),
  b64('null'),
  b64('[]'),
  b64('{"id":"\' OR 1=1 --","t":1e400}'),
  b64('\u0000\u0000'),
  b64(`${'['.repeat(5000)}${']'.repeat(5000)}`),
  'x'.repeat(10_000),
  '====',
  '..%2f..',
  ...PROTOTYPE_NAMES,
];

/** Extra query parameters any route might meet. */
export const QUERY_EXTRAS = [
  '__proto__=1',
  '__proto__[polluted]=1',
  'constructor[prototype][polluted]=1',
  'toString=1',
  'hasOwnProperty=1',
  'valueOf=x&valueOf=y',
  'limit[]=1',
  'limit[$gt]=0',
  'a'.repeat(5000),
  '%ff=%fe',
  '=',
  '&&&',
  `${'x='.repeat(2000)}1`,
];

export const IDEMPOTENCY_KEYS = ['', ' ', 'a'.repeat(255), 'a'.repeat(256), 'k'.repeat(8000), '\u00e9\u00ff', 'with space', '\tleading-tab', ...PROTOTYPE_NAMES, 'fuzz-reused-1', 'fuzz-reused-2'];

export const PREFERS = ['respond-async', 'respond-sync', 'respond-async, wait=5', 'wait=0', '', 'respond-async;;;', 'RESPOND-ASYNC', 'return=minimal', 'respond-async, respond-async', 'x'.repeat(8000), '__proto__', '\u00ff'];

export const CONTENT_TYPES = [
  'text/plain',
  'application/json; charset=latin1',
  'application/json; charset=utf-16le',
  'application/json; charset=utf-8',
  'application/json;charset="UTF-8"',
  'application/json; charset=',
  'application/json; charset=__proto__',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'application/xml',
  'application/vnd.api+json',
  'application/json, text/plain',
  'APPLICATION/JSON',
  'application/json;;;;',
  '*/*',
  '',
  'application/\u00ffjson',
  `application/json; ${'p=1;'.repeat(2000)}`,
  'constructor',
];

export const CONTENT_ENCODINGS = ['gzip', 'deflate', 'br', 'x-unknown', 'gzip, gzip', 'identity', '__proto__'];

export const ACCEPTS = ['application/xml', 'image/png', 'text/event-stream', '*/*', 'application/json;q=0', '', 'x'.repeat(6000)];

export const LAST_EVENT_IDS = ['', 'garbage', '-1', '1e400', "' OR 1=1 --", '\u00ff', 'z'.repeat(8000), ...PROTOTYPE_NAMES, '00000000000000000000000000'];

/** Authorization values that must all be answered 401. */
export function badAuthorization(rng, ownerToken) {
  const flipped = ownerToken.slice(0, -1) + (ownerToken.endsWith('A') ? 'B' : 'A');
  return rng.pick([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Bearer  ',
    `Bearer ${flipped}`,
    `Bearer ${ownerToken}x`,
    `Bearer ${ownerToken.slice(0, 12)}`,
    'Bearer wag_',
    `Bearer wag_${'A'.repeat(43)}`,
    `Bearer wag_${'\u00ff'.repeat(43)}`,
    'Basic dXNlcjpwYXNz',
    `Token ${ownerToken}`,
    'Bearer eyJhbGciOiJub25lIn0.eyJvcmdfaWQiOiJmdXp6LW9yZyIsInJvbGUiOiJvd25lciJ9.',
    'Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6Il9fcHJvdG9fXyJ9.eyJvcmdfaWQiOiJ0b1N0cmluZyJ9.c2ln',
    'Bearer a.b.c',
    'Bearer ...',
    `Bearer ${'e'.repeat(8000)}`,
    'Bearer __proto__',
    'Bearer constructor',
    [`Bearer ${flipped}`, 'Bearer other'],
  ]);
}

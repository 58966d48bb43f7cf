import { createRequire } from 'node:module';
// What every answer must satisfy. Each failed check is a "problem" string without numbers or
// request-specific text, so that violations group by (operation, status, problem).

const require = createRequire(import.meta.url);
const { ERROR_STATUS } = require('../../packages/domain/dist/index.js');

/** The error codes each status may carry: the API's own table (@wa/domain ERROR_STATUS), inverted. */
export const CODES_BY_STATUS = {};
for (const [code, status] of Object.entries(ERROR_STATUS)) (CODES_BY_STATUS[status] ??= []).push(code);

/** Refusals of the HTTP edge that come before any route matches, so before authentication. */
const EDGE_STATUSES = new Set([408, 414, 431]);

export const FAST_MS = 1000;

/** Node's default --max-http-header-size: a larger head is refused with 431. */
const MAX_HEADER_BYTES = 16 * 1024;
const headerBytes = (c) => c.path.length + Object.entries(c.headers).reduce((n, [k, v]) => n + k.length + String(v).length + 4, 0);

// A V8 stack frame ("at fn (/path/file.js:12:34)", "at node:internal/..."), or paths into the build.
const STACK_PATTERNS = [/\bat [^\n"]{0,200}\(?(?:\/|node:|file:)[^\n"]*:\d+:\d+\)?/, /node_modules\//, /\/dist\/[\w./-]+\.js/, /\\n\s+at /];

/**
 * @param {ReturnType<import('./generate.mjs').generate>} c the case
 * @param {{ status: number, headers: object, body: string, ms: number, error?: string, timedOut?: boolean }} a the answer
 * @param {{ syncTimeoutMs: number, bodyLimitBytes: number }} limits
 * @returns {{ problems: string[], envelope: boolean|undefined, slow: boolean, syncWait: boolean, cutOff?: boolean }}
 */
export function check(c, a, limits) {
  const problems = [];
  if (a.status === 0) {
    // A server may close the connection instead of reading an oversized body (RFC 9110, 413),
    // or the body after a head it refused (431): the client then fails writing, not reading.
    const oversized = (c.body && c.body.length > limits.bodyLimitBytes) || (c.body && headerBytes(c) > MAX_HEADER_BYTES);
    if (oversized && /EPIPE|ECONNRESET/.test(a.error ?? '')) {
      return { problems, envelope: undefined, slow: false, syncWait: false, cutOff: true };
    }
    problems.push(a.timedOut ? 'no answer (hang)' : `no answer: ${a.error?.replace(/\d+/g, 'N')}`);
    return { problems, envelope: undefined, slow: false, syncWait: false };
  }
  if (a.error) problems.push(a.error.replace(/\d+/g, 'N'));

  if (a.status >= 500) problems.push(a.status === 503 ? '503 while the runner is reachable' : '5xx');
  if (!a.headers['x-request-id']) problems.push('no x-request-id header');
  if (STACK_PATTERNS.some((re) => re.test(a.body))) problems.push('stack trace or build path in the body');

  let envelope;
  if (a.status >= 400) {
    const allowed = CODES_BY_STATUS[a.status];
    let parsed;
    try {
      parsed = JSON.parse(a.body);
    } catch {
      parsed = undefined;
    }
    const err = parsed && typeof parsed === 'object' ? parsed.error : undefined;
    const shaped = !!err && typeof err === 'object' && typeof err.code === 'string' && typeof err.message === 'string' && 'details' in err;
    envelope = shaped && !!allowed && allowed.includes(err.code);
    if (!allowed) problems.push(`status ${a.status} is not in the error table`);
    if (!shaped) problems.push(parsed === undefined ? 'error body is not JSON' : 'error body is not the envelope');
    else if (allowed && !allowed.includes(err.code)) problems.push(`code "${err.code}" does not belong to ${a.status}`);
    if (shaped && a.status === 500 && !JSON.stringify(err.details ?? '').toLowerCase().includes('request')) problems.push('internal_error without a request id in details');
    if (a.status === 429 && !a.headers['retry-after']) problems.push('429 without Retry-After');
    if (!String(a.headers['content-type'] ?? '').includes('json')) problems.push('error answer is not application/json');
  }

  // Callers without valid credentials must be turned away before anything looks at the request.
  if (c.auth === 'none') {
    // Raw non-ASCII bytes in the request line are refused by Node's HTTP parser, before any
    // header is looked at: a malformed request is a 400 whoever sends it.
    const malformedLine = a.status === 400 && /[^\x21-\x7e]/.test(c.path);
    const routerMiss = (c.pathChanged && (a.status === 404 || a.status === 400)) || EDGE_STATUSES.has(a.status) || malformedLine;
    if (a.status < 400) problems.push('answered 2xx without valid credentials');
    else if (a.status !== 401 && !routerMiss) problems.push(`answered ${a.status} instead of 401 without valid credentials`);
  }
  if (c.auth === 'lacking' && c.op.capability && c.routeKnown) {
    if (a.status < 400) problems.push(`answered 2xx to a key without "${c.op.capability}"`);
    else if (a.status === 400 && c.bodyParses && !c.pathChanged) problems.push(`validated the body before checking the "${c.op.capability}" capability`);
  }
  const pathOnly = c.path.split('?')[0];
  if (c.auth === 'other-org' && a.status < 400 && c.routeKnown && c.ourIds.some((id) => pathOnly.includes(id))) {
    problems.push("answered 2xx about another organization's resource");
  }

  const syncWait = c.syncWait && c.routeKnown;
  const budget = syncWait ? limits.syncTimeoutMs + FAST_MS : FAST_MS;
  const slow = a.ms > budget;
  if (slow) problems.push(syncWait ? 'slower than the sync send timeout + 1 s' : 'slower than 1 s');
  return { problems, envelope, slow, syncWait: syncWait && a.ms > FAST_MS };
}

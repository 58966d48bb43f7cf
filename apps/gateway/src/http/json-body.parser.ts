import type { FastifyInstance } from 'fastify';
import { JsonDepthCounter, tooDeep } from './json-depth.scanner';

/** Requests whose JSON body has a NUL character in a string. */
export const BODIES_WITH_NUL = new WeakSet<object>();

/** A `\u0000` escape that is not itself escaped (an odd run of backslashes before the `u`). */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;

/**
 * JSON is the only body the API takes: every other parser (Fastify's text/plain one
 * included) is removed, so other media types are refused with 415 instead of reaching a
 * handler. Nesting deeper than `maxDepth` is refused before the text is parsed (a long body was
 * already scanned as it streamed in: see the edge hooks; scanning it again costs less than parsing).
 */
export function registerJsonBodyParser(fastify: FastifyInstance, bodyLimit: number, maxDepth: number): void {
  // Fastify's own parser keeps secure-json-parse's protection: `__proto__` and
  // `constructor.prototype` keys are refused, not stripped.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    // Many clients send `Content-Type: application/json` on bodiless POSTs (start, stop, ...):
    // an empty body means "no body".
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    if (!new JsonDepthCounter(maxDepth).scan(text)) return done(tooDeep(maxDepth), undefined);
    // PostgreSQL cannot store NUL in text, so both databases refuse it alike; the body's validator
    // refuses it, after the route's capability check, as it refuses any other bad value.
    if (text.includes('u0000') && NUL_ESCAPE.test(text)) BODIES_WITH_NUL.add(req);
    parseJson(req, text, done);
  });
}

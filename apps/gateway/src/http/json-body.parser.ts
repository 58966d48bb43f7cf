import type { FastifyInstance } from 'fastify';

/**
 * JSON is the only body the API takes: every other parser (Fastify's text/plain one
 * included) is removed, so other media types are refused with 415 instead of reaching a
 * handler. The edge hooks have already refused deep nesting by the time this runs.
 */
export function registerJsonBodyParser(fastify: FastifyInstance, bodyLimit: number): void {
  // Fastify's own parser keeps secure-json-parse's protection: `__proto__` and
  // `constructor.prototype` keys are refused, not stripped.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    // Many clients send `Content-Type: application/json` on bodiless POSTs (start, stop, ...):
    // an empty body means "no body".
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    parseJson(req, text, done);
  });
}

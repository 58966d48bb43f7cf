import { AppError } from '@wa/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { GatewayMetrics } from './gateway-metrics';

export const METRICS_PATH = '/metrics';
/** The route label of requests no route matched: their URLs are whatever a client sent, unbounded. */
const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every answered request and, when a token is configured, serves the Prometheus text at
 * `/metrics`. The route is registered on Fastify directly, so it is no controller and stays out
 * of the OpenAPI document; it checks its own bearer token (the API's keys and logins do not
 * apply). Returns the routes the edge hooks must leave to it, as `METHOD /url`.
 */
export function installMetrics(fastify: FastifyInstance, metrics: GatewayMetrics, token: string | undefined): string[] {
  fastify.addHook('onResponse', (req, reply, done) => {
    metrics.httpRequest(req.method, req.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  if (token === undefined) return [];
  const expected = digest(token);
  fastify.get(METRICS_PATH, async (req, reply) => {
    if (!timingSafeEqual(digest(bearerToken(req)), expected)) {
      throw new AppError('unauthorized', 'a valid metrics token is required: Authorization: Bearer <METRICS_TOKEN>');
    }
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).header('cache-control', 'no-store').send(text);
  });
  return [`GET ${METRICS_PATH}`];
}

/**
 * Both sides hashed to the same length first: timingSafeEqual needs equal lengths, and comparing
 * lengths directly would tell an attacker how long the token is.
 */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function bearerToken(req: FastifyRequest): string {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1] : '';
}

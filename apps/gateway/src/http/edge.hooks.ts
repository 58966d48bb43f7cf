import type { RequestAuthenticator } from '@wa/auth';
import { AppError } from '@wa/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { jsonDepthGuard } from './json-depth.scanner';
import { lingerBeforeClose } from './lingering-close';

/** Seconds a client is told to wait before retrying a request refused during shutdown. */
const SHUTDOWN_RETRY_AFTER_SECONDS = 1;
const ACCEPTED_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);
// Fastify parses no body for these methods, whatever their headers say.
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'TRACE']);
/**
 * A body that declares at most this length is checked for nesting whole, by the JSON parser
 * (`registerJsonBodyParser`), before it is parsed: refusing it a few bytes early saves nothing,
 * and a stream between the socket and the parser costs every request. Longer bodies, and chunked
 * ones of unknown length, go through the streaming guard.
 */
export const WHOLE_BODY_DEPTH_CHECK_BYTES = 64 * 1024;

export interface EdgeHooksOptions {
  readonly authenticator: RequestAuthenticator;
  readonly maxJsonDepth: number;
}

/**
 * The gateway's HTTP edge, in Fastify hooks so that it runs before any body byte is read:
 * refusal during shutdown, authentication with its rate limits, and the media-type,
 * encoding and nesting checks of request bodies. Whatever it refuses is answered in the error
 * envelope by the Nest filter, and a connection whose body was left unread is closed.
 */
export class EdgeHooks {
  private closing = false;
  private publicRoutes = new Set<string>();

  constructor(private readonly options: EdgeHooksOptions) {}

  /** Routes (as `METHOD /url` patterns) that need no token; known only once Nest has routed. */
  setPublicRoutes(routes: Iterable<string>): void {
    this.publicRoutes = new Set(routes);
  }

  install(fastify: FastifyInstance): void {
    // Fastify would answer its own 503 body (return503OnClosing); ours keeps the envelope.
    fastify.addHook('preClose', (done) => {
      this.closing = true;
      done();
    });
    fastify.addHook('onRequest', async (request) => {
      if (this.closing) {
        throw new AppError('service_unavailable', 'the gateway is shutting down; retry the request', {
          retryAfterSeconds: SHUTDOWN_RETRY_AFTER_SECONDS,
        });
      }
      // The route list is public (/docs-json), so a 401 would hide nothing: an unknown route is
      // answered 404 at once, before authentication and before its body is read.
      if (request.routeOptions.url === undefined) {
        throw new AppError('not_found', `no route ${request.method} ${request.url.replace(/\?.*$/, '')}`);
      }
      if (!this.isPublic(request)) await this.options.authenticator.authenticate(request);
    });
    fastify.addHook('preParsing', async (request, _reply, payload) => {
      if (BODYLESS_METHODS.has(request.method) || !hasBody(request.raw)) return payload;
      assertJsonBody(request);
      if (declaredLength(request.raw) <= WHOLE_BODY_DEPTH_CHECK_BYTES) return payload;
      return guardDepth(payload, this.options.maxJsonDepth);
    });
    fastify.addHook('onSend', async (request, reply) => {
      // Unread body bytes would be taken for the next request; the only safe end is closing.
      if (bodyLeftUnread(request.raw)) {
        lingerBeforeClose(request.raw);
        void reply.header('connection', 'close');
      } else if (this.closing) {
        void reply.header('connection', 'close');
      }
    });
  }

  private isPublic(request: FastifyRequest): boolean {
    const url = request.routeOptions.url;
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    return this.publicRoutes.has(`${method} ${url}`);
  }
}

function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The body's declared length; Infinity when it declares none (chunked). */
function declaredLength(raw: IncomingMessage): number {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] === undefined && length !== undefined && /^\d+$/.test(length) ? Number(length) : Infinity;
}

/**
 * Whether the request declared a body that has not fully arrived. (`complete` alone is false
 * for a bodiless request until Node's parser finishes it, right after dispatching it.)
 */
export function bodyLeftUnread(raw: IncomingMessage): boolean {
  return hasBody(raw) && !raw.complete;
}

/** 415 for anything but identity-encoded JSON in UTF-8 (or its ASCII subset). */
function assertJsonBody(request: FastifyRequest): void {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new AppError('unsupported_media_type', `Content-Encoding "${encoding}" is not accepted; send the body uncompressed`, {
      contentEncoding: encoding,
    });
  }
  const contentType = request.headers['content-type'] ?? '';
  const [media, ...params] = contentType.split(';');
  const mediaType = media.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new AppError('unsupported_media_type', `Content-Type "${mediaType || '(none)'}" is not accepted; send application/json`, {
      contentType: mediaType,
    });
  }
  for (const param of params) {
    const [name, value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (!ACCEPTED_CHARSETS.has(charset)) {
      throw new AppError('unsupported_media_type', `charset "${charset}" is not accepted; send JSON in UTF-8`, { charset });
    }
  }
}

/**
 * Passes the body through the depth scanner. Not `pipeline`: on a refusal it would destroy the
 * request, and with it the socket the 400 still has to go out on.
 */
function guardDepth(payload: Readable, maxDepth: number): Readable {
  const guard = jsonDepthGuard(maxDepth);
  payload.on('error', (err) => guard.destroy(err));
  payload.on('aborted', () => guard.destroy(new Error('request aborted')));
  return payload.pipe(guard);
}

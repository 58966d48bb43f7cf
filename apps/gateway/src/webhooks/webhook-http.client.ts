import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { urlToHttpOptions } from 'node:url';
import { checkedLookup, RefusedAddressError, type AddressPolicy } from '@wa/domain';

export interface WebhookResponse {
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** The first 1 KB of the body, as text. */
  body: string | null;
  /** Seconds from `Retry-After`, when given. */
  retryAfterSec: number | null;
}

const EXCERPT_BYTES = 1024;
// Bodies up to this size are drained so the keep-alive socket can be reused; larger ones close it.
const DRAIN_LIMIT = 64 * 1024;
/** Parsed target URLs kept (one per endpoint in use); forgotten all at once past this. */
const MAX_TARGETS = 10_000;

function parseRetryAfter(value: string | string[] | undefined, now: number): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return null;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * POSTs webhook bodies over keep-alive connections. Every address a host name resolves to is
 * checked in the agent's `lookup`, before the socket connects, and literal IPs before the
 * request is made; a refused target never sees a connection. Redirects are not followed.
 */
export class WebhookHttpClient {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly targets = new Map<string, { isHttps: boolean; options: RequestOptions } | string>();

  constructor(
    private readonly policy: AddressPolicy,
    maxSockets: number,
  ) {
    const lookup = checkedLookup(policy);
    const options = { keepAlive: true, keepAliveMsecs: 10_000, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const, lookup };
    this.http = new HttpAgent(options);
    this.https = new HttpsAgent(options);
  }

  /** `body` is best given as the bytes to send (its length and the socket write need no encoding then; `byteLength` of a Buffer is its length). */
  async post(target: string, headers: Record<string, string>, body: string | Buffer, timeoutMs: number): Promise<WebhookResponse> {
    const started = Date.now();
    const fail = (error: string): WebhookResponse => ({ statusCode: null, latencyMs: Date.now() - started, error, body: null, retryAfterSec: null });
    const t = this.target(target);
    if (typeof t === 'string') return fail(t);
    const { isHttps, options } = t;

    return new Promise<WebhookResponse>((resolve) => {
      let settled = false;
      const finish = (r: WebhookResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = (isHttps ? httpsRequest : httpRequest)(
        {
          ...options,
          method: 'POST',
          agent: isHttps ? this.https : this.http,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res: IncomingMessage) => this.readResponse(res, started, finish),
      );
      const timer = setTimeout(() => {
        req.destroy(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (err: Error & { code?: string }) => {
        finish(fail(err instanceof RefusedAddressError || err.code === 'EADDRESSREFUSED' ? `refused: ${err.message}` : err.message || String(err.code)));
      });
      req.end(body);
    });
  }

  /**
   * The request options for a target URL, or why it is refused. Parsed once per URL (a queue
   * posts to the same one run after run); the policy is fixed for the client's life, and host
   * names are still checked at every connect by the agents' lookup.
   */
  private target(target: string): { isHttps: boolean; options: RequestOptions } | string {
    const known = this.targets.get(target);
    if (known !== undefined) return known;
    let parsed: { isHttps: boolean; options: RequestOptions } | string;
    try {
      const url = new URL(target);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const isHttps = url.protocol === 'https:';
      if (isIP(host) && !this.policy.isAllowed(host)) parsed = `refused: ${host} is not an allowed address`;
      else if (!isHttps && url.protocol !== 'http:') parsed = 'refused: only http and https are allowed';
      else parsed = { isHttps, options: urlToHttpOptions(url) };
    } catch {
      parsed = 'invalid url';
    }
    if (this.targets.size >= MAX_TARGETS) this.targets.clear();
    this.targets.set(target, parsed);
    return parsed;
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private readResponse(res: IncomingMessage, started: number, finish: (r: WebhookResponse) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
      finish({
        statusCode: res.statusCode ?? null,
        latencyMs: Date.now() - started,
        error: null,
        body: excerpt,
        retryAfterSec: parseRetryAfter(res.headers['retry-after'], Date.now()),
      });
    };
    res.on('data', (chunk: Buffer) => {
      if (size < EXCERPT_BYTES) chunks.push(chunk);
      size += chunk.length;
      if (size > DRAIN_LIMIT) {
        done();
        res.destroy();
      }
    });
    res.on('end', done);
    res.on('error', done);
    res.on('aborted', done);
  }
}

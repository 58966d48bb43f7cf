import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BinaryNode } from './baileys.loader';
import { uploadToken } from './media.crypto';
import { SandboxError } from './sandbox.types';
import { createMediaTlsMaterial } from './x509.writer';

/** What WhatsApp's media_conn advertises: auth valid 6 h, the answer cached 5 min, 12 buckets. */
const AUTH_TTL_S = 21_600;
const CONN_TTL_S = 300;
const MAX_BUCKETS = 12;
const UPLOAD_KINDS = new Set(['image', 'video', 'audio', 'document']);

interface Blob {
  encrypted: Buffer;
  expired: boolean;
}

export interface MediaServerOptions {
  /** Largest upload accepted (the host's `maxContentLengthBytes`). */
  maxUploadBytes: number;
}

/**
 * WhatsApp's media servers as a client meets them: an HTTPS host (its certificate issued by a CA
 * made at start, trusted by clients through NODE_EXTRA_CA_CERTS) that takes encrypted uploads at
 * `/mms/<type>/<encSha256>?auth=&token=` (auth from media_conn, the path hash checked against the
 * body) and serves them back by direct path. Expired blobs answer 410 like WhatsApp's CDN.
 */
export class SandboxMediaServer {
  private server?: Server;
  private readonly blobs = new Map<string, Blob>();
  private readonly auths = new Map<string, number>();
  private readonly dir = mkdtempSync(join(tmpdir(), 'wa-sandbox-media-'));
  readonly caFile = join(this.dir, 'media-ca.pem');
  private readonly tls = createMediaTlsMaterial();
  /** Upload requests refused, by reason: tests check that a bad upload was turned away for the right one. */
  readonly refusals: { reason: string; at: number }[] = [];
  /** While set, every upload is answered with this HTTP status (a media host that is down or overloaded). */
  private outage?: number;

  constructor(private readonly options: MediaServerOptions) {
    writeFileSync(this.caFile, this.tls.caPem);
  }

  get caPem(): string {
    return this.tls.caPem;
  }

  async start(): Promise<void> {
    const server = createServer({ cert: this.tls.certPem, key: this.tls.keyPem }, (request, response) => {
      void this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) this.json(response, 500, { error: error instanceof Error ? error.message : String(error) });
        else response.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** `127.0.0.1:<port>`: what media_conn names as the host, and the host of every media URL. */
  get host(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('the media server is not started');
    return `127.0.0.1:${address.port}`;
  }

  get baseUrl(): string {
    return `https://${this.host}`;
  }

  /** The answer to `<iq xmlns="w:m"><media_conn/></iq>`, with a fresh upload auth. */
  mediaConnNode(): BinaryNode {
    const auth = randomBytes(24).toString('base64');
    this.auths.set(auth, Date.now() + AUTH_TTL_S * 1000);
    return {
      tag: 'media_conn',
      attrs: { auth, ttl: String(CONN_TTL_S), auth_ttl: String(AUTH_TTL_S), max_buckets: String(MAX_BUCKETS) },
      content: [{ tag: 'host', attrs: { hostname: this.host, maxContentLengthBytes: String(this.options.maxUploadBytes) } }],
    };
  }

  /** Stores an encrypted file as the uploading phone's client would, and names it. */
  put(encrypted: Buffer): { url: string; directPath: string } {
    const encSha256 = createHash('sha256').update(encrypted).digest();
    const directPath = `/v/t62.7118-24/${randomBytes(8).readBigUInt64BE()}_${uploadToken(encSha256).slice(0, 16)}_n.enc?ccb=11-4&oh=${randomBytes(16).toString('hex')}&oe=${Math.floor(Date.now() / 1000 + 14 * 86_400).toString(16).toUpperCase()}&_nc_sid=5e03e0`;
    this.blobs.set(pathOf(directPath), { encrypted, expired: false });
    return { url: `${this.baseUrl}${directPath}&mms3=true`, directPath };
  }

  /** The stored ciphertext for a direct path or URL; `expired` when WhatsApp no longer has it. */
  get(directPathOrUrl: string): Buffer | 'expired' | undefined {
    const blob = this.blobs.get(pathOf(directPathOrUrl));
    if (!blob) return undefined;
    return blob.expired ? 'expired' : blob.encrypted;
  }

  /**
   * From now on every upload is refused with `status` (5xx: the host is down or overloaded), as
   * WhatsApp's media hosts do during an outage; `undefined` ends the outage. Downloads still work.
   */
  refuseUploads(status: number | undefined): void {
    if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599)) throw new SandboxError(400, `"status" must be an HTTP error status (400-599), or null to end the outage; got ${status}`);
    this.outage = status;
  }

  /** Every file stored so far expires (downloads answer 410); later uploads are fresh. */
  expireAll(): number {
    let count = 0;
    for (const blob of this.blobs.values()) {
      if (!blob.expired) count++;
      blob.expired = true;
    }
    return count;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.baseUrl);
    if (request.method === 'POST' && url.pathname.startsWith('/mms/')) return this.upload(request, response, url);
    if (request.method === 'GET' || request.method === 'HEAD') return this.download(request, response, url);
    this.json(response, 405, { error: 'method not allowed' });
  }

  private refuse(response: ServerResponse, status: number, reason: string): void {
    this.refusals.push({ reason, at: Date.now() });
    this.json(response, status, { error: reason });
  }

  private async upload(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (this.outage !== undefined) {
      request.resume();
      return this.refuse(response, this.outage, 'outage');
    }
    const [, , kind = '', hash = ''] = url.pathname.split('/');
    const auth = url.searchParams.get('auth') ?? '';
    const expires = this.auths.get(auth);
    if (!UPLOAD_KINDS.has(kind)) {
      request.resume();
      return this.refuse(response, 404, `unknown media type ${kind}`);
    }
    if (!expires || expires < Date.now()) {
      request.resume();
      return this.refuse(response, 401, 'auth');
    }
    if (url.searchParams.get('token') !== hash) {
      request.resume();
      return this.refuse(response, 400, 'token');
    }
    const chunks: Buffer[] = [];
    const digest = createHash('sha256');
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.options.maxUploadBytes) {
        request.resume();
        return this.refuse(response, 413, 'too large');
      }
      digest.update(chunk);
      chunks.push(chunk);
    }
    if (uploadToken(digest.digest()) !== hash) return this.refuse(response, 400, 'hash mismatch');
    const { url: mediaUrl, directPath } = this.put(Buffer.concat(chunks, size));
    this.json(response, 200, { url: mediaUrl, direct_path: directPath });
  }

  private download(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const blob = this.blobs.get(url.pathname);
    if (!blob) return this.json(response, 404, { error: 'not found' });
    if (blob.expired) return this.json(response, 410, { error: 'gone' });
    const total = blob.encrypted.length;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    let start = 0;
    let end = total - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), total - 1) : total - 1;
      if (start > end) {
        response.writeHead(416, { 'content-range': `bytes */${total}` });
        return void response.end();
      }
    }
    response.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(end - start + 1),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${total}` } : {}),
    });
    response.end(request.method === 'HEAD' ? undefined : blob.encrypted.subarray(start, end + 1));
  }

  private json(response: ServerResponse, status: number, payload: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(payload));
  }
}

function pathOf(directPathOrUrl: string): string {
  return new URL(directPathOrUrl, 'https://media.invalid').pathname;
}

import { createDecipheriv, createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflate } from 'node:zlib';
import type { proto } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };
import { decodeWebMessage } from './baileys-message.mapper';
import { loadBaileys } from './baileys.loader';

export type WaMediaKind = 'image' | 'video' | 'audio' | 'document' | 'sticker';

const KEY_INFO: Record<WaMediaKind, string> = {
  image: 'WhatsApp Image Keys',
  video: 'WhatsApp Video Keys',
  audio: 'WhatsApp Audio Keys',
  document: 'WhatsApp Document Keys',
  sticker: 'WhatsApp Image Keys',
};
const KINDS = Object.keys(KEY_INFO) as WaMediaKind[];
/** History-sync blobs are encrypted like media, under their own HKDF info (Baileys' `md-msg-hist`). */
const HISTORY_KEY_INFO = 'WhatsApp History Keys';
const MAC_LENGTH = 10;

/** Where a received file is and how to open it: the parts of a media message the store never shows. */
export interface WaMediaReference {
  kind: WaMediaKind;
  directPath?: string;
  url?: string;
  mediaKey: Buffer;
  fileEncSha256: Buffer;
  fileSha256: Buffer;
  fileLength?: number;
  mimetype: string;
  fileName?: string;
}

const bytes = (value: Uint8Array | null | undefined): Buffer | undefined => (value && value.length ? Buffer.from(value) : undefined);

/** The media reference of a stored message (`proto.WebMessageInfo` bytes), or undefined when it carries no file. */
export async function mediaReferenceOf(raw: Uint8Array): Promise<WaMediaReference | undefined> {
  const b = await loadBaileys();
  const content = b.normalizeMessageContent(decodeWebMessage(b, raw).message);
  return mediaReferenceOfMessage(content ?? undefined);
}

export function mediaReferenceOfMessage(content: proto.IMessage | undefined): WaMediaReference | undefined {
  const inner = content?.documentWithCaptionMessage?.message ?? content;
  for (const kind of KINDS) {
    const m = inner?.[`${kind}Message`] as (proto.Message.IDocumentMessage & proto.Message.IImageMessage) | null | undefined;
    if (!m) continue;
    const mediaKey = bytes(m.mediaKey);
    const fileEncSha256 = bytes(m.fileEncSha256);
    const fileSha256 = bytes(m.fileSha256);
    if (!mediaKey || !fileEncSha256 || !fileSha256) return undefined;
    const length = m.fileLength as number | { toNumber(): number } | null | undefined;
    return {
      kind,
      ...(m.directPath ? { directPath: m.directPath } : {}),
      ...(m.url ? { url: m.url } : {}),
      mediaKey,
      fileEncSha256,
      fileSha256,
      ...(length !== null && length !== undefined ? { fileLength: typeof length === 'number' ? length : length.toNumber() } : {}),
      mimetype: m.mimetype || 'application/octet-stream',
      ...(kind === 'document' && m.fileName ? { fileName: m.fileName } : {}),
    };
  }
  return undefined;
}

/**
 * Why a download failed: `expired` (404/410 from the media host: the phone must re-upload),
 * `http` (another status or a network error), `verification` (a hash or the MAC did not match:
 * the file is not what the message promised), `too_large`.
 */
export class WaMediaError extends Error {
  constructor(
    readonly reason: 'expired' | 'http' | 'verification' | 'too_large',
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * Decrypts WhatsApp media as it streams: SHA-256 of the ciphertext, HMAC-SHA256(iv || ciphertext)
 * truncated to 10 bytes against the trailing MAC, AES-256-CBC, SHA-256 of the plaintext. The last
 * 10 bytes seen are held back until the end, since only then is it known they are the MAC.
 */
type BlobKeys = Pick<WaMediaReference, 'mediaKey' | 'fileEncSha256' | 'fileSha256'>;

class MediaDecryptor extends Transform {
  private readonly encHash = createHash('sha256');
  private readonly plainHash = createHash('sha256');
  private readonly hmac: ReturnType<typeof createHmac>;
  private readonly decipher: ReturnType<typeof createDecipheriv>;
  private tail = Buffer.alloc(0);
  size = 0;

  constructor(
    private readonly reference: BlobKeys,
    keyInfo: string,
    private readonly maxBytes: number,
  ) {
    super();
    const expanded = Buffer.from(hkdfSync('sha256', reference.mediaKey, Buffer.alloc(0), keyInfo, 112));
    const iv = expanded.subarray(0, 16);
    this.decipher = createDecipheriv('aes-256-cbc', expanded.subarray(16, 48), iv);
    this.hmac = createHmac('sha256', expanded.subarray(48, 80)).update(iv);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.encHash.update(chunk);
    const data = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    const cut = Math.max(0, data.length - MAC_LENGTH);
    this.tail = Buffer.from(data.subarray(cut));
    const ciphertext = data.subarray(0, cut);
    if (!ciphertext.length) return done();
    this.hmac.update(ciphertext);
    const plain = this.decipher.update(ciphertext);
    this.size += plain.length;
    if (this.size > this.maxBytes) return done(new WaMediaError('too_large', `media is larger than ${this.maxBytes} bytes`));
    this.plainHash.update(plain);
    done(null, plain);
  }

  override _flush(done: TransformCallback): void {
    const fail = (what: string) => done(new WaMediaError('verification', `media does not verify: ${what}`));
    if (!this.encHash.digest().equals(this.reference.fileEncSha256)) return fail('the ciphertext hash differs from fileEncSha256');
    const mac = this.hmac.digest().subarray(0, MAC_LENGTH);
    if (this.tail.length !== MAC_LENGTH || !timingSafeEqual(mac, this.tail)) return fail('the MAC differs');
    let last: Buffer;
    try {
      last = this.decipher.final();
    } catch {
      return fail('the ciphertext does not decrypt');
    }
    this.size += last.length;
    this.plainHash.update(last);
    if (!this.plainHash.digest().equals(this.reference.fileSha256)) return fail('the plaintext hash differs from fileSha256');
    done(null, last);
  }
}

/** The media host URL of a reference: `baseUrl` joined with its direct path (the message URL's path otherwise). */
export function mediaDownloadUrl(reference: WaMediaReference, baseUrl: string): URL {
  const path = reference.directPath ?? (reference.url ? new URL(reference.url).pathname + new URL(reference.url).search : undefined);
  if (!path) throw new WaMediaError('expired', 'the message has no direct path to download from');
  return new URL(path, baseUrl);
}

/**
 * Downloads, verifies and decrypts a received file into `file`, streaming (nothing whole in
 * memory). A file that fails any check is removed and the error says which check.
 */
export async function downloadMediaToFile(
  reference: WaMediaReference,
  options: { baseUrl: string; file: string; maxBytes: number; timeoutMs: number },
): Promise<{ size: number }> {
  const response = await fetchBlob(mediaDownloadUrl(reference, options.baseUrl), options.timeoutMs);
  const decryptor = new MediaDecryptor(reference, KEY_INFO[reference.kind], options.maxBytes);
  try {
    await pipeline(response, decryptor, createWriteStream(options.file));
  } catch (error) {
    await rm(options.file, { force: true });
    throw error instanceof WaMediaError ? error : new WaMediaError('http', `media download failed: ${(error as Error).message}`);
  }
  return { size: decryptor.size };
}

async function fetchBlob(url: URL, timeoutMs: number): Promise<IncomingMessage> {
  if (url.protocol !== 'https:') throw new WaMediaError('http', `the media host must be https (got ${url.protocol})`);
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs, headers: { Origin: 'https://web.whatsapp.com' } }, resolve);
    req.on('timeout', () => req.destroy(new WaMediaError('http', `the media host did not answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof WaMediaError ? err : new WaMediaError('http', `media download failed: ${err.message}`)));
    req.end();
  });
  const status = response.statusCode ?? 0;
  if (status !== 200) {
    response.resume();
    throw new WaMediaError(status === 404 || status === 410 ? 'expired' : 'http', `the media host answered ${status}`, status);
  }
  return response;
}

/** Where a history-sync notification's blob is and how to open it. */
export interface WaHistoryBlobReference {
  directPath: string;
  mediaKey: Buffer;
  fileEncSha256: Buffer;
  fileSha256: Buffer;
}

/**
 * Downloads a history-sync blob, verifies and decrypts it, and inflates it: the bytes of a
 * `proto.HistorySync`. Baileys' own download goes to mmg.whatsapp.net and checks neither hash
 * nor MAC; this one uses the configured media host and checks all three. `maxBytes` bounds the
 * inflated size, since the whole sync is decoded in memory.
 */
export async function downloadHistoryBlob(reference: WaHistoryBlobReference, options: { baseUrl: string; maxBytes: number; timeoutMs: number }): Promise<Buffer> {
  const response = await fetchBlob(new URL(reference.directPath, options.baseUrl), options.timeoutMs);
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > options.maxBytes) return done(new WaMediaError('too_large', `the history sync is larger than ${options.maxBytes} bytes`));
      chunks.push(chunk);
      done();
    },
  });
  try {
    await pipeline(response, new MediaDecryptor(reference, HISTORY_KEY_INFO, options.maxBytes), createInflate(), collect);
  } catch (error) {
    throw error instanceof WaMediaError ? error : new WaMediaError('http', `history download failed: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks);
}

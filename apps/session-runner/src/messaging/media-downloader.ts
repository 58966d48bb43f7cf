import { Injectable } from '@nestjs/common';
import type { OutgoingContent } from '@wa/contracts/runtime';
import { AddressPolicy, AppError, checkedLookup, RefusedAddressError } from '@wa/domain';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RunnerConfig } from '../config/runner.config';

type MediaContent = Extract<OutgoingContent, { media: unknown }>;

const refused = (message: string): AppError => new AppError('validation_error', `media url refused: ${message}`, { fields: [{ field: 'media.url', problems: [message] }] });

/**
 * Downloads media given by URL, so that Baileys never fetches a caller's URL itself: only
 * http(s), every resolved address checked at connect time against the same rules as webhooks,
 * no redirects (a redirect could point anywhere), a size cap while streaming and a timeout.
 */
@Injectable()
export class MediaDownloader {
  private readonly policy: AddressPolicy;
  private readonly lookup: ReturnType<typeof checkedLookup>;

  constructor(private readonly config: RunnerConfig) {
    const m = config.messaging.media;
    this.policy = new AddressPolicy(m.allowPrivateNetworks, m.allowedCidrs);
    this.lookup = checkedLookup(this.policy);
  }

  /**
   * The content with any `media.url` replaced by a local file holding what it served, streamed to
   * disk under the size cap (never a whole copy in memory), and a release that removes the file
   * once the send is over.
   */
  async resolve(content: OutgoingContent): Promise<{ content: OutgoingContent; release: () => Promise<void> }> {
    if (!('media' in content) || !content.media || !('url' in content.media)) return { content, release: async () => undefined };
    const dir = await mkdtemp(join(tmpdir(), 'wa-media-'));
    const release = () => rm(dir, { recursive: true, force: true });
    try {
      const file = join(dir, 'media');
      await this.download(content.media.url, file);
      return { content: { ...(content as MediaContent), media: { file } } as unknown as OutgoingContent, release };
    } catch (error) {
      await release();
      throw error;
    }
  }

  /** What `raw` serves, in memory (for small images such as profile pictures), under the same rules. */
  async fetchBytes(raw: string): Promise<Buffer> {
    const dir = await mkdtemp(join(tmpdir(), 'wa-media-'));
    try {
      const file = join(dir, 'media');
      await this.download(raw, file);
      return await readFile(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Streams what `raw` serves into `file`, under the media address rules and MEDIA_MAX_BYTES. */
  download(raw: string, file: string): Promise<void> {
    const { maxBytes, timeoutMs } = this.config.messaging.media;
    const problem = this.policy.urlProblem(raw);
    if (problem) return Promise.reject(refused(problem));
    const url = new URL(raw);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.policy.isAllowed(host)) return Promise.reject(refused(`${host} is not an allowed address`));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;

    return new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'GET', lookup: this.lookup, timeout: timeoutMs }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.resume();
          return reject(refused(`the server answered with a redirect (${status}); give the final URL`));
        }
        if (status < 200 || status >= 300) {
          res.resume();
          return reject(new AppError('validation_error', `media url answered HTTP ${status}`, { fields: [{ field: 'media.url', problems: [`HTTP ${status}`] }] }));
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > maxBytes) {
          res.destroy();
          return reject(new AppError('payload_too_large', `media is larger than ${maxBytes} bytes`, { maxBytes }));
        }
        let size = 0;
        const cap = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            if (size > maxBytes) return done(new AppError('payload_too_large', `media is larger than ${maxBytes} bytes`, { maxBytes }));
            done(null, chunk);
          },
        });
        pipeline(res, cap, createWriteStream(file)).then(resolve, (err: Error) =>
          reject(err instanceof AppError ? err : new AppError('validation_error', `media download failed: ${err.message}`)),
        );
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', (err: Error) => {
        if (err instanceof RefusedAddressError) return reject(refused(err.message));
        reject(new AppError('validation_error', `media download failed: ${err.message}`, { fields: [{ field: 'media.url', problems: [err.message] }] }));
      });
      req.end();
    });
  }
}

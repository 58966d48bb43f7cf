import { Injectable } from '@nestjs/common';
import type { OutgoingContent } from '@wa/contracts';
import { AddressPolicy, AppError, checkedLookup, RefusedAddressError } from '@wa/domain';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
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

  /** The content with any `media.url` replaced by the downloaded bytes. */
  async resolve(content: OutgoingContent): Promise<OutgoingContent> {
    if (!('media' in content) || !content.media || !('url' in content.media)) return content;
    const data = await this.download(content.media.url);
    return { ...(content as MediaContent), media: { base64: data.toString('base64') } } as OutgoingContent;
  }

  download(raw: string): Promise<Buffer> {
    const { maxBytes, timeoutMs } = this.config.messaging.media;
    const problem = this.policy.urlProblem(raw);
    if (problem) return Promise.reject(refused(problem));
    const url = new URL(raw);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.policy.isAllowed(host)) return Promise.reject(refused(`${host} is not an allowed address`));
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;

    return new Promise<Buffer>((resolve, reject) => {
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
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            res.destroy();
            reject(new AppError('payload_too_large', `media is larger than ${maxBytes} bytes`, { maxBytes }));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', (err) => reject(new AppError('validation_error', `media download failed: ${err.message}`)));
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

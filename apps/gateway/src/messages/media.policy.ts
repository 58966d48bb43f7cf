import { Injectable } from '@nestjs/common';
import type { MediaSource, MessageSendDto } from '@wa/contracts';
import { AddressPolicy, AppError } from '@wa/domain';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { GatewayConfig } from '../config/gateway.config';

type MediaDto = Extract<MessageSendDto, { type: 'image' | 'video' | 'audio' | 'document' | 'sticker' }>;

const MIME_FAMILY: Record<MediaDto['type'], RegExp | undefined> = {
  image: /^image\//,
  video: /^video\//,
  audio: /^audio\//,
  sticker: /^image\/webp$/,
  document: undefined,
};
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

const invalid = (field: string, problem: string): AppError =>
  new AppError('validation_error', `invalid request: ${field}: ${problem}`, { fields: [{ field, problems: [problem] }] });

/**
 * Checks media before it enters the outbox: inline base64 against MEDIA_MAX_BYTES, the MIME
 * type against the message type, and URLs against the media address rules (MEDIA_ALLOW_PRIVATE_NETWORKS,
 * MEDIA_ALLOWED_CIDRS, the same settings the runner downloads under) on the literal host and on
 * what it resolves to now, so a send cannot make us fetch from the internal network.
 */
@Injectable()
export class MediaPolicy {
  private readonly addresses: AddressPolicy;

  constructor(private readonly config: GatewayConfig) {
    this.addresses = new AddressPolicy(config.messaging.mediaAllowPrivateNetworks, config.messaging.mediaAllowedCidrs);
  }

  async source(dto: Pick<MediaDto, 'type' | 'url' | 'base64' | 'mimetype'>): Promise<MediaSource> {
    if ((dto.url === undefined) === (dto.base64 === undefined)) throw invalid('url', 'give exactly one of url and base64');
    const mimetype = dto.mimetype?.split(';')[0].trim().toLowerCase();
    const family = MIME_FAMILY[dto.type];
    if (mimetype && family && !family.test(mimetype)) throw invalid('mimetype', `mimetype ${mimetype} does not fit a ${dto.type} message`);
    if (dto.base64 !== undefined) {
      if (!mimetype && dto.type !== 'sticker') throw invalid('mimetype', 'mimetype is required with base64');
      const text = dto.base64.replace(/^data:[^,]*,/, '');
      if (!BASE64_RE.test(text) || text.length % 4 === 1) throw invalid('base64', 'base64 is not valid base64');
      const bytes = Math.floor((text.length * 3) / 4) - (text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0);
      if (bytes > this.config.messaging.mediaMaxBytes) {
        throw new AppError('payload_too_large', `the media is ${bytes} bytes; this server accepts at most ${this.config.messaging.mediaMaxBytes}`, { limit: this.config.messaging.mediaMaxBytes });
      }
      return { base64: text };
    }
    const url = dto.url as string;
    const problem = this.addresses.urlProblem(url);
    if (problem) throw invalid('url', problem);
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (!isIP(host)) {
      const resolved = await lookup(host, { all: true }).catch(() => []);
      if (resolved.length === 0) throw invalid('url', `the host ${host} does not resolve`);
      if (resolved.some((a) => !this.addresses.isAllowed(a.address))) throw invalid('url', `the host ${host} resolves to a private or reserved address; this server does not allow it`);
    }
    return { url };
  }
}

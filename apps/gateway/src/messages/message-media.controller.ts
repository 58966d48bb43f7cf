import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, type Principal } from '@wa/auth';
import { ApiErrorResponse, MEDIA_CHUNK_BYTES, RPC_MEDIA, type MediaChunk, type MediaReadPayload, type MediaStat, type MediaStatPayload } from '@wa/contracts';
import { AppError } from '@wa/domain';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { RunnerClient } from '../runner/runner-client';
import { parseRange } from './media-range';
import { MessagesService } from './messages.service';

/** A download on request may have to fetch the whole file from WhatsApp first. */
const STAT_TIMEOUT_MS = 120_000;
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'application/pdf': 'pdf',
};

function contentDisposition(stat: MediaStat, mid: string): string {
  const base = stat.mimetype.split(';')[0]?.trim().toLowerCase() ?? '';
  const name = stat.fileName ?? `${mid}.${EXTENSIONS[base] ?? 'bin'}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${stat.type === 'document' ? 'attachment' : 'inline'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * The file of a received (or sent) media message, streamed from the runner that stored it in
 * chunks over the RPC transport, with Range support for players and resumable downloads.
 */
@ApiTags('chats')
@Controller('sessions/:id/messages/:mid/media')
export class MessageMediaController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
  ) {}

  @Get()
  @RequireAuthenticated()
  @ApiOperation({
    summary: 'Download the media of a message',
    description:
      'The decrypted file of an image, video, audio, voice note, document or sticker message, verified against the hashes the message carries. `Content-Type` is the message mimetype, `Content-Disposition` names the file; send `Range: bytes=a-b` for part of it (206). By default the runner downloads each file when its message arrives (`MEDIA_DOWNLOAD=arrival`); with `MEDIA_DOWNLOAD=request` the first call fetches it.',
  })
  @ApiParam({ name: 'id', description: 'The WhatsApp session id. Must be a session your organization owns.', example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' })
  @ApiParam({ name: 'mid', description: 'The WhatsApp message id.', example: '3EB0C431C26A1916E07A' })
  @ApiProduces('application/octet-stream', 'image/jpeg', 'video/mp4', 'audio/ogg', 'application/pdf')
  @ApiOkResponse({ description: 'The whole file.', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 206, description: 'The requested range (`Content-Range: bytes a-b/size`).', schema: { type: 'string', format: 'binary' } })
  @ApiErrorResponse(404, ['not_found'], '`not_found`: no such session or message in your organization, the message has no media, or WhatsApp no longer has the file (`details.reason = "expired"`) or served one that does not match the message (`details.reason = "unverified"`).')
  @ApiErrorResponse(416, ['range_not_satisfiable'], '`range_not_satisfiable`: the range starts past the end of the file; `details.size` is its size.')
  @ApiErrorResponse(503, ['session_unavailable'], '`session_unavailable`: no runner answered, or the media host could not be reached.')
  async download(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('mid') mid: string,
    @Headers('range') rangeHeader: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await this.messages.requireSession(p.orgId, id);
    const ref = { orgId: p.orgId, sessionId: id };
    const stat = await this.runner.call<MediaStat, MediaStatPayload>(RPC_MEDIA.stat, { ...ref, id: mid }, STAT_TIMEOUT_MS);
    let range: { start: number; end: number } | undefined;
    try {
      range = parseRange(rangeHeader, stat.size);
    } catch (error) {
      if (error instanceof AppError) void reply.header('content-range', `bytes */${stat.size}`);
      throw error;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? stat.size - 1;
    const read = (offset: number) =>
      this.runner.call<MediaChunk, MediaReadPayload>(RPC_MEDIA.read, { ...ref, id: mid, offset, length: Math.min(MEDIA_CHUNK_BYTES, end + 1 - offset) });
    async function* chunks(): AsyncGenerator<Buffer> {
      // One chunk asked ahead, so the transport's round trip overlaps the client's reading.
      let next = start <= end ? read(start) : undefined;
      for (let offset = start; next; ) {
        const chunk = Buffer.from((await next).data, 'base64');
        if (!chunk.length) throw new Error('the stored media ended early');
        offset += chunk.length;
        next = offset <= end ? read(offset) : undefined;
        yield chunk;
      }
    }
    void reply
      .status(range ? 206 : 200)
      .header('content-type', stat.mimetype)
      .header('content-length', String(end - start + 1))
      .header('accept-ranges', 'bytes')
      .header('content-disposition', contentDisposition(stat, mid))
      .header('cache-control', 'private, max-age=3600');
    if (range) void reply.header('content-range', `bytes ${start}-${end}/${stat.size}`);
    await reply.send(Readable.from(chunks()));
  }
}

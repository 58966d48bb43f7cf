import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { RPC_MEDIA, type MediaChunk, type MediaReadPayload, type MediaStat, type MediaStatPayload } from '@wa/contracts/runtime';
import { MediaArchive } from './media-archive.service';

/** The runner's half of the media RPC. */
@Controller()
export class MediaController {
  constructor(private readonly archive: MediaArchive) {}

  @MessagePattern(RPC_MEDIA.stat)
  stat(@Payload() p: MediaStatPayload): Promise<MediaStat> {
    return this.archive.stat(p);
  }

  @MessagePattern(RPC_MEDIA.read)
  read(@Payload() p: MediaReadPayload): Promise<MediaChunk> {
    return this.archive.read(p);
  }
}

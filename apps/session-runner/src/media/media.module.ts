import { Module } from '@nestjs/common';
import { RunnerConfig } from '../config/runner.config';
import { SessionsModule } from '../sessions/sessions.module';
import { BLOB_STORE } from './blob-store.port';
import { FsBlobStore } from './fs-blob.store';
import { MediaArchive } from './media-archive.service';
import { MediaController } from './media.controller';

/** Received media: download, verification, storage and chunked reads for the gateway. */
@Module({
  imports: [SessionsModule],
  controllers: [MediaController],
  providers: [MediaArchive, { provide: BLOB_STORE, inject: [RunnerConfig], useFactory: (config: RunnerConfig) => new FsBlobStore(config.messaging.inbound.dir) }],
})
export class MediaModule {}

import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { RunnerConfig } from '../config/runner.config';
import { SessionsModule } from '../sessions/sessions.module';
import { BLOB_STORE } from './blob-store.port';
import { FsBlobStore } from './fs-blob.store';
import { MediaArchive } from './media-archive.service';
import { MediaController } from './media.controller';
import { PgLargeObjectStore } from './pg-large-object.store';

/** Received media: download, verification, storage and chunked reads for the gateway. */
@Module({
  imports: [SessionsModule],
  controllers: [MediaController],
  providers: [
    MediaArchive,
    {
      provide: BLOB_STORE,
      inject: [RunnerConfig, DataSource],
      useFactory: (config: RunnerConfig, db: DataSource) =>
        config.messaging.inbound.store === 'postgres' ? new PgLargeObjectStore(db, config.messaging.inbound.dir) : new FsBlobStore(config.messaging.inbound.dir),
    },
  ],
})
export class MediaModule {}

import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MEDIA_CHUNK_BYTES, type MediaChunk, type MediaReadPayload, type MediaStat, type MediaStatPayload, type SessionRef } from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import { downloadMediaToFile, mediaReferenceOf, WaMediaError, type WaMediaReference } from '@wa/wa-adapter';
import { RunnerConfig } from '../config/runner.config';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';
import { SessionManager } from '../sessions/session-manager';
import { BLOB_STORE, type BlobStore } from './blob-store.port';

const HOUR_MS = 3_600_000;

/**
 * Received media kept by the runner: downloaded from WhatsApp's media host on arrival (or on the
 * first read, per MEDIA_DOWNLOAD), verified and decrypted as they stream, stored in the blob
 * store, served in chunks to the gateway, and deleted after MEDIA_RETENTION_DAYS.
 */
@Injectable()
export class MediaArchive implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MediaArchive.name);
  private readonly inflight = new Map<string, Promise<void>>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly config: RunnerConfig,
    private readonly observers: ConnectionObservers,
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {}

  onModuleInit(): void {
    if (this.config.messaging.inbound.download === 'arrival') {
      this.observers.register((ref, connection) =>
        connection.on('message', (message) => {
          if (!message.key.id) return;
          void this.fetchIfMedia(ref, message.key.id, message.raw).catch((err: unknown) =>
            this.logger.warn({ msg: 'media download on arrival failed', sessionId: ref.sessionId, messageId: message.key.id, error: (err as Error).message }),
          );
        }),
      );
    }
    const days = this.config.messaging.inbound.retentionDays;
    if (days > 0) {
      const sweep = () =>
        void this.blobs
          .deleteOlderThan(Date.now() - days * 24 * HOUR_MS)
          .then((removed) => removed && this.logger.log({ msg: 'expired stored media removed', removed }))
          .catch((err: unknown) => this.logger.warn({ msg: 'media retention sweep failed', error: (err as Error).message }));
      sweep();
      this.sweeper = setInterval(sweep, HOUR_MS);
      this.sweeper.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  async stat(p: MediaStatPayload): Promise<MediaStat> {
    const { reference, key } = await this.referenceOf(p);
    let stored = await this.blobs.stat(key);
    if (!stored) {
      await this.fetch(p, p.id, reference);
      stored = await this.blobs.stat(key);
    }
    if (!stored) throw new AppError('not_found', 'the media of this message could not be stored', { id: p.id });
    return { type: reference.kind, size: stored.size, mimetype: reference.mimetype, ...(reference.fileName ? { fileName: reference.fileName } : {}) };
  }

  async read(p: MediaReadPayload): Promise<MediaChunk> {
    if (!Number.isInteger(p.offset) || p.offset < 0 || !Number.isInteger(p.length) || p.length < 1 || p.length > MEDIA_CHUNK_BYTES) {
      throw new AppError('validation_error', `offset must be >= 0 and length 1-${MEDIA_CHUNK_BYTES}`);
    }
    const { key } = await this.referenceOf(p);
    if (!(await this.blobs.stat(key))) throw new AppError('not_found', 'the media of this message is not stored', { id: p.id });
    return { data: (await this.blobs.read(key, p.offset, p.length)).toString('base64') };
  }

  private async referenceOf(p: MediaStatPayload): Promise<{ reference: WaMediaReference; key: string }> {
    await this.sessions.requireSession(p);
    if (typeof p.id !== 'string' || !p.id) throw new AppError('validation_error', 'id is required');
    const row = await this.store.find(p.sessionId, p.id);
    if (!row || row.deletedAt !== null) throw new AppError('not_found', 'message not found', { id: p.id });
    const reference = await mediaReferenceOf(Buffer.from(row.raw, 'base64'));
    if (!reference) throw new AppError('not_found', 'the message has no media', { id: p.id });
    return { reference, key: blobKey(p.sessionId, p.id) };
  }

  private async fetchIfMedia(ref: SessionRef, messageId: string, raw: Uint8Array): Promise<void> {
    const reference = await mediaReferenceOf(raw);
    if (reference) await this.fetch(ref, messageId, reference);
  }

  /** One download per message at a time; a second caller waits for the first. */
  private fetch(ref: SessionRef, messageId: string, reference: WaMediaReference): Promise<void> {
    const key = blobKey(ref.sessionId, messageId);
    let running = this.inflight.get(key);
    if (!running) {
      running = this.downloadOrReupload(ref, messageId, key, reference).finally(() => this.inflight.delete(key));
      this.inflight.set(key, running);
    }
    return running;
  }

  /**
   * WhatsApp keeps files for a limited time; when its copy is gone (404/410) our phone is asked to
   * upload it again (rc14 never does this by itself on a download error) and the download is
   * retried once from the new direct path, which is kept in the stored message.
   */
  private async downloadOrReupload(ref: SessionRef, messageId: string, key: string, reference: WaMediaReference): Promise<void> {
    try {
      return await this.download(key, reference);
    } catch (error) {
      if (!(error instanceof AppError && error.details.reason === 'expired')) throw error;
    }
    const row = await this.store.find(ref.sessionId, messageId);
    if (!row) throw new AppError('not_found', 'message not found', { id: messageId });
    let raw: Uint8Array;
    try {
      raw = await this.sessions.connected(ref).reuploadMedia(Buffer.from(row.raw, 'base64'));
    } catch (error) {
      if (error instanceof AppError) throw error;
      this.logger.warn({ msg: 'media re-upload refused', sessionId: ref.sessionId, messageId, error: (error as Error).message });
      throw new AppError('not_found', "the media is no longer on WhatsApp's servers and the phone could not upload it again", { reason: 'expired' });
    }
    await this.store.replaceRaw(row, raw);
    const renewed = await mediaReferenceOf(raw);
    if (!renewed) throw new AppError('not_found', 'the message has no media', { id: messageId });
    this.logger.log({ msg: 'media re-uploaded by the phone', sessionId: ref.sessionId, messageId });
    await this.download(key, renewed);
  }

  private async download(key: string, reference: WaMediaReference): Promise<void> {
    const { baseUrl } = this.config.messaging.inbound;
    const { maxBytes, timeoutMs } = this.config.messaging.media;
    const file = await this.blobs.scratch();
    try {
      await downloadMediaToFile(reference, { baseUrl, file, maxBytes: Math.max(maxBytes, reference.fileLength ?? 0), timeoutMs });
      await this.blobs.put(key, file);
    } catch (error) {
      await this.blobs.discard(file);
      if (error instanceof WaMediaError) {
        if (error.reason === 'expired') throw new AppError('not_found', "the media is no longer on WhatsApp's servers", { reason: 'expired' });
        if (error.reason === 'verification') throw new AppError('not_found', 'the media WhatsApp served does not match the message (hash or MAC)', { reason: 'unverified' });
        throw new AppError('session_unavailable', `the media could not be downloaded: ${error.message}`, { reason: error.reason });
      }
      throw error;
    }
  }
}

function blobKey(sessionId: string, messageId: string): string {
  return `${sessionId}/${messageId}`;
}

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from './blob-store.port';

/**
 * Blobs as files under one directory (`MEDIA_DIR`): `blobs/<sha256 of key>`, downloads staged in
 * `tmp/` on the same filesystem so that taking one in is an atomic rename.
 */
export class FsBlobStore implements BlobStore {
  private ready?: Promise<void>;

  constructor(private readonly dir: string) {}

  private prepare(): Promise<void> {
    this.ready ??= Promise.all([mkdir(join(this.dir, 'blobs'), { recursive: true }), mkdir(join(this.dir, 'tmp'), { recursive: true })]).then(() => undefined);
    return this.ready;
  }

  private pathOf(key: string): string {
    return join(this.dir, 'blobs', createHash('sha256').update(key).digest('hex'));
  }

  async scratch(): Promise<string> {
    await this.prepare();
    return join(this.dir, 'tmp', randomBytes(12).toString('hex'));
  }

  async put(key: string, file: string): Promise<void> {
    await this.prepare();
    await rename(file, this.pathOf(key));
  }

  async discard(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    const found = await stat(this.pathOf(key)).catch(() => undefined);
    return found?.isFile() ? { size: found.size } : undefined;
  }

  async read(key: string, offset: number, length: number): Promise<Buffer> {
    const handle = await open(this.pathOf(key), 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    await this.prepare();
    let removed = 0;
    for (const name of await readdir(join(this.dir, 'blobs'))) {
      const path = join(this.dir, 'blobs', name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoffMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

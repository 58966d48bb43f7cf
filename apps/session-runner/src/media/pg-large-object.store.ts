import { createReadStream } from 'node:fs';
import type { DataSource } from 'typeorm';
import type { BlobStore } from './blob-store.port';
import { FsBlobStore } from './fs-blob.store';

/** Written in pieces of 1 MiB: large objects take any size, one statement per piece keeps memory flat. */
const PIECE_BYTES = 1024 * 1024;

/**
 * Received media in PostgreSQL large objects (`lo_create`/`lo_put`/`lo_get`, server-side SQL
 * functions, no client library beyond `pg`): the database every runner of a scale-out deployment
 * already shares, so a session taken over by another runner still finds its files, with no second
 * storage system to run. `wa_media_blobs` maps each key to its object; a file is written in one
 * transaction, so a crash leaves no half-written blob behind. Downloads are staged on local disk
 * (MEDIA_DIR) until verified.
 */
export class PgLargeObjectStore implements BlobStore {
  private readonly scratchDisk: FsBlobStore;

  constructor(
    private readonly db: DataSource,
    scratchDir: string,
  ) {
    this.scratchDisk = new FsBlobStore(scratchDir);
  }

  scratch(): Promise<string> {
    return this.scratchDisk.scratch();
  }

  discard(file: string): Promise<void> {
    return this.scratchDisk.discard(file);
  }

  async put(key: string, file: string): Promise<void> {
    const q = this.db.createQueryRunner();
    await q.connect();
    try {
      await q.startTransaction();
      const [{ oid }] = (await q.query('SELECT lo_create(0) AS oid')) as { oid: number }[];
      let offset = 0;
      for await (const piece of createReadStream(file, { highWaterMark: PIECE_BYTES })) {
        await q.query('SELECT lo_put($1, $2, $3)', [oid, offset, piece]);
        offset += (piece as Buffer).length;
      }
      const previous = (await q.query('SELECT oid FROM wa_media_blobs WHERE blob_key = $1 FOR UPDATE', [key])) as { oid: string }[];
      for (const row of previous) await q.query('SELECT lo_unlink($1)', [Number(row.oid)]);
      await q.query(
        'INSERT INTO wa_media_blobs (blob_key, oid, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (blob_key) DO UPDATE SET oid = EXCLUDED.oid, size = EXCLUDED.size, created_at = EXCLUDED.created_at',
        [key, oid, offset, Date.now()],
      );
      await q.commitTransaction();
    } catch (error) {
      if (q.isTransactionActive) await q.rollbackTransaction();
      throw error;
    } finally {
      await q.release();
    }
    await this.scratchDisk.discard(file);
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    const rows = (await this.db.query('SELECT size FROM wa_media_blobs WHERE blob_key = $1', [key])) as { size: string }[];
    return rows[0] ? { size: Number(rows[0].size) } : undefined;
  }

  async read(key: string, offset: number, length: number): Promise<Buffer> {
    // lo_get reads outside a transaction block too: each call sees the committed object.
    const rows = (await this.db.query('SELECT lo_get(oid, $2, $3) AS data FROM wa_media_blobs WHERE blob_key = $1', [key, offset, length])) as { data: Buffer }[];
    return rows[0]?.data ?? Buffer.alloc(0);
  }

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    // One statement, and a SELECT: TypeORM answers a DELETE ... RETURNING with [rows, count]
    // rather than the rows, which made the sweep unlink "NaN" and fail after deleting the index
    // rows, so the files themselves were never freed.
    const rows = (await this.db.query('WITH gone AS (DELETE FROM wa_media_blobs WHERE created_at < $1 RETURNING oid) SELECT lo_unlink(oid) FROM gone', [cutoffMs])) as unknown[];
    return rows.length;
  }
}

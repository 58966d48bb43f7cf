import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore } from './fs-blob.store';

describe(FsBlobStore.name, () => {
  let dir: string;
  let store: FsBlobStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-blob-store-'));
    store = new FsBlobStore(dir);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function put(key: string, data: Buffer): Promise<void> {
    const file = await store.scratch();
    writeFileSync(file, data);
    await store.put(key, file);
  }

  it('takes a scratch file in under its key and reads byte ranges of it', async () => {
    await put('s1/m1', Buffer.from('0123456789'));
    await expect(store.stat('s1/m1')).resolves.toEqual({ size: 10 });
    await expect(store.read('s1/m1', 3, 4)).resolves.toEqual(Buffer.from('3456'));
    await expect(store.read('s1/m1', 8, 100)).resolves.toEqual(Buffer.from('89'));
    await expect(store.stat('s1/other')).resolves.toBeUndefined();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('deletes what was stored before the retention cutoff and keeps the rest', async () => {
    await put('old', Buffer.from('old'));
    await put('new', Buffer.from('new'));
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(join(dir, 'blobs', createHash('sha256').update('old').digest('hex')), tenDaysAgo, tenDaysAgo);
    await expect(store.deleteOlderThan(Date.now() - 7 * 86_400_000)).resolves.toBe(1);
    await expect(store.stat('old')).resolves.toBeUndefined();
    await expect(store.stat('new')).resolves.toEqual({ size: 3 });
  });
});

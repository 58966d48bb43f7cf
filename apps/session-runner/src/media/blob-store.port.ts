/**
 * Where received media files are kept. The runner downloads into a scratch file (streaming,
 * verified), then hands the finished file to the store; readers ask for byte ranges.
 */
export interface BlobStore {
  /** A fresh path to download into; `put` or `discard` it afterwards. */
  scratch(): Promise<string>;
  /** Takes the finished scratch file in under `key` (replacing what was there). */
  put(key: string, file: string): Promise<void>;
  discard(file: string): Promise<void>;
  stat(key: string): Promise<{ size: number } | undefined>;
  /** Bytes [offset, offset + length) (fewer at the end of the file). */
  read(key: string, offset: number, length: number): Promise<Buffer>;
  /** Removes blobs stored before `cutoffMs`; answers how many. */
  deleteOlderThan(cutoffMs: number): Promise<number>;
}

export const BLOB_STORE = Symbol('BLOB_STORE');

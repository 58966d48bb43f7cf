/** The app-state collections WhatsApp keeps per account (Baileys' `ALL_WA_PATCH_NAMES`). */
export const APP_STATE_COLLECTIONS = ['critical_block', 'critical_unblock_low', 'regular_high', 'regular', 'regular_low'] as const;
export type AppStateCollection = (typeof APP_STATE_COLLECTIONS)[number];

export const isAppStateCollection = (name: string): name is AppStateCollection =>
  (APP_STATE_COLLECTIONS as readonly string[]).includes(name);

/** Result of offering a patch built on `baseVersion`: accepted as the next version, or refused. */
export type AppendResult = { ok: true; version: number } | { ok: false; version: number };

/** A collection compacted at `version`: an encoded `SyncdSnapshot`. */
export interface StoredSnapshot {
  version: number;
  snapshot: Uint8Array;
}

/** Every how many patches a collection is compacted, and how (from the patches up to then). */
export interface SnapshotPolicy {
  every: number;
  compact: (patches: Uint8Array[]) => Uint8Array;
}

/**
 * The server side of app state, as WhatsApp keeps it: per account and collection, an ordered list
 * of encrypted patches, numbered from 1, and every `policy.every` patches a snapshot of the
 * collection at that version, which a device syncing from scratch gets instead of the patches up
 * to it. The server never holds the keys: it cannot decrypt a patch nor check its MACs, only that
 * each new one is built on the latest version.
 */
export class AppStateStore {
  private readonly collections = new Map<AppStateCollection, Uint8Array[]>();
  private readonly snapshots = new Map<AppStateCollection, StoredSnapshot>();

  constructor(private readonly policy?: SnapshotPolicy) {}

  /** The latest snapshot of the collection, if it was compacted yet. */
  snapshot(name: AppStateCollection): StoredSnapshot | undefined {
    return this.snapshots.get(name);
  }

  version(name: AppStateCollection): number {
    return this.patchesOf(name).length;
  }

  /** Encoded `SyncdPatch`es (each carrying its version) after `version`, oldest first. */
  since(name: AppStateCollection, version: number): Uint8Array[] {
    return this.patchesOf(name).slice(Math.max(0, version));
  }

  /**
   * Appends a patch a device built on `baseVersion`. Another device having written in between
   * is a conflict: the writer must fetch what it missed and build its patch again.
   */
  append(name: AppStateCollection, baseVersion: number, encode: (version: number) => Uint8Array): AppendResult {
    const patches = this.patchesOf(name);
    if (baseVersion !== patches.length) return { ok: false, version: patches.length };
    patches.push(encode(patches.length + 1));
    if (this.policy && patches.length % this.policy.every === 0) this.snapshots.set(name, { version: patches.length, snapshot: this.policy.compact(patches) });
    return { ok: true, version: patches.length };
  }

  private patchesOf(name: AppStateCollection): Uint8Array[] {
    let patches = this.collections.get(name);
    if (!patches) {
      patches = [];
      this.collections.set(name, patches);
    }
    return patches;
  }
}

/** The app-state collections WhatsApp keeps per account (Baileys' `ALL_WA_PATCH_NAMES`). */
export const APP_STATE_COLLECTIONS = ['critical_block', 'critical_unblock_low', 'regular_high', 'regular', 'regular_low'] as const;
export type AppStateCollection = (typeof APP_STATE_COLLECTIONS)[number];

export const isAppStateCollection = (name: string): name is AppStateCollection =>
  (APP_STATE_COLLECTIONS as readonly string[]).includes(name);

/** Result of offering a patch built on `baseVersion`: accepted as the next version, or refused. */
export type AppendResult = { ok: true; version: number } | { ok: false; version: number };

/**
 * The server side of app state, as WhatsApp keeps it: per account and collection, an ordered list
 * of encrypted patches, numbered from 1. The server never holds the keys: it cannot decrypt a
 * patch nor check its MACs, only that each new one is built on the latest version.
 */
export class AppStateStore {
  private readonly collections = new Map<AppStateCollection, Uint8Array[]>();

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

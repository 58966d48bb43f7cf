import NodeCache from '@cacheable/node-cache';
import type { GroupMetadata } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

/**
 * Baileys' CacheStore is generic per call (`get<T>(key): T`) and stores values of many shapes in
 * one cache; only an untyped NodeCache satisfies that contract.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type BaileysCache = NodeCache<any>;

/**
 * Caches that outlive one socket. makeWASocket creates its own NodeCaches when none is passed,
 * and each one holds a check timer: a session that reconnects a hundred times would otherwise
 * leak a hundred sets of timers. They are created once per session and closed on dispose.
 */
export class SessionCaches {
  readonly signalKeys: BaileysCache = new NodeCache({ stdTTL: 5 * 60, useClones: false, deleteOnExpire: true });
  readonly msgRetryCounter: BaileysCache = new NodeCache({ stdTTL: 60 * 60, useClones: false });
  readonly userDevices: BaileysCache = new NodeCache({ stdTTL: 5 * 60, useClones: false });
  readonly callOffer: BaileysCache = new NodeCache({ stdTTL: 5 * 60, useClones: false });
  readonly placeholderResend: BaileysCache = new NodeCache({ stdTTL: 60 * 60, useClones: false });
  /** Backs `cachedGroupMetadata`, so sends to a group do not query its metadata every time. */
  readonly groupMetadata = new NodeCache<GroupMetadata>({ stdTTL: 5 * 60, useClones: false });

  private all(): Array<NodeCache<unknown>> {
    return [this.signalKeys, this.msgRetryCounter, this.userDevices, this.callOffer, this.placeholderResend, this.groupMetadata];
  }

  /** After a logout the cached keys belong to a device that no longer exists. */
  flush(): void {
    for (const cache of this.all()) cache.flushAll();
  }

  close(): void {
    for (const cache of this.all()) {
      cache.flushAll();
      cache.close();
    }
  }
}

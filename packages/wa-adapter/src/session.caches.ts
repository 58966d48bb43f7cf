import NodeCache from '@cacheable/node-cache';
import type { GroupMetadata } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

/**
 * Baileys' CacheStore is generic per call (`get<T>(key): T`) and stores values of many shapes in
 * one cache; only an untyped NodeCache satisfies that contract.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type BaileysCache = NodeCache<any>;

/**
 * @cacheable/node-cache keeps size statistics (`getStats().vsize`) that nothing here reads, and
 * its constructor takes no option to skip them: every set and every delete walks the whole value
 * to estimate its size, in time quadratic in the objects it holds. Baileys' key cache holds
 * Signal sessions and each pairing's 812 new pre-keys, so the walk was 7% of a runner's CPU
 * while 300 sessions paired. The statistics object has a switch of its own; this turns it off,
 * and again whenever `flushAll` (Baileys calls it to clear the key cache) starts new statistics.
 */
function withoutSizeStatistics<T extends BaileysCache>(cache: T): T {
  const internals = cache as unknown as { _stats?: { enabled: boolean }; flushStats(): void };
  const off = (): void => {
    if (internals._stats) internals._stats.enabled = false;
  };
  const flushStats = internals.flushStats.bind(cache);
  internals.flushStats = () => {
    flushStats();
    off();
  };
  off();
  return cache;
}

/** How long a contact's device list is kept (seconds): 12 hours. */
export const USER_DEVICES_TTL_S = 12 * 3600;

/**
 * Caches that outlive one socket. makeWASocket creates its own NodeCaches when none is passed,
 * and each one holds a check timer: a session that reconnects a hundred times would otherwise
 * leak a hundred sets of timers. They are created once per session and closed on dispose.
 */
export class SessionCaches {
  readonly signalKeys: BaileysCache = withoutSizeStatistics(new NodeCache({ stdTTL: 5 * 60, useClones: false, deleteOnExpire: true }));
  readonly msgRetryCounter: BaileysCache = withoutSizeStatistics(new NodeCache({ stdTTL: 60 * 60, useClones: false }));
  /**
   * Contacts' device lists. WhatsApp announces every device linked or removed to the devices that
   * keep the list (a `devices` notification, queued for a socket that is down), and Baileys applies
   * it here: Baileys' own 5 minutes cost one device query to WhatsApp per contact written to after
   * each quiet spell, in front of that message. The lifetime only bounds how long a list lives.
   */
  readonly userDevices: BaileysCache = withoutSizeStatistics(new NodeCache({ stdTTL: USER_DEVICES_TTL_S, useClones: false }));
  readonly callOffer: BaileysCache = withoutSizeStatistics(new NodeCache({ stdTTL: 5 * 60, useClones: false }));
  readonly placeholderResend: BaileysCache = withoutSizeStatistics(new NodeCache({ stdTTL: 60 * 60, useClones: false }));
  /** Backs `cachedGroupMetadata`, so sends to a group do not query its metadata every time. */
  readonly groupMetadata: NodeCache<GroupMetadata> = withoutSizeStatistics(new NodeCache<GroupMetadata>({ stdTTL: 5 * 60, useClones: false }));

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

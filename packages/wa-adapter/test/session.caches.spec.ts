import { SessionCaches } from '../src/session.caches';

/** A value that counts how often something reads into it: a size estimate reads every property. */
function watchedValue(): { value: object; reads: () => number } {
  let reads = 0;
  const value = {};
  for (const name of ['privKey', 'pubKey', 'keyId']) {
    Object.defineProperty(value, name, {
      enumerable: true,
      get: () => {
        reads++;
        return Buffer.alloc(32);
      },
    });
  }
  return { value, reads: () => reads };
}

describe(SessionCaches.name, () => {
  const caches = new SessionCaches();
  afterAll(() => caches.close());

  it('stores, returns and deletes values without walking them', () => {
    for (const cache of [caches.signalKeys, caches.msgRetryCounter, caches.userDevices, caches.callOffer, caches.placeholderResend]) {
      const watched = watchedValue();
      cache.set('pre-key:1', watched.value);
      expect(cache.get('pre-key:1')).toBe(watched.value);
      cache.del('pre-key:1');
      expect(cache.get('pre-key:1')).toBeUndefined();
      expect(watched.reads()).toBe(0);
    }
  });

  it('keeps not walking values after a flush: ours at logout, or Baileys clearing its key cache', () => {
    for (const flush of [() => caches.flush(), () => caches.signalKeys.flushAll()]) {
      flush();
      const watched = watchedValue();
      caches.signalKeys.set('session:1', watched.value);
      expect(caches.signalKeys.get('session:1')).toBe(watched.value);
      caches.signalKeys.del('session:1');
      expect(watched.reads()).toBe(0);
    }
  });
});

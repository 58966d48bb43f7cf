import { loadBaileys } from '../src';
import { countEventLoopTurns } from './support/event-loop-turns';

/** The key store a socket hands Baileys, in memory: what getNextPreKeys writes and reads back. */
function memoryKeys() {
  const data: Record<string, Record<string, unknown>> = {};
  return {
    get: async (type: string, ids: string[]) => Object.fromEntries(ids.filter((id) => data[type]?.[id] !== undefined).map((id) => [id, data[type]![id]])),
    set: async (update: Record<string, Record<string, unknown>>) => {
      for (const [type, values] of Object.entries(update)) Object.assign((data[type] ??= {}), values);
    },
  };
}

describe('pre-keys of a first upload', () => {
  it('are made off the event loop, which keeps running while 812 are generated', async () => {
    const { getNextPreKeys, initAuthCreds, INITIAL_PREKEY_COUNT } = await loadBaileys();
    const creds = initAuthCreds();
    const loop = countEventLoopTurns();

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const { update, preKeys } = await getNextPreKeys({ creds, keys: memoryKeys() as any }, INITIAL_PREKEY_COUNT);
    const turns = loop.stop();

    expect(Object.keys(preKeys)).toHaveLength(INITIAL_PREKEY_COUNT);
    expect(update).toEqual({ nextPreKeyId: INITIAL_PREKEY_COUNT + 1, firstUnuploadedPreKeyId: INITIAL_PREKEY_COUNT + 1 });
    // Made in one synchronous loop (rc14 as published), not one turn of the loop passes; in
    // batches on the thread pool, other work runs between them.
    expect(turns).toBeGreaterThanOrEqual(5);
  });

  it('are X25519 key pairs like Curve.generateKeyPair makes', async () => {
    const { getNextPreKeys, initAuthCreds, Curve } = await loadBaileys();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const { preKeys } = await getNextPreKeys({ creds: initAuthCreds(), keys: memoryKeys() as any }, 64);
    const pairs = Object.values(preKeys);
    const reference = Curve.generateKeyPair();
    for (const pair of pairs) {
      expect(pair.private).toHaveLength(32);
      expect(pair.public).toHaveLength(32);
      // Each public key belongs to its private key: both sides of an agreement compute the same secret.
      expect(Buffer.from(Curve.sharedKey(pair.private, reference.public))).toEqual(Buffer.from(Curve.sharedKey(reference.private, pair.public)));
    }
    expect(new Set(pairs.map((p) => Buffer.from(p.public).toString('hex'))).size).toBe(64);
  });
});

import { loadBaileys, strictCurveVerify } from '../src';
import { countEventLoopTurns } from './support/event-loop-turns';

/**
 * libsignal's curve25519 signing (pure JavaScript, ~8 ms a call) runs on a worker thread for new
 * credentials' signed pre-key and the device signature at pairing (the Baileys patch), so that
 * many sessions pairing at once do not stall the runner's event loop.
 */
// Baileys' own `Curve.verify` answers true for any signature (libsignal 6 does not throw): the
// adapter's strict one checks them.
describe('signing off the event loop', () => {
  it('answers each of many concurrent requests with the signature of its own message and key', async () => {
    const { signOffThread, Curve } = await loadBaileys();
    const verify = strictCurveVerify;
    const keys = Array.from({ length: 8 }, () => Curve.generateKeyPair());
    const COUNT = 300;
    const requests = Array.from({ length: COUNT }, (_, i) => ({ key: keys[i % keys.length], message: Buffer.from(`message ${i}`) }));
    const loop = countEventLoopTurns();

    const signatures = await Promise.all(requests.map((r) => signOffThread(r.key.private, r.message)));
    const turns = loop.stop();

    // Every answer belongs to its request: it verifies with the request's key and message only.
    for (const [i, r] of requests.entries()) {
      expect(verify(r.key.public, r.message, signatures[i])).toBe(true);
      const other = requests[(i + 1) % COUNT];
      expect(verify(other.key.public, other.message, signatures[i])).toBe(false);
    }
    // The event loop kept turning while they were signed (in one synchronous loop it would not).
    expect(turns).toBeGreaterThanOrEqual(10);
  });

  it('keeps answering after a request fails, and makes inputs that are slices of a shared buffer copies', async () => {
    const { signOffThread, Curve } = await loadBaileys();
    const verify = strictCurveVerify;
    const key = Curve.generateKeyPair();
    await expect(signOffThread(Buffer.alloc(5), Buffer.from('x'))).rejects.toThrow(/private key/);
    // A Buffer from Node's shared pool: transferring its memory would detach the pool.
    const pooled = Buffer.from('pooled message');
    const signature = await signOffThread(key.private, pooled);
    expect(pooled.toString()).toBe('pooled message');
    expect(verify(key.public, pooled, signature)).toBe(true);
  });

  it('makes new credentials whose signed pre-key verifies with their identity key', async () => {
    const { initAuthCredsOffThread } = await loadBaileys();
    const verify = strictCurveVerify;
    const creds = await initAuthCredsOffThread();
    const signedPublic = Buffer.concat([Buffer.from([5]), creds.signedPreKey.keyPair.public]);
    expect(verify(creds.signedIdentityKey.public, signedPublic, creds.signedPreKey.signature)).toBe(true);
    expect(creds.signedPreKey.keyId).toBe(1);
    for (const pair of [creds.noiseKey, creds.pairingEphemeralKeyPair, creds.signedIdentityKey]) {
      expect(pair.private).toHaveLength(32);
      expect(pair.public).toHaveLength(32);
    }
    expect(creds).toMatchObject({ registered: false, nextPreKeyId: 1, firstUnuploadedPreKeyId: 1 });
  });
});

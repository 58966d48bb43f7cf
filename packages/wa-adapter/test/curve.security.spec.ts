import { randomBytes } from 'node:crypto';

import { installStrictCurveVerify, loadBaileys, parseRootPublicKey, trustRootPublicKey } from '../src';

describe('strict Curve.verify', () => {
  it('refuses a bad signature once installed, and still accepts a good one', async () => {
    const { Curve } = await loadBaileys();
    const keys = Curve.generateKeyPair();
    const message = Buffer.from('noise certificate details');
    const signature = Buffer.from(Curve.sign(keys.private, message));
    const forged = Buffer.from(signature);
    forged[10] ^= 0xff;

    // rc14 as shipped: a forged signature passes, which is what the strict verifier fixes.
    expect(Curve.verify(keys.public, message, forged)).toBe(true);

    await installStrictCurveVerify();
    await installStrictCurveVerify();

    expect(Curve.verify(keys.public, message, signature)).toBe(true);
    expect(Curve.verify(keys.public, message, forged)).toBe(false);
    expect(Curve.verify(keys.public, Buffer.from('other details'), signature)).toBe(false);
    expect(Curve.verify(Curve.generateKeyPair().public, message, signature)).toBe(false);
    expect(Curve.verify(keys.public, message, signature.subarray(0, 10))).toBe(false);
  });
});

describe(trustRootPublicKey.name, () => {
  afterEach(async () => {
    await trustRootPublicKey(undefined);
  });

  it('makes the noise handshake trust the given root key and restores WhatsApp\'s when unset', async () => {
    const { WA_CERT_DETAILS } = await loadBaileys();
    const whatsApp = Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY);
    const sandbox = randomBytes(32);

    await trustRootPublicKey(sandbox.toString('base64'));
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY)).toEqual(sandbox);

    await trustRootPublicKey(undefined);
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY)).toEqual(whatsApp);
  });

  it('rejects keys that are not base64 of exactly 32 bytes', async () => {
    await expect(trustRootPublicKey(randomBytes(33).toString('base64'))).rejects.toThrow(/32-byte.*got 33 bytes/);
    await expect(trustRootPublicKey('not base64!')).rejects.toThrow(/invalid base64/);
    expect(() => parseRootPublicKey('')).toThrow(/WA_ROOT_PUBLIC_KEY/);
  });
});

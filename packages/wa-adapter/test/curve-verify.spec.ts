import { createHash, createPrivateKey, createPublicKey, randomBytes, randomInt } from 'node:crypto';
import { calculateSignature, generateKeyPair, verifySignature } from 'libsignal/src/curve.js';

import { strictCurveVerify } from '../src';

const FIELD_P = (1n << 255n) - 19n;
const GROUP_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** libsignal's own verification (curve25519-js, pure JavaScript), as the runner ran it before. */
function reference(pubKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verifySignature(Buffer.concat([Buffer.from([5]), pubKey]), Buffer.from(message), Buffer.from(signature)) === true;
  } catch {
    return false;
  }
}

const flipBit = (bytes: Uint8Array, bit: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};
const littleEndian = (bytes: Uint8Array): bigint => bytes.reduceRight((value, byte) => (value << 8n) | BigInt(byte), 0n);
const toLittleEndian = (value: bigint): Buffer => Buffer.from(Array.from({ length: 32 }, (_, i) => Number((value >> BigInt(8 * i)) & 0xffn)));

describe('native XEdDSA verification', () => {
  it('answers like libsignal for valid signatures and for each kind of corruption', () => {
    let valid = 0;
    // Each JavaScript key, signature or verification costs 30 ms or more (several times that on a
    // loaded machine), so 12 keys x 4 cases; the other tests add random and edge-of-field keys.
    const ROUNDS = 12;
    for (let i = 0; i < ROUNDS; i++) {
      const keys = generateKeyPair();
      const pub = keys.pubKey.subarray(1);
      const message = randomBytes(randomInt(0, 300));
      const signature = calculateSignature(keys.privKey, message);
      const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
        [pub, message, signature],
        // A spread of signature bits over R and S, the sign bit (511) last.
        [pub, message, flipBit(signature, i === ROUNDS - 1 ? 511 : (i * 43 + 7) % 512)],
        [pub, message.length ? flipBit(message, randomInt(0, message.length * 8)) : Buffer.from([1]), signature],
        [flipBit(pub, randomInt(0, 256)), message, signature],
      ];
      for (const [key, msg, sig] of cases) {
        const expected = reference(key, msg, sig);
        expect({ i, key: Buffer.from(key).toString('hex'), got: strictCurveVerify(key, msg, sig) }).toEqual({ i, key: Buffer.from(key).toString('hex'), got: expected });
        if (expected) valid++;
      }
    }
    expect(valid).toBeGreaterThanOrEqual(ROUNDS);
  });

  it('answers like libsignal for random keys and signatures, and for keys of the edge of the field', () => {
    const keys = [
      ...Array.from({ length: 12 }, () => randomBytes(32)),
      // 0, 1 and p-1 are low-order points, p..2^255-1 are unreduced encodings, the top bit is ignored.
      ...[0n, 1n, FIELD_P - 1n, FIELD_P, FIELD_P + 1n, (1n << 255n) - 1n, 1n << 255n, 9n].map(toLittleEndian),
    ];
    for (const key of keys) {
      const message = randomBytes(16);
      const signature = randomBytes(64);
      expect(strictCurveVerify(key, message, signature)).toBe(reference(key, message, signature));
    }
  });

  it('accepts and refuses the same forgeries against low-order keys', () => {
    // A signature (R, S) with R = S·B verifies against a low-order key whenever h·A is the
    // identity, which happens for a share of messages. Both implementations check the cofactorless
    // equation, so they must agree on each one.
    let accepted = 0;
    for (const u of [0n, 1n, FIELD_P - 1n]) {
      for (let i = 0; i < 16; i++) {
        const seed = randomBytes(32);
        const r = createPublicKey(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }))
          .export({ format: 'der', type: 'spki' })
          .subarray(12);
        const digest = createHash('sha512').update(seed).digest();
        digest[0]! &= 248;
        digest[31]! &= 127;
        digest[31]! |= 64;
        const signature = Buffer.concat([r, toLittleEndian(littleEndian(digest.subarray(0, 32)) % GROUP_ORDER)]);
        signature[63]! |= i % 2 ? 0x80 : 0;
        const message = randomBytes(8);
        const expected = reference(toLittleEndian(u), message, signature);
        expect(strictCurveVerify(toLittleEndian(u), message, signature)).toBe(expected);
        if (expected) accepted++;
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });

  it('refuses a signature whose S is not reduced, which libsignal\'s JavaScript accepts', () => {
    const keys = generateKeyPair();
    const message = randomBytes(32);
    const signature = calculateSignature(keys.privKey, message);
    const sign = signature[63]! & 0x80;
    const s = Buffer.from(signature.subarray(32));
    s[31]! &= 0x7f;
    const malleated = Buffer.concat([signature.subarray(0, 32), toLittleEndian(littleEndian(s) + GROUP_ORDER)]);
    malleated[63]! |= sign;

    expect(reference(keys.pubKey.subarray(1), message, malleated)).toBe(true);
    expect(strictCurveVerify(keys.pubKey.subarray(1), message, malleated)).toBe(false);
    expect(strictCurveVerify(keys.pubKey, message, signature)).toBe(true);
  });

  it('treats malformed input as a failed verification', () => {
    const keys = generateKeyPair();
    const message = randomBytes(32);
    const signature = calculateSignature(keys.privKey, message);
    expect(strictCurveVerify(keys.pubKey, message, signature.subarray(0, 63))).toBe(false);
    expect(strictCurveVerify(keys.pubKey.subarray(0, 31), message, signature)).toBe(false);
    expect(strictCurveVerify(Buffer.concat([Buffer.from([6]), keys.pubKey.subarray(1)]), message, signature)).toBe(false);
    expect(strictCurveVerify(undefined as unknown as Uint8Array, message, signature)).toBe(false);
  });
});

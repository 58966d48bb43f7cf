import { createPublicKey, verify, type KeyObject } from 'node:crypto';

import { type BaileysModule, loadBaileys } from './baileys.loader';

const KEY_BUNDLE_TYPE = 5;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const FIELD_P = (1n << 255n) - 19n;
const LOW_255_BITS = (1n << 255n) - 1n;
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const EDWARDS_KEY_CACHE_SIZE = 256;

/**
 * libsignal 6 returns false for a bad signature instead of throwing, and rc14's `Curve.verify`
 * only maps a throw to false, so it accepts every signature. That lets anyone impersonate the
 * WhatsApp server (noise certificate chain) and forge the account signature at pairing. This
 * verifier answers the signature's validity and treats malformed input as a failed verification.
 *
 * It is libsignal's XEdDSA verification (curve25519-js) done by OpenSSL instead of pure
 * JavaScript: about 30 ms a call there, two calls per connection, which made a runner bringing
 * back a thousand sessions spend half its CPU here. The Montgomery key becomes the Edwards key
 * curve25519-js derives (y = (u - 1) / (u + 1), sign bit from the signature's top bit), then
 * OpenSSL checks an ordinary Ed25519 signature. Same answers on every input the tests try, with
 * one difference: OpenSSL refuses a signature whose S is not below the group order (RFC 8032),
 * which curve25519-js accepts; no signer produces one, it is a malleated copy of a valid one.
 */
export function strictCurveVerify(pubKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(pubKey instanceof Uint8Array) || !(message instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
  if (signature.length !== 64) return false;
  let montgomery: Uint8Array;
  if (pubKey.length === 33 && pubKey[0] === KEY_BUNDLE_TYPE) montgomery = pubKey.subarray(1);
  else if (pubKey.length === 32) montgomery = pubKey;
  else return false;
  const sig = Buffer.from(signature);
  const signBit = sig[63]! & 0x80;
  sig[63]! &= 0x7f;
  try {
    return verify(null, message, edwardsKey(montgomery, signBit), sig);
  } catch {
    return false;
  }
}

const edwardsKeys = new Map<string, KeyObject>();

/** The Ed25519 key of a Curve25519 key; the same few (WhatsApp's root and intermediate) come back on every handshake. */
function edwardsKey(montgomery: Uint8Array, signBit: number): KeyObject {
  const id = `${Buffer.from(montgomery).toString('hex')}${signBit}`;
  let key = edwardsKeys.get(id);
  if (!key) {
    // As curve25519-js reads it: the top bit ignored, u not reduced first (the field math does).
    const u = littleEndian(montgomery) & LOW_255_BITS;
    const y = (((u - 1n + FIELD_P) % FIELD_P) * invert((u + 1n) % FIELD_P)) % FIELD_P;
    const encoded = toLittleEndian(y);
    encoded[31]! |= signBit;
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, encoded]), format: 'der', type: 'spki' });
    if (edwardsKeys.size >= EDWARDS_KEY_CACHE_SIZE) edwardsKeys.delete(edwardsKeys.keys().next().value!);
    edwardsKeys.set(id, key);
  }
  return key;
}

/** a^-1 mod p by the extended Euclidean algorithm; 0 for 0, as curve25519-js's a^(p-2) gives. */
function invert(a: bigint): bigint {
  let [r0, r1, s0, s1] = [FIELD_P, a, 0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return r0 === 1n ? ((s0 % FIELD_P) + FIELD_P) % FIELD_P : 0n;
}

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

function toLittleEndian(value: bigint): Buffer {
  const bytes = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, value >>= 8n) bytes[i] = Number(value & 0xffn);
  return bytes;
}

/**
 * Replaces the exported, mutable `Curve.verify` (used by the noise handshake and pairing) with
 * `strictCurveVerify`. Must run before any socket opens; calling it again is harmless.
 */
export async function installStrictCurveVerify(): Promise<void> {
  const { Curve } = await loadBaileys();
  if (Curve.verify !== strictCurveVerify) Curve.verify = strictCurveVerify;
}

/**
 * rc14 as published accepts a server that replays WhatsApp's public certificate chain with a
 * static key of its own, and ignores the certificates' validity. `patches/` fixes the handshake
 * and exports the check it runs; without it (an install that skipped the patch) no socket may open.
 */
export async function assertNoiseCertificateBinding(): Promise<void> {
  const baileys: Partial<Pick<BaileysModule, 'verifyNoiseServerCertificate'>> = await loadBaileys();
  if (typeof baileys.verifyNoiseServerCertificate !== 'function') {
    throw new Error(
      'the installed @whiskeysockets/baileys lacks the noise certificate patch (patches/@whiskeysockets__baileys@7.0.0-rc14.patch); ' +
        'install with pnpm so patchedDependencies apply',
    );
  }
}

let whatsAppRootKey: Buffer<ArrayBuffer> | undefined;

/**
 * Makes the noise handshake trust `base64Key` as the certificate root instead of WhatsApp's key
 * (how the sandbox or another test server is trusted). `undefined` restores WhatsApp's own key,
 * so a process never keeps trusting a test root by accident.
 */
export async function trustRootPublicKey(base64Key: string | undefined): Promise<void> {
  const { WA_CERT_DETAILS } = await loadBaileys();
  whatsAppRootKey ??= WA_CERT_DETAILS.PUBLIC_KEY;
  WA_CERT_DETAILS.PUBLIC_KEY = base64Key === undefined ? whatsAppRootKey : parseRootPublicKey(base64Key);
}

export function parseRootPublicKey(base64Key: string): Buffer<ArrayBuffer> {
  const trimmed = base64Key.trim();
  const key = BASE64_RE.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  if (!key || key.length !== 32) {
    throw new Error(
      `WA_ROOT_PUBLIC_KEY must be the base64 encoding of a 32-byte Curve25519 public key (got ${key ? `${key.length} bytes` : 'invalid base64'})`,
    );
  }
  return key;
}

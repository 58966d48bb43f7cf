import { verifySignature } from 'libsignal/src/curve.js';

import { type BaileysModule, loadBaileys } from './baileys.loader';

const KEY_BUNDLE_TYPE = 5;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * libsignal 6 returns false for a bad signature instead of throwing, and rc14's `Curve.verify`
 * only maps a throw to false, so it accepts every signature. That lets anyone impersonate the
 * WhatsApp server (noise certificate chain) and forge the account signature at pairing. This
 * verifier returns libsignal's answer and treats malformed input as a failed verification.
 */
export function strictCurveVerify(pubKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    const key = pubKey.length === 33 ? Buffer.from(pubKey) : Buffer.concat([Buffer.from([KEY_BUNDLE_TYPE]), pubKey]);
    return verifySignature(key, Buffer.from(message), Buffer.from(signature)) === true;
  } catch {
    return false;
  }
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

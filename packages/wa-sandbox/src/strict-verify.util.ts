import { createRequire } from 'node:module';
import path from 'node:path';
import type { Baileys } from './baileys.loader';

interface LibsignalCurve {
  verifySignature(pubKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean;
}

let curve: LibsignalCurve | undefined;

/**
 * libsignal is a dependency of Baileys, not of this package, so it is resolved from Baileys'
 * own folder (pnpm does not hoist it).
 */
function libsignalCurve(): LibsignalCurve {
  if (!curve) {
    const baileysPackage = require.resolve('@whiskeysockets/baileys/package.json');
    const fromBaileys = createRequire(path.join(path.dirname(baileysPackage), 'package.json'));
    curve = fromBaileys('libsignal/src/curve.js') as LibsignalCurve;
  }
  return curve;
}

/** XEdDSA verification that returns libsignal's verdict instead of "did not throw". */
export function verifySignatureStrict(
  baileys: Baileys,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return libsignalCurve().verifySignature(baileys.generateSignalPubKey(publicKey), message, signature) === true;
  } catch {
    return false;
  }
}

/**
 * Baileys 7.0.0-rc14's `Curve.verify` treats any signature as valid (libsignal 6 returns false
 * rather than throwing). Replacing it on the exported, mutable `Curve` makes the noise
 * certificate chain and the ADV account signature checks real.
 */
export function installStrictCurveVerify(baileys: Baileys): void {
  baileys.Curve.verify = (publicKey, message, signature) =>
    verifySignatureStrict(baileys, publicKey, message, signature);
}

import type { Baileys, KeyPair } from './baileys.loader';
import { createCertificateChain, type ValidityWindow } from './certificate.chain';
import type { ServerIdentity } from './sandbox.types';

const DAY_SECONDS = 24 * 3600;

/** What the server proves itself with in the noise handshake. */
export interface ServerCredentials {
  noiseStatic: KeyPair;
  certificateChain: Uint8Array;
}

function pastWindow(): ValidityWindow {
  const now = Math.floor(Date.now() / 1000);
  return { notBefore: now - 2 * DAY_SECONDS, notAfter: now - DAY_SECONDS };
}

/**
 * The credentials an impostor of the kind `identity` would present, built from the sandbox's own
 * root and genuine credentials so that only the one property under test is wrong.
 */
export function credentialsFor(baileys: Baileys, root: KeyPair, genuine: ServerCredentials, identity: ServerIdentity): ServerCredentials {
  const { Curve } = baileys;
  const { noiseStatic } = genuine;
  switch (identity) {
    case 'genuine':
      return genuine;
    case 'replayed_chain':
      // The trusted chain, byte for byte, in front of a static key it does not certify.
      return { noiseStatic: Curve.generateKeyPair(), certificateChain: genuine.certificateChain };
    case 'expired_leaf':
      return { noiseStatic, certificateChain: createCertificateChain(baileys, root, noiseStatic, { leafWindow: pastWindow() }) };
    case 'expired_intermediate':
      return { noiseStatic, certificateChain: createCertificateChain(baileys, root, noiseStatic, { intermediateWindow: pastWindow() }) };
    case 'foreign_root':
      return { noiseStatic, certificateChain: createCertificateChain(baileys, Curve.generateKeyPair(), noiseStatic) };
    case 'forged_signature':
      return {
        noiseStatic,
        certificateChain: createCertificateChain(baileys, root, noiseStatic, { leafSigner: Curve.generateKeyPair().private }),
      };
  }
}

import type { Baileys, KeyPair } from './baileys.loader';

/** Serial the client compares with `WA_CERT_DETAILS.SERIAL`; Baileys ships 0, so keep it. */
export const ROOT_SERIAL = 0;
const INTERMEDIATE_SERIAL = 1;
const LEAF_SERIAL = 2;
const CHAIN_VALIDITY_SECONDS = 10 * 365 * 24 * 3600;

/**
 * The chain a real WhatsApp server presents: an intermediate signed by the long-term root and a
 * leaf (our noise static key) signed by the intermediate.
 */
export function createCertificateChain(baileys: Baileys, root: KeyPair, noiseStatic: KeyPair): Uint8Array {
  const { proto, Curve } = baileys;
  const notBefore = Math.floor(Date.now() / 1000) - 60;
  const notAfter = notBefore + CHAIN_VALIDITY_SECONDS;
  const intermediateKey = Curve.generateKeyPair();
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: INTERMEDIATE_SERIAL,
    issuerSerial: ROOT_SERIAL,
    key: intermediateKey.public,
    notBefore,
    notAfter,
  }).finish();
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: LEAF_SERIAL,
    issuerSerial: INTERMEDIATE_SERIAL,
    key: noiseStatic.public,
    notBefore,
    notAfter,
  }).finish();
  return proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Curve.sign(root.private, intermediateDetails) },
    leaf: { details: leafDetails, signature: Curve.sign(intermediateKey.private, leafDetails) },
  }).finish();
}

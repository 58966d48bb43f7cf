import type { Baileys, KeyPair } from './baileys.loader';

/** Serial the client compares with `WA_CERT_DETAILS.SERIAL`; Baileys ships 0, so keep it. */
export const ROOT_SERIAL = 0;
const INTERMEDIATE_SERIAL = 1;
const LEAF_SERIAL = 2;
const CHAIN_VALIDITY_SECONDS = 10 * 365 * 24 * 3600;
/** Backdates notBefore so a client whose clock runs a little behind still accepts the chain. */
const CLOCK_SKEW_SECONDS = 60;

/** A certificate's validity window in Unix seconds, as in `NoiseCertificate.Details`. */
export interface ValidityWindow {
  notBefore: number;
  notAfter: number;
}

export interface ChainOptions {
  intermediateWindow?: ValidityWindow;
  leafWindow?: ValidityWindow;
  /** Signs the leaf with this private key instead of the intermediate's: a forged leaf signature. */
  leafSigner?: Uint8Array;
}

/** A window that holds now and for years to come: what a healthy server presents. */
export function currentWindow(nowSeconds = Math.floor(Date.now() / 1000)): ValidityWindow {
  const notBefore = nowSeconds - CLOCK_SKEW_SECONDS;
  return { notBefore, notAfter: notBefore + CHAIN_VALIDITY_SECONDS };
}

/**
 * The chain a real WhatsApp server presents: an intermediate signed by the long-term root and a
 * leaf (the noise static key) signed by the intermediate, each with a validity window.
 */
export function createCertificateChain(baileys: Baileys, root: KeyPair, noiseStatic: KeyPair, options: ChainOptions = {}): Uint8Array {
  const { proto, Curve } = baileys;
  const intermediateKey = Curve.generateKeyPair();
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: INTERMEDIATE_SERIAL,
    issuerSerial: ROOT_SERIAL,
    key: intermediateKey.public,
    ...(options.intermediateWindow ?? currentWindow()),
  }).finish();
  const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: LEAF_SERIAL,
    issuerSerial: INTERMEDIATE_SERIAL,
    key: noiseStatic.public,
    ...(options.leafWindow ?? currentWindow()),
  }).finish();
  return proto.CertChain.encode({
    intermediate: { details: intermediateDetails, signature: Curve.sign(root.private, intermediateDetails) },
    leaf: { details: leafDetails, signature: Curve.sign(options.leafSigner ?? intermediateKey.private, leafDetails) },
  }).finish();
}

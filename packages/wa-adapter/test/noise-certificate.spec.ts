import { assertNoiseCertificateBinding, installStrictCurveVerify, loadBaileys, refusedCertificateCheck, type BaileysModule } from '../src';

type Window = { notBefore?: number; notAfter?: number };

interface ChainParts {
  intermediateWindow?: Window;
  leafWindow?: Window;
  leafIssuerSerial?: number;
}

const NOW = 1_800_000_000;
const VALID: Window = { notBefore: NOW - 60, notAfter: NOW + 86_400 };

/**
 * The patched rc14 handshake check on its own, for the edges the sandbox's impostors do not reach:
 * windows in the future or missing, a leaf from another issuer, bytes that are no chain at all.
 */
describe('verifyNoiseServerCertificate (patched Baileys)', () => {
  let b: BaileysModule;
  const root = { public: new Uint8Array(), private: new Uint8Array() };
  let savedRoot: Uint8Array;

  beforeAll(async () => {
    b = await loadBaileys();
    await installStrictCurveVerify();
    Object.assign(root, b.Curve.generateKeyPair());
    savedRoot = b.WA_CERT_DETAILS.PUBLIC_KEY;
    b.WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(root.public);
  });

  afterAll(() => {
    b.WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(savedRoot);
  });

  const chainFor = (serverStatic: Uint8Array, parts: ChainParts = {}): Uint8Array => {
    const Details = b.proto.CertChain.NoiseCertificate.Details;
    const intermediateKey = b.Curve.generateKeyPair();
    const intermediate = Details.encode({ serial: 1, issuerSerial: 0, key: intermediateKey.public, ...(parts.intermediateWindow ?? VALID) }).finish();
    const leaf = Details.encode({ serial: 2, issuerSerial: parts.leafIssuerSerial ?? 1, key: serverStatic, ...(parts.leafWindow ?? VALID) }).finish();
    return b.proto.CertChain.encode({
      intermediate: { details: intermediate, signature: b.Curve.sign(root.private, intermediate) },
      leaf: { details: leaf, signature: b.Curve.sign(intermediateKey.private, leaf) },
    }).finish();
  };

  const checkOf = (chain: Uint8Array, serverStatic: Uint8Array): string | undefined => {
    try {
      b.verifyNoiseServerCertificate(chain, serverStatic, NOW);
      return undefined;
    } catch (error) {
      return refusedCertificateCheck(error) ?? `unexpected: ${String(error)}`;
    }
  };

  it('is present in the installed Baileys', async () => {
    await expect(assertNoiseCertificateBinding()).resolves.toBeUndefined();
  });

  it('accepts a chain that certifies the static key within its windows', () => {
    const serverStatic = b.Curve.generateKeyPair().public;
    expect(checkOf(chainFor(serverStatic), serverStatic)).toBeUndefined();
  });

  it.each<[string, ChainParts, string]>([
    ['a leaf that is not valid yet', { leafWindow: { notBefore: NOW + 3_600, notAfter: NOW + 86_400 } }, 'leaf_not_yet_valid'],
    ['an intermediate that is not valid yet', { intermediateWindow: { notBefore: NOW + 3_600, notAfter: NOW + 86_400 } }, 'intermediate_not_yet_valid'],
    ['a leaf without notAfter (whatsmeow reads it as 0)', { leafWindow: { notBefore: NOW - 60 } }, 'leaf_expired'],
    ['a leaf issued by another intermediate', { leafIssuerSerial: 7 }, 'leaf_issuer'],
  ])('refuses %s', (_name, parts, check) => {
    const serverStatic = b.Curve.generateKeyPair().public;
    expect(checkOf(chainFor(serverStatic, parts), serverStatic)).toBe(check);
  });

  it('refuses bytes that are not a certificate chain', () => {
    expect(checkOf(Buffer.from('not a chain at all'), b.Curve.generateKeyPair().public)).toBe('malformed');
  });
});

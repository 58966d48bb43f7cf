import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/*
 * Just enough DER to write the two certificates the sandbox's media server needs (its own CA and
 * a leaf for 127.0.0.1 and localhost), ECDSA P-256 with SHA-256, signed with node:crypto. No
 * dependency: node-forge and friends would be the only reason to pull in thousands of lines.
 */

const length = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), length(value.length), value]);
const seq = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, value: Buffer): Buffer => tlv(0xa0 + n, value);
const bool = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const octets = (value: Buffer): Buffer => tlv(0x04, value);
const bitString = (value: Buffer): Buffer => tlv(0x03, Buffer.concat([Buffer.from([0]), value]));
const utf8 = (value: string): Buffer => tlv(0x0c, Buffer.from(value, 'utf8'));

function integer(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0 && (v[1] as number) < 0x80) v = v.subarray(1);
  return tlv(0x02, (v[0] as number) >= 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [a * 40 + b];
  for (const part of rest) {
    const groups: number[] = [];
    let v = part;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    groups.forEach((g, i) => out.push(i < groups.length - 1 ? g | 0x80 : g));
  }
  return tlv(0x06, Buffer.from(out));
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires.
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const name = (commonName: string): Buffer => seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const extension = (id: string, critical: boolean, value: Buffer): Buffer => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function ipAddress(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

export interface IssuedCertificate {
  certificatePem: string;
  privateKey: KeyObject;
}

interface CertificateRequest {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  isCa: boolean;
  validDays: number;
  hosts?: { dns: string[]; ips: string[] };
}

function certificate(request: CertificateRequest): string {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + request.validDays * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  const spki = request.publicKey.export({ type: 'spki', format: 'der' });
  const extensions = [
    extension('2.5.29.19', true, request.isCa ? seq(bool(true)) : seq()),
    // keyCertSign + cRLSign for the CA; digitalSignature for the TLS leaf.
    extension('2.5.29.15', true, request.isCa ? bitString(Buffer.from([0x06])) : bitString(Buffer.from([0x80]))),
  ];
  if (request.hosts) {
    const names = [
      ...request.hosts.dns.map((dns) => tlv(0x82, Buffer.from(dns))),
      ...request.hosts.ips.map((ip) => tlv(0x87, ipAddress(ip))),
    ];
    extensions.push(extension('2.5.29.17', false, seq(...names)));
    extensions.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))));
  }
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    name(request.issuer),
    seq(time(notBefore), time(notAfter)),
    name(request.subject),
    spki,
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, request.signingKey);
  const der = seq(tbs, ECDSA_SHA256, bitString(signature));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

export interface MediaTlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A fresh CA and a leaf for 127.0.0.1/localhost signed by it; the CA's key is discarded. */
export function createMediaTlsMaterial(): MediaTlsMaterial {
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = `wa-sandbox media CA ${randomBytes(4).toString('hex')}`;
  const caPem = certificate({ subject: caName, issuer: caName, publicKey: ca.publicKey, signingKey: ca.privateKey, isCa: true, validDays: 365 });
  const certPem = certificate({
    subject: 'wa-sandbox media',
    issuer: caName,
    publicKey: leaf.publicKey,
    signingKey: ca.privateKey,
    isCa: false,
    validDays: 365,
    hosts: { dns: ['localhost'], ips: ['127.0.0.1'] },
  });
  return { caPem, certPem, keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

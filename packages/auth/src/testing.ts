// Test helpers for services that accept login JWTs: signing keys, token minting (including
// the classic attacks) and a real JWKS endpoint on loopback. Shipped as `@wa/auth/testing`.
import { createHmac, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: JsonWebKey & { kid: string; use: string; alg: string };
}

export function makeSigningKey(kid: string, alg: 'RS256' | 'ES256'): SigningKey {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg } };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs like an issuer would: RS256 = PKCS#1 v1.5 SHA-256, ES256 = raw r||s (JOSE) over P-256. */
export function mintJwt(key: SigningKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header })}.${b64(payload)}`;
  const signature = sign('sha256', Buffer.from(input), key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

export function mintUnsigned(payload: Record<string, unknown>, kid: string): string {
  return `${b64({ alg: 'none', typ: 'JWT', kid })}.${b64(payload)}.`;
}

/** The classic confusion attack: HS256 with the issuer's public key (PEM) as the shared secret. */
export function mintHs256WithPublicKey(key: SigningKey, payload: Record<string, unknown>): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64(payload)}`;
  const secret = key.publicKey.export({ format: 'pem', type: 'spki' });
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A real JWKS endpoint on 127.0.0.1 that counts its hits and can be switched to failing. */
export class JwksServer {
  hits = 0;
  status = 200;
  keys: SigningKey[] = [];

  private constructor(private readonly server: Server) {}

  static async start(keys: SigningKey[]): Promise<JwksServer> {
    let self: JwksServer | undefined;
    const server = createServer((req, res) => {
      const s = self!;
      s.hits++;
      if (s.status !== 200) {
        res.writeHead(s.status).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: s.keys.map((k) => k.jwk) }));
    });
    self = new JwksServer(server);
    self.keys = keys;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export const ISSUER = 'https://login.example.test';
export const AUDIENCE = 'wa-gateway';

export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', org_id: 'org-1', role: 'admin', iat: now, exp: now + 300, ...overrides };
}

/** A port that was open a moment ago and is closed now: connection refused, quickly. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/jwks.json`;
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '@wa/domain';
import { JwksKeyStore } from '../src/jwks-key.store';
import { JwtAuthenticator } from '../src/jwt.authenticator';
import type { JwtAuthOptions } from '../src/auth.options';
import {
  AUDIENCE,
  ISSUER,
  JwksServer,
  claims,
  closedPortUrl,
  makeSigningKey,
  mintHs256WithPublicKey,
  mintJwt,
  mintUnsigned,
  type SigningKey,
} from '../src/testing';

const rsa = makeSigningKey('rsa-1', 'RS256');
const ec = makeSigningKey('ec-1', 'ES256');

function options(jwksUrl: string, extra: Partial<JwtAuthOptions> = {}): JwtAuthOptions {
  return { jwksUrl, issuer: ISSUER, audience: AUDIENCE, ...extra };
}

/** An authenticator whose JWKS refetch clock the test moves by hand. */
function withClock(jwksUrl: string, extra: Partial<JwtAuthOptions> = {}) {
  const clock = { now: 1_000_000 };
  const store = new JwksKeyStore({ url: jwksUrl, maxAgeMs: 600_000, refetchIntervalMs: 30_000, timeoutMs: 2_000, now: () => clock.now });
  return { clock, auth: new JwtAuthenticator(options(jwksUrl, extra), store) };
}

async function expectUnauthorized(promise: Promise<unknown>, message?: string | RegExp): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(AppError);
  await expect(promise).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
  if (message) await expect(promise).rejects.toThrow(message);
}

describe(JwtAuthenticator.name, () => {
  let jwks: JwksServer;

  beforeEach(async () => {
    jwks = await JwksServer.start([rsa, ec]);
  });

  afterEach(async () => {
    await jwks.close();
  });

  it.each([rsa, ec])('accepts a valid %s token and maps org, subject and role to capabilities', async (key: SigningKey) => {
    const auth = new JwtAuthenticator(options(jwks.url));
    await expect(auth.authenticate(mintJwt(key, claims({ role: 'member' })))).resolves.toEqual({
      kind: 'user',
      orgId: 'org-1',
      subject: 'user-1',
      role: 'member',
      capabilities: ['send'],
    });
  });

  it('maps roles through the default map: owner/admin send+manage, unknown roles nothing', async () => {
    const auth = new JwtAuthenticator(options(jwks.url));
    await expect(auth.authenticate(mintJwt(rsa, claims({ role: 'owner' })))).resolves.toMatchObject({ capabilities: ['send', 'manage'] });
    await expect(auth.authenticate(mintJwt(rsa, claims({ role: 'viewer' })))).resolves.toMatchObject({ capabilities: [] });
    await expect(auth.authenticate(mintJwt(rsa, claims({ role: undefined })))).resolves.toMatchObject({ capabilities: [] });
  });

  it('reads org and role from configured claims and a configured role map', async () => {
    const auth = new JwtAuthenticator(
      options(jwks.url, { orgClaim: 'https://example.test/org', roleClaim: 'tier', roleCapabilities: { operator: ['manage'] } }),
    );
    const token = mintJwt(rsa, claims({ org_id: undefined, 'https://example.test/org': 'org-9', tier: 'operator' }));
    await expect(auth.authenticate(token)).resolves.toMatchObject({ orgId: 'org-9', role: 'operator', capabilities: ['manage'] });
  });

  it('caches the JWKS: many tokens, one fetch', async () => {
    const auth = new JwtAuthenticator(options(jwks.url));
    await Promise.all(Array.from({ length: 10 }, () => auth.authenticate(mintJwt(ec, claims()))));
    await auth.authenticate(mintJwt(rsa, claims()));
    expect(jwks.hits).toBe(1);
  });

  describe('refuses with 401', () => {
    let auth: JwtAuthenticator;
    beforeEach(() => {
      auth = new JwtAuthenticator(options(jwks.url));
    });

    it('alg none', () => expectUnauthorized(auth.authenticate(mintUnsigned(claims(), rsa.kid)), 'algorithm'));

    it('HS256 signed with the public key as the secret', () =>
      expectUnauthorized(auth.authenticate(mintHs256WithPublicKey(rsa, claims())), 'algorithm'));

    it('a token expired 31 s ago (beyond the clock tolerance)', () => {
      const now = Math.floor(Date.now() / 1000);
      return expectUnauthorized(auth.authenticate(mintJwt(rsa, claims({ iat: now - 400, exp: now - 31 }))), 'token expired');
    });

    it('a token whose nbf is in the future', () => {
      const now = Math.floor(Date.now() / 1000);
      return expectUnauthorized(auth.authenticate(mintJwt(rsa, claims({ nbf: now + 60 }))), 'not yet valid');
    });

    it('a token without exp', () => expectUnauthorized(auth.authenticate(mintJwt(rsa, claims({ exp: undefined }))), 'exp'));

    it('a wrong issuer', () => expectUnauthorized(auth.authenticate(mintJwt(rsa, claims({ iss: 'https://evil.test' }))), 'issuer'));

    it('a wrong audience', () => expectUnauthorized(auth.authenticate(mintJwt(rsa, claims({ aud: 'other-app' }))), 'audience'));

    it('an unknown kid', () =>
      expectUnauthorized(auth.authenticate(mintJwt(makeSigningKey('stranger', 'ES256'), claims())), 'does not publish'));

    it('a tampered payload', () => {
      const [header, , signature] = mintJwt(rsa, claims({ role: 'member' })).split('.');
      const forged = Buffer.from(JSON.stringify(claims({ role: 'owner' }))).toString('base64url');
      return expectUnauthorized(auth.authenticate(`${header}.${forged}.${signature}`), 'invalid token');
    });

    it('a token signed by another key under a published kid', () =>
      expectUnauthorized(auth.authenticate(mintJwt({ ...makeSigningKey('x', 'ES256'), kid: ec.kid }, claims())), 'invalid token'));

    it('a token without the org claim', () =>
      expectUnauthorized(auth.authenticate(mintJwt(rsa, claims({ org_id: undefined }))), 'organization claim "org_id"'));

    it('a token without a subject', () => expectUnauthorized(auth.authenticate(mintJwt(rsa, claims({ sub: undefined }))), 'sub'));
  });

  it('accepts a token expired within the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    const auth = new JwtAuthenticator(options(jwks.url, { clockToleranceSec: 5 }));
    await expect(auth.authenticate(mintJwt(rsa, claims({ exp: now - 2 })))).resolves.toMatchObject({ kind: 'user' });
  });

  it('accepts a rotated key once the JWKS publishes it, refetching at most every 30 s', async () => {
    const { clock, auth } = withClock(jwks.url);
    await auth.authenticate(mintJwt(rsa, claims()));
    expect(jwks.hits).toBe(1);

    // A burst of unknown kids right after a fetch costs the issuer nothing.
    for (let i = 0; i < 5; i++) {
      await expectUnauthorized(auth.authenticate(mintJwt(makeSigningKey(`junk-${i}`, 'ES256'), claims())));
    }
    expect(jwks.hits).toBe(1);

    const rotated = makeSigningKey('rsa-2', 'RS256');
    jwks.keys = [rotated, ec];
    clock.now += 10_000;
    await expectUnauthorized(auth.authenticate(mintJwt(rotated, claims())), 'does not publish');
    expect(jwks.hits).toBe(1);

    clock.now += 21_000;
    await expect(auth.authenticate(mintJwt(rotated, claims()))).resolves.toMatchObject({ orgId: 'org-1' });
    expect(jwks.hits).toBe(2);

    // The withdrawn key is gone with the refetch.
    await expectUnauthorized(auth.authenticate(mintJwt(rsa, claims())));
    clock.now += 5_000;
    await expectUnauthorized(auth.authenticate(mintJwt(makeSigningKey('junk-x', 'RS256'), claims())));
    expect(jwks.hits).toBe(2);
  });

  it('shares one fetch between concurrent requests', async () => {
    const auth = new JwtAuthenticator(options(jwks.url));
    await Promise.all([rsa, ec, rsa, ec].map((key) => auth.authenticate(mintJwt(key, claims()))));
    expect(jwks.hits).toBe(1);
  });

  describe('when the JWKS cannot be read', () => {
    it('answers 503 service_unavailable when nothing listens', async () => {
      const auth = new JwtAuthenticator(options(await closedPortUrl()));
      const attempt = auth.authenticate(mintJwt(rsa, claims()));
      await expect(attempt).rejects.toBeInstanceOf(AppError);
      await expect(attempt).rejects.toMatchObject({ code: 'service_unavailable', status: 503 });
    });

    it('answers 503 when the JWKS endpoint fails, and again without refetching within the interval', async () => {
      jwks.status = 500;
      const { clock, auth } = withClock(jwks.url);
      await expect(auth.authenticate(mintJwt(rsa, claims()))).rejects.toMatchObject({ code: 'service_unavailable' });
      await expect(auth.authenticate(mintJwt(rsa, claims()))).rejects.toMatchObject({ code: 'service_unavailable' });
      expect(jwks.hits).toBe(1);

      jwks.status = 200;
      clock.now += 30_000;
      await expect(auth.authenticate(mintJwt(rsa, claims()))).resolves.toMatchObject({ kind: 'user' });
      expect(jwks.hits).toBe(2);
    });

    it('answers 503 when the JWKS endpoint hangs past the timeout', async () => {
      const silent = createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks.json`;
      const store = new JwksKeyStore({ url, maxAgeMs: 600_000, refetchIntervalMs: 30_000, timeoutMs: 200 });
      const auth = new JwtAuthenticator(options(url), store);
      try {
        await expect(auth.authenticate(mintJwt(rsa, claims()))).rejects.toMatchObject({ code: 'service_unavailable' });
      } finally {
        silent.closeAllConnections();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('keeps verifying with cached keys when a refresh fails', async () => {
      const clock = { now: 0 };
      const store = new JwksKeyStore({ url: jwks.url, maxAgeMs: 60_000, refetchIntervalMs: 30_000, timeoutMs: 2_000, now: () => clock.now });
      const auth = new JwtAuthenticator(options(jwks.url), store);
      await auth.authenticate(mintJwt(rsa, claims()));
      jwks.status = 503;
      clock.now += 120_000;
      await expect(auth.authenticate(mintJwt(rsa, claims()))).resolves.toMatchObject({ kind: 'user' });
      expect(jwks.hits).toBe(2);
    });
  });
});

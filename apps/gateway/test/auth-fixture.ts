import { AUDIENCE, claims, ISSUER, JwksServer, makeSigningKey, mintJwt, type SigningKey } from '@wa/auth/testing';

/**
 * A real identity provider for gateway tests: a JWKS served over HTTP and tokens signed with
 * its key. `env` goes into `startGateway`; `token(org, role)` mints a login JWT for a person.
 */
export class TestIdentityProvider {
  private constructor(
    readonly jwks: JwksServer,
    private readonly key: SigningKey,
  ) {}

  static async start(): Promise<TestIdentityProvider> {
    const key = makeSigningKey('test-key-1', 'ES256');
    return new TestIdentityProvider(await JwksServer.start([key]), key);
  }

  get env(): Record<string, string> {
    return { AUTH_JWKS_URL: this.jwks.url, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };
  }

  token(orgId: string, role = 'owner', extra: Record<string, unknown> = {}): string {
    return mintJwt(this.key, claims({ org_id: orgId, role, sub: `user-${orgId}-${role}`, ...extra }));
  }

  /** Authorization headers for a person of `orgId` with `role`. */
  headers(orgId: string, role = 'owner'): Record<string, string> {
    return { authorization: `Bearer ${this.token(orgId, role)}`, 'content-type': 'application/json' };
  }

  close(): Promise<void> {
    return this.jwks.close();
  }
}

import { AppError } from '@wa/domain';
import { API_KEY_PREFIX } from './api-key.crypto';
import type { ApiKeyAuthenticator } from './api-key.authenticator';
import type { JwtAuthenticator } from './jwt.authenticator';
import type { Principal } from './principal';

export type TokenKind = 'api_key' | 'jwt';

// header.payload.signature, each base64url; the signature may be empty (`alg: none`), which
// still routes to the JWT verifier so that it is refused there with a JWT error.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Which verifier a token belongs to, decided by its shape alone. Never "try one, then the
 * other": a JWT refused because the JWKS is down must not be retried as an API key, and an API
 * key must never reach the JWT verifier.
 */
export function tokenKind(token: string): TokenKind | undefined {
  if (token.startsWith(API_KEY_PREFIX)) return 'api_key';
  if (JWT_SHAPE.test(token)) return 'jwt';
  return undefined;
}

/** Turns an `Authorization` header into a principal, or throws 401 (503 when the JWKS is down). */
export class BearerAuthenticator {
  constructor(
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly jwt: JwtAuthenticator | undefined,
  ) {}

  authenticateHeader(authorization: string | undefined): Promise<Principal> {
    if (!authorization) return Promise.reject(new AppError('unauthorized', 'missing "Authorization: Bearer <token>" header'));
    const match = BEARER.exec(authorization);
    if (!match) return Promise.reject(new AppError('unauthorized', 'the Authorization header must be "Bearer <token>"'));
    return this.authenticateToken(match[1]);
  }

  authenticateToken(token: string): Promise<Principal> {
    switch (tokenKind(token)) {
      case 'api_key':
        return this.apiKeys.authenticate(token);
      case 'jwt':
        if (!this.jwt) return Promise.reject(new AppError('unauthorized', 'login tokens (JWT) are not accepted: JWT authentication is not configured'));
        return this.jwt.authenticate(token);
      default:
        return Promise.reject(new AppError('unauthorized', 'the bearer token is neither an API key nor a JWT'));
    }
  }
}

import { Strategy as PassportJwtStrategy } from 'passport-jwt';
import { AppError, DEFAULT_ROLE_CAPABILITIES, capabilitiesForRole, type RoleCapabilityMap } from '@wa/domain';
import {
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_ORG_CLAIM,
  DEFAULT_ROLE_CLAIM,
  type JwtAuthOptions,
} from './auth.options';
import { JwksKeyStore } from './jwks-key.store';
import type { Principal } from './principal';

/** Asymmetric only: a shared-secret algorithm would let anyone holding the public key mint tokens. */
export const JWT_ALGORITHMS = ['RS256', 'ES256'] as const;

interface TokenCarrier {
  readonly token: string;
}

type JwtPayload = Record<string, unknown>;

const unauthorized = (message: string): AppError => new AppError('unauthorized', message);

/**
 * Verifies frontend-minted login JWTs with passport-jwt against the issuer's JWKS.
 *
 * The strategy is driven directly (as passport itself does, through a per-call object whose
 * success/fail/error are ours) rather than through passport's middleware, so that the
 * "issuer unreachable" failure reaches the caller as 503 instead of being folded into 401.
 */
export class JwtAuthenticator {
  private readonly strategy: PassportJwtStrategy;
  private readonly orgClaim: string;
  private readonly roleClaim: string;
  private readonly roleCapabilities: RoleCapabilityMap;

  constructor(
    options: JwtAuthOptions,
    readonly keyStore: JwksKeyStore = new JwksKeyStore({
      url: options.jwksUrl,
      maxAgeMs: options.jwksMaxAgeMs ?? 10 * 60_000,
      refetchIntervalMs: options.jwksRefetchIntervalMs ?? 30_000,
      timeoutMs: options.jwksTimeoutMs ?? 3_000,
    }),
  ) {
    this.orgClaim = options.orgClaim ?? DEFAULT_ORG_CLAIM;
    this.roleClaim = options.roleClaim ?? DEFAULT_ROLE_CLAIM;
    this.roleCapabilities = options.roleCapabilities ?? DEFAULT_ROLE_CAPABILITIES;
    this.strategy = new PassportJwtStrategy(
      {
        jwtFromRequest: (req: TokenCarrier) => req.token,
        secretOrKeyProvider: (_req: TokenCarrier, rawJwt: string, done: (err: unknown, key?: never) => void) => {
          // jsonwebtoken accepts a KeyObject; the typings only list string | Buffer.
          this.keyFor(rawJwt).then((key) => done(null, key as never), (err: unknown) => done(err));
        },
        algorithms: [...JWT_ALGORITHMS],
        issuer: options.issuer,
        audience: options.audience,
        jsonWebTokenOptions: { clockTolerance: options.clockToleranceSec ?? DEFAULT_CLOCK_TOLERANCE_SEC },
      },
      (payload: JwtPayload, done: (err: unknown, user?: Principal) => void) => {
        try {
          done(null, this.toPrincipal(payload));
        } catch (err) {
          done(err);
        }
      },
    );
  }

  authenticate(token: string): Promise<Principal> {
    return new Promise<Principal>((resolve, reject) => {
      const attempt = Object.create(this.strategy) as PassportJwtStrategy & {
        success(user: Principal): void;
        fail(challenge: unknown): void;
        error(err: unknown): void;
      };
      attempt.success = resolve;
      attempt.fail = (challenge) => reject(toAuthError(challenge));
      attempt.error = (err) => reject(toAuthError(err));
      attempt.authenticate({ token } as never);
    });
  }

  private async keyFor(rawJwt: string) {
    const header = decodeHeader(rawJwt);
    if (!header || typeof header.alg !== 'string' || !(JWT_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw unauthorized(`token algorithm must be one of ${JWT_ALGORITHMS.join(', ')}`);
    }
    if (typeof header.kid !== 'string' || header.kid === '') throw unauthorized('token has no key id (kid)');
    const jwk = await this.keyStore.getKey(header.kid);
    if (!jwk) throw unauthorized('token is signed by a key the issuer does not publish');
    if (jwk.alg && jwk.alg !== header.alg) throw unauthorized('token algorithm does not match its key');
    return jwk.key;
  }

  private toPrincipal(payload: JwtPayload): Principal {
    // jsonwebtoken checks `exp` only when present; a login token that never expires is refused.
    if (typeof payload.exp !== 'number') throw unauthorized('token has no expiry (exp)');
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub === '') throw unauthorized('token has no subject (sub)');
    const orgId = payload[this.orgClaim];
    if (typeof orgId !== 'string' || orgId === '') throw unauthorized(`token has no organization claim "${this.orgClaim}"`);
    const rawRole = payload[this.roleClaim];
    const role = typeof rawRole === 'string' && rawRole !== '' ? rawRole : undefined;
    return { kind: 'user', orgId, subject: sub, role, capabilities: capabilitiesForRole(role, this.roleCapabilities) };
  }
}

function decodeHeader(rawJwt: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(rawJwt.slice(0, rawJwt.indexOf('.')), 'base64url').toString('utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** jsonwebtoken's errors become 401s with a message that names the problem but not the expected values. */
function toAuthError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : '';
  if (name === 'TokenExpiredError') return unauthorized('token expired');
  if (name === 'NotBeforeError') return unauthorized('token not yet valid');
  if (message.startsWith('jwt issuer invalid')) return unauthorized('token issuer not accepted');
  if (message.startsWith('jwt audience invalid')) return unauthorized('token audience not accepted');
  return unauthorized('invalid token');
}

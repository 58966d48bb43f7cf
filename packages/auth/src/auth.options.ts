import type { RoleCapabilityMap } from '@wa/domain';

export interface JwtAuthOptions {
  /** The frontend's JWKS (`AUTH_JWKS_URL`). */
  readonly jwksUrl: string;
  /** Expected `iss` (`AUTH_JWT_ISSUER`). */
  readonly issuer: string;
  /** Expected `aud` (`AUTH_JWT_AUDIENCE`); the token may list several, one must match. */
  readonly audience: string;
  /** Claim holding the organization id (`AUTH_ORG_CLAIM`, default `org_id`). */
  readonly orgClaim?: string;
  /** Claim holding the role (`AUTH_ROLE_CLAIM`, default `role`). */
  readonly roleClaim?: string;
  /** Role -> capabilities; default `DEFAULT_ROLE_CAPABILITIES` from `@wa/domain`. */
  readonly roleCapabilities?: RoleCapabilityMap;
  /** Allowed clock skew for `exp`/`nbf`, in seconds (default 5). */
  readonly clockToleranceSec?: number;
  /** How long fetched keys are trusted before a refresh is attempted, in ms (default 10 min). */
  readonly jwksMaxAgeMs?: number;
  /** Minimum gap between two JWKS fetches, in ms (default 30 s): bounds what unknown `kid`s can cost. */
  readonly jwksRefetchIntervalMs?: number;
  /** Timeout of one JWKS fetch, in ms (default 3 s). */
  readonly jwksTimeoutMs?: number;
}

export interface ApiKeyAuthOptions {
  /** How long a looked-up key is reused without asking the store again, in ms (default and maximum 5000). */
  readonly cacheTtlMs?: number;
  /** Upper bound on cached keys (default 10 000); the oldest entry is dropped beyond it. */
  readonly cacheMaxEntries?: number;
}

/** `limit` requests per `windowSec`, refilled continuously (a token bucket of `limit` tokens). */
export interface RateLimit {
  readonly limit: number;
  readonly windowSec: number;
}

export interface RateLimitOptions {
  /** Per API key; off when absent. */
  readonly perApiKey?: RateLimit;
  /** Per organization, over users and keys together; off when absent. */
  readonly perOrg?: RateLimit;
  /** Failed authentications per client address; default 20 per 60 s. `null` turns it off. */
  readonly failedAuthPerAddress?: RateLimit | null;
  /** Upper bound on tracked keys per limiter (default 100 000). */
  readonly maxTrackedKeys?: number;
}

export interface AuthModuleOptions {
  /** Leave out to refuse every JWT with a clear 401 (API keys only). */
  readonly jwt?: JwtAuthOptions;
  readonly apiKeys?: ApiKeyAuthOptions;
  readonly rateLimits?: RateLimitOptions;
}

export const AUTH_MODULE_OPTIONS = Symbol('AUTH_MODULE_OPTIONS');

export const DEFAULT_ORG_CLAIM = 'org_id';
export const DEFAULT_ROLE_CLAIM = 'role';
// Small on purpose: the tests pin that a token expired 31 s ago is refused.
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5;
export const DEFAULT_FAILED_AUTH_LIMIT: RateLimit = { limit: 20, windowSec: 60 };
export const MAX_API_KEY_CACHE_TTL_MS = 5_000;

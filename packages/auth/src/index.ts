export type { Principal } from './principal';
export { hasCapability } from './principal';
export type {
  AuthModuleOptions,
  JwtAuthOptions,
  ApiKeyAuthOptions,
  RateLimit,
  RateLimitOptions,
} from './auth.options';
export {
  AUTH_MODULE_OPTIONS,
  DEFAULT_ORG_CLAIM,
  DEFAULT_ROLE_CLAIM,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  DEFAULT_FAILED_AUTH_LIMIT,
  MAX_API_KEY_CACHE_TTL_MS,
} from './auth.options';
export {
  API_KEY_PREFIX,
  type GeneratedApiKey,
  type ParsedApiKey,
  generateApiKey,
  hashApiKeySecret,
  verifyApiKeySecret,
  parseApiKey,
} from './api-key.crypto';
export { API_KEY_LOOKUP, type ApiKeyLookup, type ApiKeyRecord } from './api-key-lookup.port';
export { ApiKeyAuthenticator } from './api-key.authenticator';
export { JwksKeyStore, type JwksKey, type JwksKeyStoreOptions } from './jwks-key.store';
export { JwtAuthenticator, JWT_ALGORITHMS } from './jwt.authenticator';
export { BearerAuthenticator, tokenKind, type TokenKind } from './bearer.authenticator';
export { TokenBucketLimiter, type RateDecision } from './rate.limiter';
export { SharedTokenBucketLimiter, type SharedRateLimiterOptions } from './shared-rate.limiter';
export { RATE_LIMIT_STORE, type RateLimitStore, type RateLimitTake } from './rate-limit-store.port';
export { AuthRateLimiter, type RateLimitScope } from './auth-rate.limiter';
export {
  type AuthRequirement,
  AUTH_REQUIREMENT,
  RequireCapability,
  RequireAuthenticated,
  Public,
  CurrentPrincipal,
  routeAuthRequirement,
  principalOf,
} from './auth.decorators';
export { SECURITY_SCHEMES, addAuthSecuritySchemes } from './auth.openapi';
export { AuthGuard } from './auth.guard';
export { RequestAuthenticator, type HttpRequestLike } from './request.authenticator';
export { AuthModule, type AuthModuleAsyncOptions, type ApiKeyLookupProvider, type RateLimitStoreProvider } from './auth.module';
export { listRouteAuthRequirements, listPublicRoutes, joinRoutePath, type RouteAuthEntry, type PublicRoute } from './route-audit';

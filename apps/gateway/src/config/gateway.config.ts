import { runnerTransportFromEnv, type RunnerTransport } from '@wa/contracts';
import {
  ConfigError,
  envBool,
  envEnum,
  envInt,
  envOptional,
  envString,
  envUrl,
  parseDatabaseUrl,
  parseRoleCapabilityMap,
  DEFAULT_ROLE_CAPABILITIES,
  type DatabaseTarget,
  type Env,
  type RoleCapabilityMap,
} from '@wa/domain';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RateLimitSetting {
  limit: number;
  windowSec: number;
}

export interface RateLimitsConfig {
  perApiKey?: RateLimitSetting;
  perOrg?: RateLimitSetting;
  failedAuthPerAddress: RateLimitSetting | null;
}

export interface JwtAuthConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
  orgClaim: string;
  roleClaim: string;
  roleCapabilities: RoleCapabilityMap;
}

/**
 * Everything the gateway reads from its environment, validated once at start. Providers inject
 * this class instead of reading process.env, so a typo fails the boot, not a request.
 */
export class GatewayConfig {
  readonly host!: string;
  readonly port!: number;
  readonly database!: DatabaseTarget;
  readonly runner!: RunnerTransport;
  readonly runnerTimeoutMs!: number;
  readonly bodyLimitBytes!: number;
  readonly logLevel!: LogLevel;
  readonly trustProxy!: boolean;
  readonly shutdownGraceMs!: number;
  readonly jwt!: JwtAuthConfig | undefined;
  readonly bootstrapOrg!: string | undefined;
  readonly rateLimits!: RateLimitsConfig;

  constructor(values: GatewayConfig) {
    Object.assign(this, values);
  }
}

function readJwtConfig(env: Env): JwtAuthConfig | undefined {
  const jwksUrl = envOptional(env, 'AUTH_JWKS_URL');
  if (!jwksUrl) return undefined;
  let roleCapabilities = DEFAULT_ROLE_CAPABILITIES;
  const mapText = envOptional(env, 'AUTH_ROLE_CAPABILITIES');
  if (mapText) {
    try {
      roleCapabilities = parseRoleCapabilityMap(mapText);
    } catch (err) {
      throw new ConfigError('AUTH_ROLE_CAPABILITIES', (err as Error).message);
    }
  }
  return {
    jwksUrl: envUrl(env, 'AUTH_JWKS_URL', ['http:', 'https:']),
    issuer: envString(env, 'AUTH_JWT_ISSUER'),
    audience: envString(env, 'AUTH_JWT_AUDIENCE'),
    orgClaim: envString(env, 'AUTH_ORG_CLAIM', 'org_id'),
    roleClaim: envString(env, 'AUTH_ROLE_CLAIM', 'role'),
    roleCapabilities,
  };
}

/** `600/60` = 600 requests per 60 s (a token bucket of 600); `off` disables the limit. */
function envRateLimit(env: Env, name: string, fallback: RateLimitSetting | null): RateLimitSetting | null {
  const raw = envOptional(env, name);
  if (raw === undefined) return fallback;
  if (raw.trim().toLowerCase() === 'off') return null;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new ConfigError(name, `must be <requests>/<seconds> like 600/60, or off (got "${raw}")`);
  return { limit: Number(m[1]), windowSec: Number(m[2]) };
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const databaseUrl = envString(env, 'DATABASE_URL', 'sqlite:./data/gateway.db');
  return new GatewayConfig({
    host: envString(env, 'HOST', '0.0.0.0'),
    port: envInt(env, 'PORT', 3000, 0, 65535),
    database: parseDatabaseUrl('DATABASE_URL', databaseUrl),
    runner: runnerTransportFromEnv(env),
    runnerTimeoutMs: envInt(env, 'RUNNER_TIMEOUT_MS', 5000, 100, 120_000),
    bodyLimitBytes: envInt(env, 'HTTP_BODY_LIMIT_BYTES', 25 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    logLevel: envEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    trustProxy: envBool(env, 'TRUST_PROXY', false),
    shutdownGraceMs: envInt(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    jwt: readJwtConfig(env),
    bootstrapOrg: envOptional(env, 'BOOTSTRAP_ORG'),
    rateLimits: {
      perApiKey: envRateLimit(env, 'RATE_LIMIT_PER_API_KEY', { limit: 6000, windowSec: 60 }) ?? undefined,
      perOrg: envRateLimit(env, 'RATE_LIMIT_PER_ORG', { limit: 12000, windowSec: 60 }) ?? undefined,
      failedAuthPerAddress: envRateLimit(env, 'RATE_LIMIT_FAILED_AUTH', { limit: 20, windowSec: 60 }),
    },
  });
}

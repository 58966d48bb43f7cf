import { gatewayEventsTransportFromEnv, LOG_FORMATS, resolveLogFormat, runnerTransportFromEnv, type GatewayEventsTransport, type RunnerTransport } from '@wa/contracts';
import {
  ConfigError,
  envBool,
  envCidrList,
  envEnum,
  envHost,
  envInt,
  envOptional,
  envString,
  envUrl,
  readDatabaseTarget,
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

/** Webhook delivery: who may be called, how hard we try, how much runs at once. */
export interface WebhooksConfig {
  allowPrivateNetworks: boolean;
  /** CIDRs that are called even though they are private (an internal receiver), when private networks are refused. */
  allowedCidrs: string[];
  timeoutMs: number;
  /** Delay before each attempt; the first is normally 0; its length is the number of attempts before the endpoint is disabled. */
  retryScheduleMs: number[];
  concurrency: number;
  pollIntervalMs: number;
  /** False on replicas that should only serve the API. */
  workerEnabled: boolean;
}

export interface EventsConfig {
  retentionDays: number;
  sseHeartbeatMs: number;
  ssePollIntervalMs: number;
}

/** The outbox: how long sync sends wait, how sessions are paced, how long keys are kept. */
export interface MessagingConfig {
  syncTimeoutMs: number;
  /** Minimum gap between two sends of one session, and the random spread added to it. */
  minIntervalMs: number;
  jitterMs: number;
  idempotencyTtlMs: number;
  mediaMaxBytes: number;
  /** Whether media URLs may point at loopback, private and other reserved addresses (`MEDIA_ALLOW_PRIVATE_NETWORKS`, as in the runner). */
  mediaAllowPrivateNetworks: boolean;
  /** Private ranges media URLs may reach all the same (`MEDIA_ALLOWED_CIDRS`, as in the runner). */
  mediaAllowedCidrs: string[];
  /** How often the dispatcher looks for entries that other replicas accepted or that are due for a retry. */
  pollIntervalMs: number;
  /**
   * How long a finished entry is kept (`GET .../outbox/{id}` answers it, an idempotent retry
   * replays it); never shorter than the idempotency keys that point at it.
   */
  retentionMs: number;
  /** How long a claimed entry belongs to one dispatcher before another may take it over. */
  claimTtlMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Entries that could not be handed over for this long are failed with reason `expired`. */
  maxAgeMs: number;
  /** False on replicas that should only accept entries. */
  dispatcherEnabled: boolean;
}

/** The HTTP edge: what one request may cost the gateway before it is refused or cut off. */
export interface HttpEdgeConfig {
  /** Time a client has to send the complete request head (slow headers are cut off with 408). */
  headersTimeoutMs: number;
  /** Time a client has to send the complete request, body included (a trickled body is cut off with 408). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutMs: number;
  /** Upper bound on the request line and headers together (431 beyond it). */
  maxHeaderBytes: number;
  /** Upper bound on one path parameter (414 beyond it). */
  maxParamLength: number;
  /** Deepest nesting of arrays and objects a JSON body may have (400 beyond it, found before parsing). */
  maxJsonDepth: number;
}

export interface JwtAuthConfig {
  jwksUrl: string;
  issuer: string;
  audience: string;
  orgClaim: string;
  roleClaim: string;
  roleCapabilities: RoleCapabilityMap;
  /** Minimum gap between JWKS fetches caused by unknown `kid`s: what a flood of random kids can cost the issuer. */
  jwksRefetchIntervalMs: number;
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
  /** Where this gateway listens for runner events (NATS: the runner servers; TCP: GATEWAY_EVENTS_URL). */
  readonly gatewayEvents!: GatewayEventsTransport;
  readonly runnerTimeoutMs!: number;
  readonly bodyLimitBytes!: number;
  readonly http!: HttpEdgeConfig;
  readonly logLevel!: LogLevel;
  /** `LOG_FORMAT`, with `auto` resolved against whether stdout is a terminal. */
  readonly logFormat!: 'json' | 'pretty';
  readonly trustProxy!: boolean;
  readonly shutdownGraceMs!: number;
  readonly jwt!: JwtAuthConfig | undefined;
  readonly bootstrapOrg!: string | undefined;
  readonly rateLimits!: RateLimitsConfig;
  readonly webhooks!: WebhooksConfig;
  readonly events!: EventsConfig;
  readonly messaging!: MessagingConfig;
  /** `METRICS_TOKEN`: the bearer token `/metrics` asks for; unset, `/metrics` does not exist. */
  readonly metricsToken!: string | undefined;

  constructor(values: GatewayConfig) {
    Object.assign(this, values);
  }
}

/** A JWT claim name; one with surrounding spaces is a typo that would make every token look claimless. */
function readClaimName(env: Env, name: string, fallback: string): string {
  const claim = envString(env, name, fallback);
  if (claim.trim() !== claim || claim.length > 200) throw new ConfigError(name, `must be a claim name without surrounding spaces (got "${claim}")`);
  return claim;
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
    orgClaim: readClaimName(env, 'AUTH_ORG_CLAIM', 'org_id'),
    roleClaim: readClaimName(env, 'AUTH_ROLE_CLAIM', 'role'),
    roleCapabilities,
    jwksRefetchIntervalMs: envInt(env, 'AUTH_JWKS_REFETCH_INTERVAL_MS', 30_000, 1000, 3_600_000),
  };
}

/** `600/60` = 600 requests per 60 s (a token bucket of 600); `off` disables the limit. */
function envRateLimit(env: Env, name: string, fallback: RateLimitSetting | null): RateLimitSetting | null {
  const raw = envOptional(env, name);
  if (raw === undefined) return fallback;
  if (raw.trim().toLowerCase() === 'off') return null;
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(raw);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new ConfigError(name, `must be <requests>/<seconds> like 600/60, or off (got "${raw}")`);
  return { limit: Number(m[1]), windowSec: Number(m[2]) };
}

const DEFAULT_RETRY_SCHEDULE_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

function envMsList(env: Env, name: string, fallback: number[]): number[] {
  const raw = envOptional(env, name);
  if (raw === undefined) return fallback;
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.length > 50 || parts.some((p) => !/^\d{1,10}$/.test(p))) {
    throw new ConfigError(name, `must be a comma-separated list of 1-50 millisecond delays like 0,5000,300000 (got "${raw}")`);
  }
  return parts.map(Number);
}

function readHttpEdgeConfig(env: Env): HttpEdgeConfig {
  const headersTimeoutMs = envInt(env, 'HTTP_HEADERS_TIMEOUT_MS', 15_000, 500, 300_000);
  const requestTimeoutMs = envInt(env, 'HTTP_REQUEST_TIMEOUT_MS', 120_000, 500, 3_600_000);
  // Node refuses to start a server whose head timeout outlasts its whole-request timeout.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${headersTimeoutMs} > ${requestTimeoutMs})`);
  }
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: envInt(env, 'HTTP_KEEPALIVE_TIMEOUT_MS', 5_000, 0, 600_000),
    maxHeaderBytes: envInt(env, 'HTTP_MAX_HEADER_BYTES', 16 * 1024, 1024, 256 * 1024),
    maxParamLength: envInt(env, 'HTTP_MAX_PARAM_LENGTH', 100, 16, 4096),
    maxJsonDepth: envInt(env, 'HTTP_MAX_JSON_DEPTH', 64, 1, 1000),
  };
}

/**
 * The shutdown grace must outlast the longest wait a request can have (a sync send), or a
 * client is cut off while its message is still delivered. Unset, it is that wait plus 5 s.
 */
function readShutdownGraceMs(env: Env, syncTimeoutMs: number): number {
  const graceMs = envInt(env, 'SHUTDOWN_GRACE_MS', syncTimeoutMs + 5_000, 0, 600_000);
  if (graceMs <= syncTimeoutMs) {
    throw new ConfigError('SHUTDOWN_GRACE_MS', `must be longer than SEND_SYNC_TIMEOUT_MS (${graceMs} <= ${syncTimeoutMs}), or a sync send is cut off at shutdown`);
  }
  return graceMs;
}

/** Becomes the org id of the bootstrap key, a column of at most 128 characters. */
function readBootstrapOrg(env: Env): string | undefined {
  const org = envOptional(env, 'BOOTSTRAP_ORG');
  if (org !== undefined && (org.length > 128 || org.trim() !== org)) {
    throw new ConfigError('BOOTSTRAP_ORG', 'must be an organization id of at most 128 characters without surrounding spaces');
  }
  return org;
}

/**
 * Metrics name every route, session count and queue depth, so they are only served to a
 * scraper holding a long random token; a short or padded one is refused rather than guessed.
 */
function readMetricsToken(env: Env): string | undefined {
  const token = envOptional(env, 'METRICS_TOKEN');
  if (token !== undefined && !/^[\x21-\x7e]{32,512}$/.test(token)) {
    throw new ConfigError('METRICS_TOKEN', 'must be 32-512 printable characters without spaces (e.g. `openssl rand -hex 32`)');
  }
  return token;
}

/** Finished outbox entries are kept at least as long as the idempotency keys that name them. */
function readOutboxRetention(env: Env): number {
  const keysHours = envInt(env, 'IDEMPOTENCY_TTL_HOURS', 24, 24, 24 * 365);
  const hours = envInt(env, 'OUTBOX_RETENTION_HOURS', Math.max(168, keysHours), 1, 24 * 3650);
  if (hours < keysHours) {
    throw new ConfigError('OUTBOX_RETENTION_HOURS', `must be at least IDEMPOTENCY_TTL_HOURS (${hours} < ${keysHours}): a retried request must find the entry its key names`);
  }
  return hours * 3_600_000;
}

/** The outbox's retry backoff: a base above its cap would make every delay the cap, which is surely a typo. */
function readRetryBounds(env: Env): { retryBaseMs: number; retryMaxMs: number } {
  const retryBaseMs = envInt(env, 'OUTBOX_RETRY_BASE_MS', 1000, 10, 600_000);
  const retryMaxMs = envInt(env, 'OUTBOX_RETRY_MAX_MS', 30_000, 10, 3_600_000);
  if (retryBaseMs > retryMaxMs) throw new ConfigError('OUTBOX_RETRY_BASE_MS', `must not exceed OUTBOX_RETRY_MAX_MS (${retryBaseMs} > ${retryMaxMs})`);
  return { retryBaseMs, retryMaxMs };
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const runner = runnerTransportFromEnv(env);
  const syncTimeoutMs = envInt(env, 'SEND_SYNC_TIMEOUT_MS', 15_000, 100, 120_000);
  return new GatewayConfig({
    host: envHost(env, 'HOST', '0.0.0.0'),
    port: envInt(env, 'PORT', 3000, 0, 65535),
    database: readDatabaseTarget(env, 'sqlite:./data/gateway.db'),
    runner,
    gatewayEvents: gatewayEventsTransportFromEnv(env, runner),
    runnerTimeoutMs: envInt(env, 'RUNNER_TIMEOUT_MS', 5000, 100, 120_000),
    bodyLimitBytes: envInt(env, 'HTTP_BODY_LIMIT_BYTES', 25 * 1024 * 1024, 1024, 512 * 1024 * 1024),
    http: readHttpEdgeConfig(env),
    logLevel: envEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: resolveLogFormat(envEnum(env, 'LOG_FORMAT', LOG_FORMATS, 'auto')),
    trustProxy: envBool(env, 'TRUST_PROXY', false),
    shutdownGraceMs: readShutdownGraceMs(env, syncTimeoutMs),
    jwt: readJwtConfig(env),
    bootstrapOrg: readBootstrapOrg(env),
    rateLimits: {
      perApiKey: envRateLimit(env, 'RATE_LIMIT_PER_API_KEY', { limit: 6000, windowSec: 60 }) ?? undefined,
      perOrg: envRateLimit(env, 'RATE_LIMIT_PER_ORG', { limit: 12000, windowSec: 60 }) ?? undefined,
      failedAuthPerAddress: envRateLimit(env, 'RATE_LIMIT_FAILED_AUTH', { limit: 20, windowSec: 60 }),
    },
    webhooks: {
      allowPrivateNetworks: envBool(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
      allowedCidrs: envCidrList(env, 'WEBHOOK_ALLOWED_CIDRS'),
      timeoutMs: envInt(env, 'WEBHOOK_TIMEOUT_MS', 15_000, 100, 120_000),
      retryScheduleMs: envMsList(env, 'WEBHOOK_RETRY_SCHEDULE_MS', DEFAULT_RETRY_SCHEDULE_MS),
      concurrency: envInt(env, 'WEBHOOK_CONCURRENCY', 128, 1, 10_000),
      pollIntervalMs: envInt(env, 'WEBHOOK_POLL_INTERVAL_MS', 500, 10, 60_000),
      workerEnabled: envBool(env, 'WEBHOOK_WORKER', true),
    },
    events: {
      retentionDays: envInt(env, 'EVENT_RETENTION_DAYS', 7, 1, 3650),
      sseHeartbeatMs: envInt(env, 'EVENTS_SSE_HEARTBEAT_MS', 15_000, 100, 300_000),
      ssePollIntervalMs: envInt(env, 'EVENTS_SSE_POLL_INTERVAL_MS', 1000, 10, 60_000),
    },
    messaging: {
      syncTimeoutMs,
      minIntervalMs: envInt(env, 'SEND_MIN_INTERVAL_MS', 1000, 0, 600_000),
      jitterMs: envInt(env, 'SEND_JITTER_MS', 500, 0, 600_000),
      idempotencyTtlMs: envInt(env, 'IDEMPOTENCY_TTL_HOURS', 24, 24, 24 * 365) * 3_600_000,
      mediaMaxBytes: envInt(env, 'MEDIA_MAX_BYTES', 16 * 1024 * 1024, 1024, 512 * 1024 * 1024),
      mediaAllowPrivateNetworks: envBool(env, 'MEDIA_ALLOW_PRIVATE_NETWORKS', false),
      mediaAllowedCidrs: envCidrList(env, 'MEDIA_ALLOWED_CIDRS'),
      pollIntervalMs: envInt(env, 'OUTBOX_POLL_INTERVAL_MS', 500, 10, 60_000),
      claimTtlMs: envInt(env, 'OUTBOX_CLAIM_TTL_MS', 15_000, 1000, 3_600_000),
      ...readRetryBounds(env),
      maxAgeMs: envInt(env, 'OUTBOX_MAX_AGE_HOURS', 24, 1, 24 * 30) * 3_600_000,
      retentionMs: readOutboxRetention(env),
      dispatcherEnabled: envBool(env, 'OUTBOX_DISPATCHER', true),
    },
    metricsToken: readMetricsToken(env),
  });
}

import { ConfigError } from '@wa/domain';
import { loadGatewayConfig } from './gateway.config';

/** Valid apart from the variable under test, so every failure below is that variable's. */
const BASE = { DATABASE_URL: 'sqlite::memory:' };
const JWT = { AUTH_JWKS_URL: 'https://login.example.test/.well-known/jwks.json', AUTH_JWT_ISSUER: 'https://login.example.test', AUTH_JWT_AUDIENCE: 'wa-gateway' };

/**
 * At least one malformed value of every variable the gateway reads (its own, the transport's,
 * the database's and the JWT login's); each must stop start-up with a ConfigError naming the
 * variable, never a crash later on.
 */
const MALFORMED: [variable: string, value: string, extra?: Record<string, string>][] = [
  ['HOST', 'not a host'],
  ['HOST', 'exa_mple.test'],
  ['PORT', '70000'],
  ['PORT', 'http'],
  ['DATABASE_URL', 'mysql://u@db/wa'],
  ['DATABASE_URL', 'postgres://'],
  ['DATABASE_POOL_SIZE', '0', { DATABASE_URL: 'postgres://u@db/wa' }],
  ['DATABASE_POOL_SIZE', 'many', { DATABASE_URL: 'postgres://u@db/wa' }],
  ['DATABASE_POOL_SIZE', '1001'],
  ['TRANSPORT', 'grpc'],
  ['RUNNER_URL', 'tcp://127.0.0.1'],
  ['RUNNER_URL', 'tcp://127.0.0.1:0'],
  ['NATS_URL', 'nats://127.0.0.1:99999', { TRANSPORT: 'nats' }],
  ['NATS_URL', ',', { TRANSPORT: 'nats' }],
  ['NATS_SUBJECT_PREFIX', 'wa.', { TRANSPORT: 'nats' }],
  ['GATEWAY_EVENTS_URL', 'http://127.0.0.1:4011'],
  ['RUNNER_TIMEOUT_MS', '99'],
  ['HTTP_BODY_LIMIT_BYTES', '25MB'],
  ['HTTP_HEADERS_TIMEOUT_MS', '100'],
  ['HTTP_HEADERS_TIMEOUT_MS', '60000', { HTTP_REQUEST_TIMEOUT_MS: '30000' }],
  ['OUTBOX_RETENTION_HOURS', 'a week'],
  ['OUTBOX_RETENTION_HOURS', '24', { IDEMPOTENCY_TTL_HOURS: '48' }],
  ['HTTP_REQUEST_TIMEOUT_MS', '3600001'],
  ['HTTP_KEEPALIVE_TIMEOUT_MS', '-5'],
  ['HTTP_MAX_HEADER_BYTES', '512'],
  ['HTTP_MAX_PARAM_LENGTH', '8'],
  ['HTTP_MAX_JSON_DEPTH', '0'],
  ['LOG_LEVEL', 'loud'],
  ['LOG_FORMAT', 'xml'],
  ['TRUST_PROXY', 'sometimes'],
  ['SHUTDOWN_GRACE_MS', 'soon'],
  ['SHUTDOWN_GRACE_MS', '1000', { SEND_SYNC_TIMEOUT_MS: '15000' }],
  ['AUTH_JWKS_URL', 'ftp://login.example.test/jwks', { AUTH_JWT_ISSUER: JWT.AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE: JWT.AUTH_JWT_AUDIENCE }],
  ['AUTH_JWT_ISSUER', '', { AUTH_JWKS_URL: JWT.AUTH_JWKS_URL, AUTH_JWT_AUDIENCE: JWT.AUTH_JWT_AUDIENCE }],
  ['AUTH_JWT_AUDIENCE', '', { AUTH_JWKS_URL: JWT.AUTH_JWKS_URL, AUTH_JWT_ISSUER: JWT.AUTH_JWT_ISSUER }],
  ['AUTH_ORG_CLAIM', ' org_id', JWT],
  ['AUTH_ROLE_CLAIM', 'role ', JWT],
  ['AUTH_ROLE_CAPABILITIES', 'owner=send+fly', JWT],
  ['AUTH_ROLE_CAPABILITIES', '=send', JWT],
  ['AUTH_JWKS_REFETCH_INTERVAL_MS', '10', JWT],
  ['BOOTSTRAP_ORG', 'o'.repeat(129)],
  ['BOOTSTRAP_ORG', ' acme'],
  ['RATE_LIMIT_PER_API_KEY', '600 per minute'],
  ['RATE_LIMIT_PER_ORG', '0/60'],
  ['RATE_LIMIT_FAILED_AUTH', '99999999999999999999/60'],
  ['WEBHOOK_ALLOW_PRIVATE_NETWORKS', 'perhaps'],
  ['WEBHOOK_ALLOWED_CIDRS', '10.0.0.0/99'],
  ['WEBHOOK_TIMEOUT_MS', '120001'],
  ['WEBHOOK_RETRY_SCHEDULE_MS', '0,5s'],
  ['WEBHOOK_RETRY_SCHEDULE_MS', '0,,100'],
  ['WEBHOOK_CONCURRENCY', '0'],
  ['WEBHOOK_POLL_INTERVAL_MS', '5'],
  ['WEBHOOK_WORKER', 'enabled'],
  ['EVENT_RETENTION_DAYS', '0'],
  ['EVENTS_SSE_HEARTBEAT_MS', '99'],
  ['EVENTS_SSE_POLL_INTERVAL_MS', '60001'],
  ['SEND_SYNC_TIMEOUT_MS', '120001'],
  ['SEND_MIN_INTERVAL_MS', '-1'],
  ['SEND_JITTER_MS', '1.5'],
  ['IDEMPOTENCY_TTL_HOURS', '23'],
  ['MEDIA_MAX_BYTES', '16MiB'],
  ['MEDIA_ALLOW_PRIVATE_NETWORKS', 'maybe'],
  ['MEDIA_ALLOWED_CIDRS', '10.0.0.0/99'],
  ['MEDIA_ALLOWED_CIDRS', '127.0.0.1,localhost'],
  ['OUTBOX_POLL_INTERVAL_MS', '9'],
  ['OUTBOX_CLAIM_TTL_MS', '999'],
  ['OUTBOX_RETRY_BASE_MS', '0'],
  ['OUTBOX_RETRY_MAX_MS', '3600001'],
  ['OUTBOX_RETRY_BASE_MS', '60000', { OUTBOX_RETRY_MAX_MS: '30000' }],
  ['OUTBOX_MAX_AGE_HOURS', '721'],
  ['OUTBOX_DISPATCHER', 'y'],
  ['METRICS_TOKEN', 'short-token'],
  ['METRICS_TOKEN', `${'x'.repeat(32)} `],
  ['METRICS_TOKEN', `scrape me ${'x'.repeat(32)}`],
];

function failure(env: Record<string, string>): unknown {
  try {
    loadGatewayConfig(env);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe(loadGatewayConfig.name, () => {
  // `extra` has a default: a third declared parameter would make Jest wait for a `done` callback.
  it.each(MALFORMED)('refuses %s=%j with a ConfigError naming the variable', (variable, value, extra = {}) => {
    const err = failure({ ...BASE, ...extra, [variable]: value });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as ConfigError).message).toMatch(new RegExp(`^${variable} [^\\n]+$`));
  });

  it('keeps finished outbox entries a week by default, and never less than the idempotency keys', () => {
    expect(loadGatewayConfig(BASE).messaging.retentionMs).toBe(168 * 3_600_000);
    expect(loadGatewayConfig({ ...BASE, IDEMPOTENCY_TTL_HOURS: '720' }).messaging.retentionMs).toBe(720 * 3_600_000);
    expect(loadGatewayConfig({ ...BASE, OUTBOX_RETENTION_HOURS: '24' }).messaging.retentionMs).toBe(24 * 3_600_000);
  });

  it("sizes a PostgreSQL database's pool from DATABASE_POOL_SIZE (10 by default); SQLite has one connection", () => {
    const pg = { DATABASE_URL: 'postgres://u@db:5432/wa' };
    expect(loadGatewayConfig(pg).database).toEqual({ kind: 'postgres', url: 'postgres://u@db:5432/wa', schema: undefined, poolSize: 10 });
    expect(loadGatewayConfig({ ...pg, DATABASE_POOL_SIZE: '25' }).database).toMatchObject({ poolSize: 25 });
    expect(loadGatewayConfig({ ...BASE, DATABASE_POOL_SIZE: '25' }).database).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('reads the media address rules from the media settings, apart from the webhook ones', () => {
    const config = loadGatewayConfig({
      ...BASE,
      HOST: '::1',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_ALLOWED_CIDRS: '10.9.0.0/16',
      MEDIA_ALLOWED_CIDRS: '10.1.0.0/16, fd00::/8',
    });
    expect(config.host).toBe('::1');
    expect(config.messaging).toMatchObject({ mediaAllowPrivateNetworks: false, mediaAllowedCidrs: ['10.1.0.0/16', 'fd00::/8'] });
    expect(config.webhooks).toMatchObject({ allowPrivateNetworks: true, allowedCidrs: ['10.9.0.0/16'] });
  });
});

import { ConfigError } from '@wa/domain';
import { loadRunnerConfig } from './runner.config';

/** Valid apart from the variable under test, so every failure below is that variable's. */
const BASE = { DATABASE_URL: 'sqlite::memory:' };

/**
 * At least one malformed value of every variable the runner reads (its own, the transport's and
 * the database's); each must stop start-up with a ConfigError naming the variable, never a crash
 * later on (BlockList's RangeError, a NATS client that cannot parse its server, ...).
 */
const MALFORMED: [variable: string, value: string, extra?: Record<string, string>][] = [
  ['RUNNER_ID', 'runner one'],
  ['RUNNER_ID', 'r'.repeat(101)],
  ['DATABASE_URL', 'mysql://u@db/wa'],
  ['DATABASE_URL', 'sqlite:'],
  ['DATABASE_URL', 'postgres://'],
  ['DATABASE_POOL_SIZE', '0', { DATABASE_URL: 'postgres://u@db/wa' }],
  ['DATABASE_POOL_SIZE', 'many', { DATABASE_URL: 'postgres://u@db/wa' }],
  ['DATABASE_POOL_SIZE', '1001'],
  ['DATABASE_URL', 'postgres://u@db/wa?schema=x";drop'],
  ['TRANSPORT', 'amqp'],
  ['RUNNER_URL', 'http://127.0.0.1:4010'],
  ['RUNNER_URL', 'tcp://127.0.0.1'],
  ['RUNNER_URL', 'tcp://127.0.0.1:0'],
  ['RUNNER_URL', 'tcp://127.0.0.1:70000'],
  ['RUNNER_URL', 'not a url'],
  ['NATS_URL', 'http://127.0.0.1:4222', { TRANSPORT: 'nats' }],
  ['NATS_URL', 'nats://127.0.0.1:99999', { TRANSPORT: 'nats' }],
  ['NATS_URL', 'nats://:::', { TRANSPORT: 'nats' }],
  ['NATS_URL', ' , ', { TRANSPORT: 'nats' }],
  ['NATS_SUBJECT_PREFIX', 'two words', { TRANSPORT: 'nats' }],
  ['NATS_SUBJECT_PREFIX', 'a..b', { TRANSPORT: 'nats' }],
  ['GATEWAY_EVENTS_URL', 'tcp://127.0.0.1'],
  ['GATEWAY_EVENTS_URL', 'udp://127.0.0.1:4011'],
  ['LOG_LEVEL', 'verbose'],
  ['LOG_FORMAT', 'text'],
  ['LEASE_TTL_MS', '1000'],
  ['LEASE_TTL_MS', '30s'],
  ['RECONNECT_CONCURRENCY', '0'],
  ['RECONNECT_CONCURRENCY', 'all'],
  ['RECONNECT_JITTER_MS', '-1'],
  ['RECONNECT_JITTER_MS', '60001'],
  ['WA_WS_URL', 'http://127.0.0.1:7780/ws/chat'],
  ['WA_WS_URL', 'ws://'],
  ['WA_ROOT_PUBLIC_KEY', Buffer.alloc(31, 7).toString('base64')],
  ['WA_ROOT_PUBLIC_KEY', Buffer.alloc(33, 7).toString('base64')],
  ['WA_ROOT_PUBLIC_KEY', 'not base64!'],
  ['WA_VERSION', '2.3000'],
  ['WA_VERSION', '2..3'],
  ['WA_VERSION', '2.3000.1e3'],
  ['WA_SYNC_HISTORY', 'maybe'],
  ['WA_MAX_RECONNECTS', '0'],
  ['WA_MAX_RECONNECTS', '1.5'],
  ['WA_RECONNECT_BASE_MS', '5'],
  ['WA_RECONNECT_BASE_MS', '120000', { WA_RECONNECT_MAX_MS: '60000' }],
  ['WA_RECONNECT_MAX_MS', '99999999999999999999'],
  ['WA_QUERY_TIMEOUT_MS', '-1'],
  ['QR_MAX_REFRESHES', '-1'],
  ['QR_MAX_REFRESHES', '101'],
  ['QR_MAX_REFRESHES', 'five'],
  ['WA_QR_TIMEOUT_MS', '999'],
  ['WA_QR_TIMEOUT_MS', '20s'],
  ['SEND_ACK_WAIT_MS', '60001'],
  ['SEND_RESEND_PROOF_MS', '-5'],
  ['MEDIA_MAX_BYTES', '1k'],
  ['MEDIA_FETCH_TIMEOUT_MS', '999'],
  ['METRICS_PORT', '0'],
  ['METRICS_PORT', '65536'],
  ['METRICS_PORT', 'http'],
  ['METRICS_HOST', 'not a host'],
  ['MEDIA_ALLOW_PRIVATE_NETWORKS', 'sometimes'],
  ['MEDIA_ALLOWED_CIDRS', '10.0.0.0/99'],
  ['MEDIA_ALLOWED_CIDRS', '10.0.0.0/8,fd00::/129'],
  ['MEDIA_ALLOWED_CIDRS', '10.0.0.0/'],
  ['MEDIA_ALLOWED_CIDRS', '10.0.0/8'],
  ['MEDIA_ALLOWED_CIDRS', 'intranet.example'],
  ['MEDIA_ALLOWED_CIDRS', '10.0.0.0/8/8'],
];

function failure(env: Record<string, string>): unknown {
  try {
    loadRunnerConfig(env);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe(loadRunnerConfig.name, () => {
  // `extra` has a default: a third declared parameter would make Jest wait for a `done` callback.
  it.each(MALFORMED)('refuses %s=%j with a ConfigError naming the variable', (variable, value, extra = {}) => {
    const err = failure({ ...BASE, ...extra, [variable]: value });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
    expect((err as ConfigError).message).toMatch(new RegExp(`^${variable} [^\n]+$`));
  });

  it('accepts well-formed values of the same variables', () => {
    const config = loadRunnerConfig({
      ...BASE,
      RUNNER_ID: 'runner_1',
      WA_WS_URL: 'ws://127.0.0.1:7780/ws/chat',
      WA_ROOT_PUBLIC_KEY: Buffer.alloc(32, 7).toString('base64'),
      WA_VERSION: '2.3000.1043857760',
      WA_RECONNECT_BASE_MS: '50',
      WA_RECONNECT_MAX_MS: '500',
      QR_MAX_REFRESHES: '0',
      WA_QR_TIMEOUT_MS: '1000',
      MEDIA_ALLOWED_CIDRS: '10.0.0.0/8, 192.168.1.5 ,fd00::/8,::1',
    });
    expect(config.whatsapp).toMatchObject({ version: [2, 3000, 1043857760], backoffBaseMs: 50, backoffMaxMs: 500, qrMaxRefreshes: 0, qrTimeoutMs: 1000 });
    expect(loadRunnerConfig(BASE).whatsapp).toMatchObject({ qrMaxRefreshes: 5, qrTimeoutMs: undefined });
    expect(config.messaging.media.allowedCidrs).toEqual(['10.0.0.0/8', '192.168.1.5', 'fd00::/8', '::1']);
  });

  it("sizes a PostgreSQL database's pool from DATABASE_POOL_SIZE (10 by default); SQLite has one connection", () => {
    const pg = { DATABASE_URL: 'postgres://u@db:5432/wa?schema=runner' };
    expect(loadRunnerConfig(pg).database).toEqual({ kind: 'postgres', url: 'postgres://u@db:5432/wa', schema: 'runner', poolSize: 10 });
    expect(loadRunnerConfig({ ...pg, DATABASE_POOL_SIZE: '40' }).database).toMatchObject({ poolSize: 40 });
    expect(loadRunnerConfig({ ...BASE, DATABASE_POOL_SIZE: '40' }).database).toEqual({ kind: 'sqlite', path: ':memory:' });
  });
});

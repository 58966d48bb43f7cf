import { gatewayEventsTransportFromEnv, LOG_FORMATS, resolveLogFormat, runnerTransportFromEnv, type GatewayEventsTransport, type RunnerTransport } from '@wa/contracts/runtime';
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
  newId,
  readDatabaseTarget,
  type DatabaseTarget,
  type Env,
} from '@wa/domain';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface WhatsAppConfig {
  /** `WA_WS_URL`: another WhatsApp web socket (the sandbox); unset = WhatsApp's own. */
  wsUrl?: string;
  /** `WA_ROOT_PUBLIC_KEY`: base64 Curve25519 key trusted as noise certificate root instead of WhatsApp's. */
  rootPublicKey?: string;
  /** `WA_VERSION` as `2.3000.1043857760`; unset = the version this Baileys release ships with. */
  version?: [number, number, number];
  syncHistory: boolean;
  maxConsecutiveFailures: number;
  /** `QR_MAX_REFRESHES`: new QR codes offered after the first before an unscanned session fails with `qr_timeout`. */
  qrMaxRefreshes: number;
  /** `WA_QR_TIMEOUT_MS`: how long each QR is shown; unset = Baileys' own (60 s for the first of a connection, 20 s after). */
  qrTimeoutMs?: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  queryTimeoutMs: number;
}

/** `METRICS_PORT` unset: no HTTP listener at all (the runner is otherwise reachable only through its transport). */
export interface MetricsConfig {
  port?: number;
  host: string;
}

export interface MessagingConfig {
  /** `SEND_ACK_WAIT_MS`: how long an execute waits for WhatsApp's server ack before answering `sending`. */
  ackWaitMs: number;
  /** How long a retry of an id whose first send may or may not have left waits for proof (an ack or receipt) before sending it again. */
  resendProofMs: number;
  /** Media given by URL is downloaded by the runner under these rules, never by Baileys. */
  media: {
    maxBytes: number;
    timeoutMs: number;
    allowPrivateNetworks: boolean;
    allowedCidrs: string[];
  };
  /** Received media: where they are fetched from, when, where kept and for how long. */
  inbound: InboundMediaConfig;
}

export interface InboundMediaConfig {
  /** `WA_MEDIA_BASE_URL`: joined with a message's direct path (WhatsApp's media CDN by default). */
  baseUrl: string;
  /** `MEDIA_DOWNLOAD`: `arrival` fetches each file when its message arrives; `request` on the first read. */
  download: 'arrival' | 'request';
  /** `MEDIA_RETENTION_DAYS`: stored files older than this are deleted; 0 keeps them forever. */
  retentionDays: number;
  /** `MEDIA_DIR`: the filesystem blob store (default `media/` beside the SQLite file, else `./data/media`); scratch files of either store. */
  dir: string;
  /** `MEDIA_STORE`: `fs` (one runner's disk) or `postgres` (large objects every runner reads). */
  store: 'fs' | 'postgres';
}

/** The runner's environment, validated once at start. */
export class RunnerConfig {
  readonly runnerId!: string;
  readonly database!: DatabaseTarget;
  readonly transport!: RunnerTransport;
  readonly gatewayEvents!: GatewayEventsTransport;
  readonly logLevel!: (typeof LOG_LEVELS)[number];
  /** `LOG_FORMAT`, with `auto` resolved against whether stdout is a terminal. */
  readonly logFormat!: 'json' | 'pretty';
  readonly leaseTtlMs!: number;
  /** Resumes after a start or a takeover: at most `concurrency` sessions connecting at once, each after a random delay up to `jitterMs`. */
  readonly reconnect!: { concurrency: number; jitterMs: number };
  readonly whatsapp!: WhatsAppConfig;
  readonly messaging!: MessagingConfig;
  readonly metrics!: MetricsConfig;

  constructor(values: RunnerConfig) {
    Object.assign(this, values);
  }
}

function readVersion(env: Env): [number, number, number] | undefined {
  const raw = envOptional(env, 'WA_VERSION');
  if (raw === undefined) return undefined;
  const parts = /^\s*(\d{1,10})\.(\d{1,10})\.(\d{1,10})\s*$/.exec(raw);
  if (!parts) throw new ConfigError('WA_VERSION', `must look like 2.3000.1043857760 (got "${raw}")`);
  return [Number(parts[1]), Number(parts[2]), Number(parts[3])];
}

function readRootKey(env: Env): string | undefined {
  const raw = envOptional(env, 'WA_ROOT_PUBLIC_KEY');
  if (raw === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || Buffer.from(raw, 'base64').length !== 32) {
    throw new ConfigError('WA_ROOT_PUBLIC_KEY', 'must be the base64 of a 32-byte Curve25519 public key');
  }
  return raw;
}

/** Part of NATS subjects (`runner.<id>.*`), so limited to characters a subject token allows. */
function readRunnerId(env: Env): string {
  const id = envString(env, 'RUNNER_ID', `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${newId()}`);
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new ConfigError('RUNNER_ID', `may only contain letters, digits, _ and - (got "${id}")`);
  return id;
}

/** Reconnect backoff bounds; a base above the maximum would make every delay the maximum without saying so. */
function readBackoff(env: Env): { backoffBaseMs: number; backoffMaxMs: number } {
  const backoffBaseMs = envInt(env, 'WA_RECONNECT_BASE_MS', 1_000, 10, 600_000);
  const backoffMaxMs = envInt(env, 'WA_RECONNECT_MAX_MS', 60_000, 100, 3_600_000);
  if (backoffBaseMs > backoffMaxMs) {
    throw new ConfigError('WA_RECONNECT_BASE_MS', `must not exceed WA_RECONNECT_MAX_MS (${backoffBaseMs} > ${backoffMaxMs})`);
  }
  return { backoffBaseMs, backoffMaxMs };
}

function readInboundMedia(env: Env, database: DatabaseTarget): InboundMediaConfig {
  const besideDatabase = database.kind === 'sqlite' && database.path !== ':memory:' ? join(dirname(database.path), 'media') : join('data', 'media');
  return {
    baseUrl: envUrl(env, 'WA_MEDIA_BASE_URL', ['https:'], 'https://mmg.whatsapp.net'),
    download: envEnum(env, 'MEDIA_DOWNLOAD', ['arrival', 'request'] as const, 'arrival'),
    retentionDays: envInt(env, 'MEDIA_RETENTION_DAYS', 0, 0, 36_500),
    dir: envString(env, 'MEDIA_DIR', besideDatabase),
    store: readMediaStore(env, database),
  };
}

function readMediaStore(env: Env, database: DatabaseTarget): 'fs' | 'postgres' {
  const store = envEnum(env, 'MEDIA_STORE', ['fs', 'postgres'] as const, 'fs');
  if (store === 'postgres' && database.kind !== 'postgres') throw new ConfigError('MEDIA_STORE', 'postgres needs DATABASE_URL to be a PostgreSQL database');
  return store;
}

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  const transport = runnerTransportFromEnv(env);
  const database = readDatabaseTarget(env, 'sqlite:./data/session-runner.db');
  const wsUrl = envOptional(env, 'WA_WS_URL');
  return new RunnerConfig({
    // A fresh id per process: a restarted runner must never be mistaken for its previous life
    // when leases are compared.
    runnerId: readRunnerId(env),
    database,
    transport,
    gatewayEvents: gatewayEventsTransportFromEnv(env, transport),
    logLevel: envEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: resolveLogFormat(envEnum(env, 'LOG_FORMAT', LOG_FORMATS, 'auto')),
    leaseTtlMs: envInt(env, 'LEASE_TTL_MS', 10_000, 3_000, 600_000),
    reconnect: {
      concurrency: envInt(env, 'RECONNECT_CONCURRENCY', 50, 1, 10_000),
      jitterMs: envInt(env, 'RECONNECT_JITTER_MS', 500, 0, 60_000),
    },
    whatsapp: {
      wsUrl: wsUrl === undefined ? undefined : envUrl(env, 'WA_WS_URL', ['ws:', 'wss:']),
      rootPublicKey: readRootKey(env),
      version: readVersion(env),
      syncHistory: envBool(env, 'WA_SYNC_HISTORY', false),
      maxConsecutiveFailures: envInt(env, 'WA_MAX_RECONNECTS', 10, 1, 1000),
      qrMaxRefreshes: envInt(env, 'QR_MAX_REFRESHES', 5, 0, 100),
      qrTimeoutMs: envOptional(env, 'WA_QR_TIMEOUT_MS') === undefined ? undefined : envInt(env, 'WA_QR_TIMEOUT_MS', 20_000, 1_000, 600_000),
      ...readBackoff(env),
      queryTimeoutMs: envInt(env, 'WA_QUERY_TIMEOUT_MS', 60_000, 1_000, 600_000),
    },
    messaging: {
      ackWaitMs: envInt(env, 'SEND_ACK_WAIT_MS', 5_000, 0, 60_000),
      // Only a bound: a resend decision waits for the login's offline backlog to be processed, and
      // this long at most when the server never marks the backlog's end.
      resendProofMs: envInt(env, 'SEND_RESEND_PROOF_MS', 10_000, 0, 60_000),
      media: {
        maxBytes: envInt(env, 'MEDIA_MAX_BYTES', 16 * 1024 * 1024, 1024, 100 * 1024 * 1024),
        timeoutMs: envInt(env, 'MEDIA_FETCH_TIMEOUT_MS', 30_000, 1_000, 600_000),
        allowPrivateNetworks: envBool(env, 'MEDIA_ALLOW_PRIVATE_NETWORKS', false),
        allowedCidrs: envCidrList(env, 'MEDIA_ALLOWED_CIDRS'),
      },
      inbound: readInboundMedia(env, database),
    },
    metrics: {
      port: envOptional(env, 'METRICS_PORT') === undefined ? undefined : envInt(env, 'METRICS_PORT', 9464, 1, 65535),
      host: envHost(env, 'METRICS_HOST', '0.0.0.0'),
    },
  });
}

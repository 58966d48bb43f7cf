import { BaileysConnection } from './baileys.connection';
import { assertNoiseCertificateBinding, installStrictCurveVerify, parseRootPublicKey, trustRootPublicKey } from './curve.security';
import type { BackoffOptions } from './disconnect.policy';
import { generateMessageId } from '@wa/domain';
import { withRoutineStreamErrorsAsInfo } from './baileys.logger';
import { silentLogger, type WaLogger } from './silent.logger';
import type { SqlAuthStateStore } from './sql-auth-state.store';
import type { WaConnection, WaEngine, WaMessageLookup } from './wa-engine.port';

export interface BaileysEngineOptions {
  authStore: SqlAuthStateStore;
  messages: WaMessageLookup;
  /** WhatsApp Web version (`WA_VERSION`); never fetched at start, there may be no internet. */
  version: [number, number, number];
  /** `WA_WS_URL`; unset = WhatsApp's own server. */
  wsUrl?: string;
  /** `WA_ROOT_PUBLIC_KEY`: base64 root key trusted for the noise certificate instead of WhatsApp's. */
  rootPublicKey?: string;
  logger?: WaLogger;
  browser?: [string, string, string];
  /** Download history after pairing; off by default because nothing stores it. */
  syncHistory?: boolean;
  /**
   * `WA_MEDIA_BASE_URL`: where history-sync blobs the phone uploaded are downloaded from (joined
   * with their direct path), and where Baileys' own blob downloads (app-state snapshots) go;
   * WhatsApp's media host by default.
   */
  mediaBaseUrl?: string;
  /** Consecutive failed connections (reset by each successful login) before giving up. */
  maxConsecutiveFailures?: number;
  backoff?: Partial<BackoffOptions>;
  /** How long a requested pairing code may stay unconfirmed before the keys are reset. */
  pairingTimeoutMs?: number;
  /** New QR codes offered after the first one before an unscanned session fails with `qr_timeout`. */
  qrMaxRefreshes?: number;
  /** How long each QR is shown; unset = Baileys' own (60 s for the first of a socket, 20 s after). */
  qrTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * How long a query may wait for the server's answer. Baileys keeps that timer running after
   * the socket ends, so it also bounds how long a closed connection keeps the process busy.
   */
  queryTimeoutMs?: number;
}

/** Parses `WA_VERSION` (`2.3000.1023223821`). */
export function parseWaVersion(text: string): [number, number, number] {
  const parts = text.trim().split('.').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isSafeInteger(p) || p < 0)) {
    throw new Error(`WA_VERSION must look like 2.3000.1023223821 (got "${text}")`);
  }
  return [parts[0], parts[1], parts[2]];
}

export class BaileysEngine implements WaEngine {
  private readonly connections = new Map<string, BaileysConnection>();
  /** The host's logger, with the stream error that ends every pairing moved to info (one wrapper for all connections). */
  private logger: WaLogger | undefined;
  private securityInstalled: Promise<void> | undefined;

  constructor(private readonly options: BaileysEngineOptions) {
    // Fail at start-up, not at the first connection, when the configured key is unusable.
    if (options.rootPublicKey !== undefined) parseRootPublicKey(options.rootPublicKey);
  }

  connection(sessionId: string): WaConnection {
    let connection = this.connections.get(sessionId);
    if (!connection) {
      const o = this.options;
      connection = new BaileysConnection(
        sessionId,
        {
          authStore: o.authStore,
          messages: o.messages,
          logger: (this.logger ??= withRoutineStreamErrorsAsInfo(o.logger ?? silentLogger)),
          version: o.version,
          ...(o.wsUrl ? { wsUrl: o.wsUrl } : {}),
          ...(o.browser ? { browser: o.browser } : {}),
          syncHistory: o.syncHistory ?? false,
          mediaBaseUrl: o.mediaBaseUrl ?? 'https://mmg.whatsapp.net',
          maxConsecutiveFailures: o.maxConsecutiveFailures ?? 10,
          backoff: { baseMs: o.backoff?.baseMs ?? 1_000, maxMs: o.backoff?.maxMs ?? 60_000 },
          pairingTimeoutMs: o.pairingTimeoutMs ?? 180_000,
          qrMaxRefreshes: o.qrMaxRefreshes ?? 5,
          ...(o.qrTimeoutMs ? { qrTimeoutMs: o.qrTimeoutMs } : {}),
          connectTimeoutMs: o.connectTimeoutMs ?? 20_000,
          queryTimeoutMs: o.queryTimeoutMs ?? 60_000,
        },
        () => this.installSecurity(),
        () => this.connections.delete(sessionId),
      );
      this.connections.set(sessionId, connection);
    }
    return connection;
  }

  isLoggedIn(sessionId: string): Promise<boolean> {
    return this.options.authStore.isLoggedIn(sessionId);
  }

  generateMessageId(ownJid?: string): string {
    return generateMessageId(ownJid);
  }

  /** Stops and releases one session (after it was deleted or its lease moved to another runner). */
  async disposeConnection(sessionId: string): Promise<void> {
    await this.connections.get(sessionId)?.dispose();
  }

  async dispose(): Promise<void> {
    const all = [...this.connections.keys()];
    await Promise.all(all.map((id) => this.disposeConnection(id)));
  }

  /**
   * Strict signatures, the patched certificate binding and the configured root key must be in
   * place before any socket opens.
   */
  private installSecurity(): Promise<void> {
    this.securityInstalled ??= (async () => {
      await assertNoiseCertificateBinding();
      await installStrictCurveVerify();
      await trustRootPublicKey(this.options.rootPublicKey);
    })();
    return this.securityInstalled;
  }
}

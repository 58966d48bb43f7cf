import type { Provider } from '@nestjs/common';
import { createRootLogger, transactionInTurn } from '@wa/contracts/runtime';
import { BaileysEngine, loadBaileys, SqlAuthStateStore, type WaEngine, type WaLogger } from '@wa/wa-adapter';
import { DataSource } from 'typeorm';
import { RunnerConfig } from '../config/runner.config';
import { authKeyWriter } from '../database/auth-key.writer';
import { MessageStore } from '../messages/message-store';

export const WA_ENGINE = Symbol('WA_ENGINE');
export const AUTH_STATE_STORE = Symbol('AUTH_STATE_STORE');

export const authStateStoreProvider: Provider = {
  provide: AUTH_STATE_STORE,
  inject: [DataSource],
  // Key writes of every session take their turn with the runner's other SQLite transactions.
  useFactory: (ds: DataSource) => new SqlAuthStateStore(ds, (work) => transactionInTurn(ds, work), authKeyWriter(ds)),
};

/** The Baileys engine, configured once; the WhatsApp web version is never fetched at start. */
export const waEngineProvider: Provider = {
  provide: WA_ENGINE,
  inject: [RunnerConfig, AUTH_STATE_STORE, MessageStore],
  useFactory: async (config: RunnerConfig, authStore: SqlAuthStateStore, messages: MessageStore): Promise<WaEngine> => {
    const wa = config.whatsapp;
    const version = wa.version ?? ((await loadBaileys()).DEFAULT_CONNECTION_CONFIG.version as [number, number, number]);
    // Baileys is chatty: its warnings only when debugging, its errors otherwise, nothing when the runner is silent.
    const level = config.logLevel === 'silent' ? 'silent' : config.logLevel === 'debug' || config.logLevel === 'trace' ? 'warn' : 'error';
    const logger = createRootLogger('baileys', level, config.logFormat) as unknown as WaLogger;
    return new BaileysEngine({
      authStore,
      messages,
      version,
      wsUrl: wa.wsUrl,
      rootPublicKey: wa.rootPublicKey,
      syncHistory: wa.syncHistory,
      mediaBaseUrl: config.messaging.inbound.baseUrl,
      maxConsecutiveFailures: wa.maxConsecutiveFailures,
      qrMaxRefreshes: wa.qrMaxRefreshes,
      qrTimeoutMs: wa.qrTimeoutMs,
      backoff: { baseMs: wa.backoffBaseMs, maxMs: wa.backoffMaxMs },
      queryTimeoutMs: wa.queryTimeoutMs,
      logger,
    });
  },
};

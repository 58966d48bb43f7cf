import { WaSandbox } from '@wa/wa-sandbox';
import { AsyncLocalStorage, createHook } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import { openAuthDatabase } from './support/auth-database';
import { nextStatus } from './support/next-status';

import { BaileysEngine, SqlAuthStateStore, loadBaileys, type WaConnection } from '../src';

type Propagating = { _propagate?: (...args: unknown[]) => unknown };
const proto = AsyncLocalStorage.prototype as unknown as Propagating;

/**
 * How many AsyncLocalStorage instances every new promise walks. On Node's async_hooks
 * implementation (Node 20 and 22) each enabled instance is visited through `_propagate` when a
 * promise is created, so the count is what a runner pays per promise; an instance that is never
 * disabled stays in that walk for the life of the process.
 */
function asyncLocalStoragesPerPromise(): number {
  const original = proto._propagate!;
  let calls = 0;
  proto._propagate = function (this: unknown, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    void new Promise<void>((resolve) => resolve());
  } finally {
    proto._propagate = original;
  }
  return calls;
}

// With AsyncContextFrame (Node 24's default) an instance costs nothing per promise and there is
// no walk to count.
const withAsyncHooksStorage = typeof proto._propagate === 'function' ? describe : describe.skip;

withAsyncHooksStorage('what a socket leaves in the process (async-context storages, timers)', () => {
  let sandbox: WaSandbox;
  let dataSource: DataSource;
  let engine: BaileysEngine;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    dataSource = await openAuthDatabase();
    engine = new BaileysEngine({
      authStore: new SqlAuthStateStore(dataSource),
      messages: { findRaw: async () => undefined },
      version: [2, 3000, 1043857760],
      wsUrl: sandbox.wsUrl,
      rootPublicKey: sandbox.rootPublicKey,
      backoff: { baseMs: 50, maxMs: 200 },
      queryTimeoutMs: 5_000,
    });
    // Loads Baileys (and whatever instances it makes at import) before the first count.
    await loadBaileys();
  });

  afterAll(async () => {
    await engine.dispose();
    await sandbox.stop();
    await dataSource.destroy();
  });

  /** A new phone, and a session linked to it by QR, once connected. */
  const link = async (phone: string, sessionId: string): Promise<WaConnection> => {
    await sandbox.createPhone(phone, `Async context ${sessionId}`);
    const connection = engine.connection(sessionId);
    const qr = nextStatus(connection, 'qr');
    await connection.start();
    const { qr: code } = (await qr) as { qr: string };
    const connected = nextStatus(connection, 'connected');
    await sandbox.scanQr(phone, code);
    await connected;
    return connection;
  };

  it('does not grow with the sockets that are or were open', async () => {
    const before = asyncLocalStoragesPerPromise();
    // A key store's instance joins the walk at its first transaction, which a linked socket runs
    // as soon as it logs in (pre-keys, app state); an unlinked one waiting for its QR never does.
    const open = (i: number): Promise<WaConnection> => link(String(15_550_003_000 + i), `async-context-${i}`);

    // Four linked sockets open at once (eight were opened: pairing restarts each once), then the
    // same closed: a store per socket would show as 8 more, shared ones as at most 1. Paired one
    // after another: pairings in parallel only make a slow machine slower.
    const connections: WaConnection[] = [];
    for (let i = 0; i < 4; i++) connections.push(await open(i));
    const whileOpen = asyncLocalStoragesPerPromise();
    for (const connection of connections) await connection.stop();
    const afterClose = asyncLocalStoragesPerPromise();

    // Baileys' key stores share one instance: at most one more than before, however many sockets.
    expect(whileOpen - before).toBeLessThanOrEqual(1);
    expect(afterClose - before).toBeLessThanOrEqual(1);
  });

  it('leaves no Baileys timer behind once a linked socket is closed', async () => {
    // Timers Baileys' own code sets while the socket lives and that keep the process alive
    // (lru-cache's expiry timers are unref'd), until they fire or are cleared.
    const pending = new Map<number, { timer: NodeJS.Timeout; at: string }>();
    const hook = createHook({
      init(id, type, _trigger, resource) {
        if (type !== 'Timeout') return;
        const at = (new Error().stack ?? '').split('\n').find((l) => l.includes('@whiskeysockets/baileys'));
        if (at) pending.set(id, { timer: resource as NodeJS.Timeout, at: at.trim() });
      },
      destroy(id) {
        pending.delete(id);
      },
    }).enable();
    const keepingAlive = () => [...pending.values()].filter((p) => p.timer.hasRef()).map((p) => p.at);
    try {
      const connection = await link('15550003100', 'async-context-timers');
      await connection.stop();
      // Baileys' pre-key upload at login raced a 30 s timer it never cleared: it held the socket's
      // closures, and kept a process with nothing else to do alive, for 30 s after every login.
      // A query still waiting when the socket ended kept its timer for queryTimeoutMs (5 s here,
      // 60 s by default): the socket took its close listener away before closing. Now it fails at once.
      const deadline = Date.now() + 1_000;
      while (keepingAlive().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(keepingAlive()).toEqual([]);
    } finally {
      hook.disable();
    }
  });

  it('keeps each key store\'s transaction its own when one runs inside another', async () => {
    const { addTransactionCapability } = await loadBaileys();
    const memory = () => {
      const data: Record<string, Record<string, unknown>> = {};
      return {
        get: async (type: string, ids: string[]) => Object.fromEntries(ids.filter((id) => data[type]?.[id] !== undefined).map((id) => [id, data[type]![id]])),
        set: async (update: Record<string, Record<string, unknown>>) => {
          for (const [type, values] of Object.entries(update)) Object.assign((data[type] ??= {}), values);
        },
      };
    };
    const logger = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => logger, level: 'silent' };
    const options = { maxCommitRetries: 1, delayBetweenTriesMs: 0 };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const a = addTransactionCapability(memory() as any, logger as any, options);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const b = addTransactionCapability(memory() as any, logger as any, options);
    const session = { 'session': { 'peer.0': Buffer.from('a') } } as never;

    await a.transaction(async () => {
      await a.set(session);
      expect(b.isInTransaction()).toBe(false);
      await b.transaction(async () => {
        expect(a.isInTransaction()).toBe(true);
        // A's uncommitted write is visible to A inside B's transaction, and not to B.
        await expect(a.get('session', ['peer.0'])).resolves.toEqual({ 'peer.0': Buffer.from('a') });
        await expect(b.get('session', ['peer.0'])).resolves.toEqual({});
      }, 'b');
    }, 'a');
    expect(a.isInTransaction()).toBe(false);
    await expect(a.get('session', ['peer.0'])).resolves.toEqual({ 'peer.0': Buffer.from('a') });
  });
});

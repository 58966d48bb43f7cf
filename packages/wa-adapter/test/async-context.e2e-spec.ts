import { WaSandbox } from '@wa/wa-sandbox';
import { AsyncLocalStorage } from 'node:async_hooks';
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

withAsyncHooksStorage('AsyncLocalStorage per socket', () => {
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

  it('does not grow with the sockets that are or were open', async () => {
    const before = asyncLocalStoragesPerPromise();
    // A key store's instance joins the walk at its first transaction, which a linked socket runs
    // as soon as it logs in (pre-keys, app state); an unlinked one waiting for its QR never does.
    const open = async (i: number): Promise<WaConnection> => {
      const phone = String(15_550_003_000 + i);
      await sandbox.createPhone(phone, `Async context ${i}`);
      const connection = engine.connection(`async-context-${i}`);
      const qr = nextStatus(connection, 'qr');
      await connection.start();
      const { qr: code } = (await qr) as { qr: string };
      const connected = nextStatus(connection, 'connected');
      await sandbox.scanQr(phone, code);
      await connected;
      return connection;
    };

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

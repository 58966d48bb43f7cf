import { createServer } from 'node:net';

import type { DataSource } from 'typeorm';
import { openAuthDatabase } from './support/auth-database';

import {
  BaileysEngine,
  SqlAuthStateStore,
  WaAuthCredsEntity,
  type WaStatus,
  loadBaileys,
  parseWaVersion,
} from '../src';

/** A port nobody listens on: every socket fails to connect, like a WhatsApp outage. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe(BaileysEngine.name, () => {
  let dataSource: DataSource;
  let authStore: SqlAuthStateStore;
  let wsUrl: string;

  beforeAll(async () => {
    dataSource = await openAuthDatabase();
    authStore = new SqlAuthStateStore(dataSource);
    wsUrl = `ws://127.0.0.1:${await closedPort()}/ws/chat`;
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  const engineFor = (maxConsecutiveFailures: number, rootPublicKey?: string): BaileysEngine =>
    new BaileysEngine({
      authStore,
      messages: { findRaw: async () => undefined },
      version: parseWaVersion('2.3000.1023223821'),
      wsUrl,
      ...(rootPublicKey ? { rootPublicKey } : {}),
      maxConsecutiveFailures,
      backoff: { baseMs: 20, maxMs: 40 },
      connectTimeoutMs: 2_000,
      queryTimeoutMs: 2_000,
    });

  it('reconnects with backoff while the server is unreachable, then fails with too_many_restarts', async () => {
    const engine = engineFor(3);
    const connection = engine.connection('unreachable');
    const statuses: WaStatus[] = [];
    const failed = new Promise<void>((resolve) =>
      connection.on('status', (s) => {
        statuses.push(s);
        if (s.state === 'failed') resolve();
      }),
    );
    await connection.start();
    await failed;

    expect(statuses.map((s) => s.state)).toEqual(['starting', 'reconnecting', 'reconnecting', 'reconnecting', 'failed']);
    expect(statuses.filter((s) => s.state === 'reconnecting').map((s) => (s as { attempt: number }).attempt)).toEqual([1, 2, 3]);
    for (const s of statuses) if (s.state === 'reconnecting') expect(s.delayMs).toBeLessThanOrEqual(40);
    expect(connection.status).toMatchObject({ state: 'failed', reason: 'too_many_restarts' });
    await engine.dispose();
  });

  it('installs strict signature checks and the configured root key before the first socket', async () => {
    const { Curve, WA_CERT_DETAILS } = await loadBaileys();
    const root = Buffer.alloc(32, 7);
    const engine = engineFor(0, root.toString('base64'));
    const connection = engine.connection('security');
    const failed = new Promise<void>((resolve) => connection.on('status', (s) => s.state === 'failed' && resolve()));
    await connection.start();
    await failed;

    const keys = Curve.generateKeyPair();
    const signature = Buffer.from(Curve.sign(keys.private, Buffer.from('m')));
    signature[0] ^= 1;
    expect(Curve.verify(keys.public, Buffer.from('m'), signature)).toBe(false);
    expect(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY)).toEqual(root);
    await engine.dispose();
  });

  it('forgets unconfirmed pairing keys on stop, and refuses commands while not connected', async () => {
    const engine = engineFor(100);
    const connection = engine.connection('abandoned');
    await connection.start();
    await expect(connection.sendMessage('491701234567@s.whatsapp.net', { type: 'text', text: 'hi' }, { messageId: engine.generateMessageId() })).rejects.toMatchObject({
      code: 'session_not_connected',
    });
    const { saveCreds } = await authStore.use('abandoned');
    await saveCreds();
    await connection.stop();

    expect(connection.status).toEqual({ state: 'stopped' });
    await expect(dataSource.getRepository(WaAuthCredsEntity).countBy({ sessionId: 'abandoned' })).resolves.toBe(0);
    await expect(engine.isLoggedIn('abandoned')).resolves.toBe(false);
    await engine.dispose();
  });

  it('rejects an unusable root key at construction', () => {
    expect(() => engineFor(1, 'c2hvcnQ=')).toThrow(/32-byte/);
  });

  it('rejects a malformed WA_VERSION', () => {
    expect(() => parseWaVersion('2.3000')).toThrow(/WA_VERSION/);
  });
});

import { WaSandbox, type ServerIdentity } from '@wa/wa-sandbox';
import type { DataSource } from 'typeorm';
import { openAuthDatabase } from './support/auth-database';
import { nextStatus } from './support/next-status';

import {
  BaileysEngine,
  SqlAuthStateStore,
  WaAuthCredsEntity,
  WaAuthKeyEntity,
  type WaConnection,
  type WaLogger,
  type WaStatus,
} from '../src';

const OWNER = '15550002001';

/** Each way an impostor can present itself, and the check the handshake names when refusing it. */
const IMPOSTORS: Array<[Exclude<ServerIdentity, 'genuine'>, string]> = [
  ['foreign_root', 'intermediate_signature'],
  ['forged_signature', 'leaf_signature'],
  ['replayed_chain', 'static_key_mismatch'],
  ['expired_leaf', 'leaf_expired'],
  ['expired_intermediate', 'intermediate_expired'],
];

/** Keeps what the engine logs at warn level, to check the refusal is reported and carries no key. */
class RecordingLogger implements WaLogger {
  level = 'info';
  readonly warnings: Array<{ obj: unknown; msg?: string }> = [];
  child(): WaLogger {
    return this;
  }
  trace(): void {}
  debug(): void {}
  info(): void {}
  warn(obj: unknown, msg?: string): void {
    this.warnings.push({ obj, msg });
  }
  error(): void {}
}

describe(`${BaileysEngine.name} authenticates the WhatsApp server`, () => {
  let sandbox: WaSandbox;
  let dataSource: DataSource;
  let engine: BaileysEngine;
  let logger: RecordingLogger;

  const storedAuth = async (sessionId: string) => ({
    creds: (await dataSource.getRepository(WaAuthCredsEntity).findOneBy({ sessionId }))?.creds,
    keys: await dataSource.getRepository(WaAuthKeyEntity).countBy({ sessionId }),
  });

  /** Starts a session and collects its statuses until it connects or fails. */
  const run = async (sessionId: string): Promise<WaStatus[]> => {
    const connection = engine.connection(sessionId);
    const seen: WaStatus[] = [];
    const off = connection.on('status', (s) => seen.push(s));
    const settled = nextStatus(connection, ['connected', 'failed']);
    await connection.start();
    await settled;
    off();
    return seen;
  };

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(OWNER, 'Owner');
    dataSource = await openAuthDatabase();
    logger = new RecordingLogger();
    engine = new BaileysEngine({
      authStore: new SqlAuthStateStore(dataSource),
      messages: { findRaw: async () => undefined },
      version: [2, 3000, 1043857760],
      wsUrl: sandbox.wsUrl,
      rootPublicKey: sandbox.rootPublicKey,
      logger,
      backoff: { baseMs: 50, maxMs: 200 },
      queryTimeoutMs: 5_000,
    });

    const owner = engine.connection('owner');
    const qr = nextStatus(owner, 'qr');
    const connected = nextStatus(owner, 'connected');
    await owner.start();
    await sandbox.scanQr(OWNER, ((await qr) as { qr: string }).qr);
    await connected;
    await owner.stop();
  });

  afterAll(async () => {
    await engine.dispose();
    await sandbox.stop();
    await dataSource.destroy();
  });

  afterEach(() => {
    sandbox.setServerIdentity('genuine');
  });

  it.each(IMPOSTORS)('refuses the %s impostor before any QR and reports why (%s)', async (identity, check) => {
    sandbox.setServerIdentity(identity);
    const sessionId = `new-${identity}`;
    const statuses = await run(sessionId);

    expect(statuses.map((s) => s.state)).toEqual(['starting', 'failed']);
    expect(statuses[1]).toMatchObject({ reason: 'server_untrusted', message: expect.stringContaining(check) });
    expect(sandbox.listHandshakes().filter((h) => h.serverIdentity === identity)).toEqual([expect.objectContaining({ clientFinish: 'none' })]);
    await expect(engine.isLoggedIn(sessionId)).resolves.toBe(false);
    const warning = logger.warnings.find((w) => (w.obj as { sessionId?: string }).sessionId === sessionId);
    expect(warning?.obj).toEqual({ sessionId, event: 'whatsapp_server_untrusted', check, server: sandbox.wsUrl });
  });

  it.each(IMPOSTORS)('keeps a linked session logged in with untouched credentials against the %s impostor', async (identity) => {
    sandbox.setServerIdentity(identity);
    const before = await storedAuth('owner');
    const statuses = await run('owner');

    expect(statuses.map((s) => s.state)).toEqual(['starting', 'failed']);
    expect(statuses[1]).toMatchObject({ reason: 'server_untrusted' });
    await expect(storedAuth('owner')).resolves.toEqual(before);
    await expect(engine.isLoggedIn('owner')).resolves.toBe(true);
    expect(sandbox.listHandshakes().at(-1)).toMatchObject({ serverIdentity: identity, clientFinish: 'none' });
  });

  it('connects the linked session to the genuine server without a new QR', async () => {
    const statuses = await run('owner');

    expect(statuses.map((s) => s.state)).toEqual(['starting', 'connected']);
    expect(sandbox.listHandshakes().at(-1)).toMatchObject({ serverIdentity: 'genuine', clientFinish: 'login' });
  });
});

import { WaSandbox } from '@wa/wa-sandbox';
import { until } from '@wa/wa-sandbox/testing';
import type { DataSource } from 'typeorm';
import { openAuthDatabase } from './support/auth-database';
import { nextStatus } from './support/next-status';

import {
  type WaLogger,
  BaileysEngine,
  SqlAuthStateStore,
  WaAuthKeyEntity,
  type WaConnection,
  type WaMessageKey,
  type WaMessageLookup,
  type WaPollVote,
  type WaStatus,
  loadBaileys,
} from '../src';

const OWNER = '15550001001';
const CONTACT = '15550001002';

/** What the runner's message store does: keep every message's raw bytes by id. */
class MemoryMessages implements WaMessageLookup {
  readonly raw = new Map<string, Uint8Array>();
  async findRaw(_sessionId: string, key: WaMessageKey): Promise<Uint8Array | undefined> {
    return this.raw.get(key.id);
  }
}

/** What reached each level of the host's logger, with the message: Baileys logs through it. */
type LogLine = { level: string; msg: string | undefined; obj: unknown };
function recordingLogger(lines: LogLine[]): WaLogger {
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, msg, obj });
    };
  const logger: WaLogger = { level: 'info', child: () => logger, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return logger;
}
const streamErrors = (lines: LogLine[], level: string): unknown[] =>
  lines.filter((l) => l.level === level && l.msg === 'stream errored out').map((l) => (l.obj as { fullErrorNode?: unknown }).fullErrorNode);

describe(`${BaileysEngine.name} against the WhatsApp sandbox`, () => {
  const logLines: LogLine[] = [];
  let sandbox: WaSandbox;
  let dataSource: DataSource;
  let messages: MemoryMessages;
  let engine: BaileysEngine;
  let connection: WaConnection;
  const statuses: WaStatus[] = [];

  const newEngine = (): BaileysEngine =>
    new BaileysEngine({
      authStore: new SqlAuthStateStore(dataSource),
      messages,
      version: [2, 3000, 1043857760],
      wsUrl: sandbox.wsUrl,
      rootPublicKey: sandbox.rootPublicKey,
      backoff: { baseMs: 50, maxMs: 200 },
      // Unanswered queries of ended sockets would otherwise keep Jest waiting for a minute.
      queryTimeoutMs: 5_000,
      logger: recordingLogger(logLines),
    });

  const deviceJid = (): string => sandbox.listDevices().find((d) => d.phone === OWNER && d.connected)!.jid;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(OWNER, 'Owner');
    await sandbox.createPhone(CONTACT, 'Contact');
    dataSource = await openAuthDatabase();
    messages = new MemoryMessages();
    engine = newEngine();
    connection = engine.connection('owner');
    connection.on('status', (s) => statuses.push(s));
    connection.on('message', (m) => messages.raw.set(m.key.id, m.raw));
  });

  afterAll(async () => {
    await engine.dispose();
    await sandbox.stop();
    await dataSource.destroy();
  });

  it('pairs by QR, restarts on 515 and reports the logged-in account', async () => {
    const qr = nextStatus(connection, 'qr');
    await connection.start();
    const { qr: code } = (await qr) as { qr: string };
    const connected = nextStatus(connection, 'connected');
    await sandbox.scanQr(OWNER, code);

    await expect(connected).resolves.toMatchObject({ me: { jid: `${OWNER}@s.whatsapp.net`, lid: expect.stringMatching(/@lid$/) } });
    expect(statuses).toContainEqual(expect.objectContaining({ state: 'reconnecting', code: 515, delayMs: 0 }));
    await expect(engine.isLoggedIn('owner')).resolves.toBe(true);
    // The 515 that ends every pairing is routine: logged, but not as an error.
    expect(streamErrors(logLines, 'info')).toEqual([expect.objectContaining({ attrs: { code: '515' } })]);
    expect(streamErrors(logLines, 'error')).toEqual([]);
  });

  it('sends a text that the contact receives', async () => {
    const messageId = engine.generateMessageId();
    const sent = await connection.sendMessage(`${CONTACT}@s.whatsapp.net`, { type: 'text', text: 'hello from the gateway' }, { messageId });
    messages.raw.set(sent.key.id, sent.raw);
    expect(sent.key).toMatchObject({ id: messageId, fromMe: true });
    await expect(sandbox.waitForReceived(CONTACT, (m) => m.id === messageId)).resolves.toMatchObject({
      kind: 'text',
      text: 'hello from the gateway',
    });
  });

  it('issues its privacy token to a contact once, not with every message', async () => {
    // The first text (above) issued it once the message left, without waiting for it. When it was
    // issued must reach the key store: it used to go into the cache of the send's transaction,
    // already committed, and was lost, so every message issued another.
    const stored = await until('the issued privacy token in the key store', () =>
      dataSource.getRepository(WaAuthKeyEntity).findOneBy({ sessionId: 'owner', type: 'tctoken', keyId: sandbox.listPhones().find((p) => p.phone === CONTACT)!.lid }),
      10_000,
    );
    expect(JSON.parse(stored.value)).toMatchObject({ senderTimestamp: expect.any(Number) });
    const tokensToContact = () => sandbox.privacyTokensIssued(OWNER).filter((t) => t.to === CONTACT);
    for (const text of ['second', 'third', 'fourth']) {
      const sent = await connection.sendMessage(`${CONTACT}@s.whatsapp.net`, { type: 'text', text }, { messageId: engine.generateMessageId() });
      await sandbox.waitForReceived(CONTACT, (m) => m.id === sent.key.id);
    }
    // Each send reads when the token was last issued; that record must have reached the store, or
    // every message costs another IQ. The second and third texts' IQs (if any) left before the
    // fourth text did.
    expect(tokensToContact()).toEqual([{ to: CONTACT, t: expect.any(Number) }]);
  });

  it('casts a vote on a contact\'s poll that the contact decrypts', async () => {
    const pollMessage = new Promise<string>((resolve) => {
      const off = connection.on('message', (m) => {
        if (m.type !== 'poll') return;
        off();
        resolve(m.key.id);
      });
    });
    await sandbox.sendMessage(CONTACT, `${OWNER}@s.whatsapp.net`, { type: 'poll', name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 });
    const pollId = await pollMessage;
    const contact = sandbox.listPhones().find((p) => p.phone === CONTACT)!;
    const poll = await pollKeyFor(pollId, contact.jid, contact.lid);
    const messageId = engine.generateMessageId();
    await connection.vote(poll, ['Sushi'], { messageId });
    await expect(sandbox.waitForReceived(CONTACT, (m) => m.kind === 'vote' && m.vote?.pollId === pollId)).resolves.toMatchObject({
      vote: { pollId, selectedOptions: ['Sushi'] },
    });
  });

  it('decrypts the contact\'s vote on our poll', async () => {
    const messageId = engine.generateMessageId();
    const sent = await connection.sendMessage(
      `${CONTACT}@s.whatsapp.net`,
      { type: 'poll', name: 'Meeting?', options: ['Mon', 'Tue', 'Wed'], selectableCount: 2 },
      { messageId },
    );
    messages.raw.set(sent.key.id, sent.raw);
    await sandbox.waitForReceived(CONTACT, (m) => m.id === messageId);
    const vote = new Promise<WaPollVote>((resolve) => connection.on('pollVote', resolve));
    await sandbox.sendMessage(CONTACT, `${OWNER}@s.whatsapp.net`, { type: 'vote', pollId: messageId, options: ['Tue', 'Wed'] });
    await expect(vote).resolves.toMatchObject({ poll: { id: messageId, fromMe: true }, selectedOptions: ['Tue', 'Wed'] });
  });

  it('reconnects after a 503 and after a 515 from the server without a new QR', async () => {
    for (const fault of ['service_unavailable', 'restart_required'] as const) {
      const reconnecting = nextStatus(connection, 'reconnecting');
      const connected = nextStatus(connection, 'connected');
      await sandbox.fault(deviceJid(), fault);
      await expect(reconnecting).resolves.toMatchObject({ code: fault === 'restart_required' ? 515 : 503 });
      await expect(connected).resolves.toMatchObject({ state: 'connected' });
    }
    expect(statuses.filter((s) => s.state === 'qr')).toHaveLength(1);
  });

  it('resumes from the SQL store in a new engine without a QR', async () => {
    await engine.dispose();
    engine = newEngine();
    connection = engine.connection('owner');
    const seen: WaStatus[] = [];
    connection.on('status', (s) => seen.push(s));
    connection.on('message', (m) => messages.raw.set(m.key.id, m.raw));
    const connected = nextStatus(connection, 'connected');
    await connection.start();
    await expect(connected).resolves.toMatchObject({ me: { jid: `${OWNER}@s.whatsapp.net` } });
    expect(seen.map((s) => s.state)).not.toContain('qr');
    // The privacy token issued before is remembered by the store: no new one for a new socket.
    const sent = await connection.sendMessage(`${CONTACT}@s.whatsapp.net`, { type: 'text', text: 'after the restart' }, { messageId: engine.generateMessageId() });
    await sandbox.waitForReceived(CONTACT, (m) => m.id === sent.key.id);
    const again = await connection.sendMessage(`${CONTACT}@s.whatsapp.net`, { type: 'text', text: 'and once more' }, { messageId: engine.generateMessageId() });
    await sandbox.waitForReceived(CONTACT, (m) => m.id === again.key.id);
    expect(sandbox.privacyTokensIssued(OWNER).filter((t) => t.to === CONTACT)).toHaveLength(1);
  });

  it('stops for good when another connection replaces this one (440)', async () => {
    const failed = nextStatus(connection, 'failed');
    const jid = deviceJid();
    await sandbox.fault(jid, 'replaced');
    await expect(failed).resolves.toMatchObject({ reason: 'replaced' });
    // A replaced connection is not routine: its stream error stays an error.
    expect(streamErrors(logLines, 'error')).toContainEqual(expect.objectContaining({ content: [expect.objectContaining({ tag: 'conflict', attrs: { type: 'replaced' } })] }));
    // 'failed' is set with the reconnect timer cleared, so it cannot change by itself; check it
    // once the sandbox has seen this socket close too, the last step of the replacement.
    const connected = (): boolean => sandbox.listDevices().some((d) => d.jid === jid && d.connected);
    const deadline = Date.now() + 10_000;
    while (connected() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connected()).toBe(false);
    expect(connection.status.state).toBe('failed');
    await expect(engine.isLoggedIn('owner')).resolves.toBe(true);
  });

  it('wipes the credentials when the phone removes the device (401)', async () => {
    const connected = nextStatus(connection, 'connected');
    await connection.stop();
    await connection.start();
    await connected;
    const loggedOut = nextStatus(connection, 'logged_out');
    await sandbox.fault(deviceJid(), 'device_removed');
    await expect(loggedOut).resolves.toEqual({ state: 'logged_out' });
    await expect(engine.isLoggedIn('owner')).resolves.toBe(false);
    await expect(dataSource.getRepository(WaAuthKeyEntity).countBy({ sessionId: 'owner' })).resolves.toBe(0);
  });

  async function pollKeyFor(pollId: string, pnJid: string, lidJid: string): Promise<WaMessageKey> {
    const b = await loadBaileys();
    const decoded = b.proto.WebMessageInfo.decode(messages.raw.get(pollId)!);
    const chatJid = decoded.key?.remoteJid ?? pnJid;
    expect([pnJid, lidJid]).toContain(chatJid);
    return { chatJid, id: pollId, fromMe: false };
  }
});

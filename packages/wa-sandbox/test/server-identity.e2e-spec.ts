import { SERVER_IDENTITIES, WaSandbox, loadBaileys, type ServerIdentity } from '../src/index';
import { connectBaileys, loginAgain, pairWithQr, type SandboxSession } from '../src/testing';

const PHONE = '15550000031';

/** The check the patched Baileys client names when it refuses each impostor. */
const REFUSALS: Array<[Exclude<ServerIdentity, 'genuine'>, string]> = [
  ['replayed_chain', 'static_key_mismatch'],
  ['expired_leaf', 'leaf_expired'],
  ['expired_intermediate', 'intermediate_expired'],
  ['foreign_root', 'intermediate_signature'],
  ['forged_signature', 'leaf_signature'],
];

interface CloseUpdate {
  connection?: string;
  qr?: string;
  lastDisconnect?: { error?: { output?: { statusCode?: number }; data?: { noiseCertificate?: string } } };
}

describe(`${WaSandbox.name} server identities`, () => {
  let sandbox: WaSandbox;
  let linked: SandboxSession;
  const sessions: SandboxSession[] = [];

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(PHONE, 'Fay');
    linked = await pairWithQr(sandbox, PHONE);
    sessions.push(linked);
  });

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.end()));
    await sandbox.stop();
  });

  afterEach(() => {
    sandbox.setServerIdentity('genuine');
  });

  const creds = async (session: SandboxSession): Promise<string> => {
    const { BufferJSON } = await loadBaileys();
    return JSON.stringify(session.auth.creds, BufferJSON.replacer);
  };

  it.each(REFUSALS)('a new device refuses a %s server before any QR (%s)', async (identity, check) => {
    sandbox.setServerIdentity(identity);
    const session = await connectBaileys(sandbox);
    sessions.push(session);

    await expect(session.closed).resolves.toBe(400);
    const close = session.events.find((e) => e.name === 'connection.update' && (e.data as CloseUpdate).connection === 'close');
    await expect(Promise.resolve((close?.data as CloseUpdate).lastDisconnect?.error?.data)).resolves.toEqual({ noiseCertificate: check });
    await expect(Promise.resolve(session.events.filter((e) => e.name === 'connection.update' && (e.data as CloseUpdate).qr))).resolves.toEqual([]);
    await expect(Promise.resolve(sandbox.listHandshakes().at(-1))).resolves.toMatchObject({ serverIdentity: identity, clientFinish: 'none' });
  });

  it.each(REFUSALS)('a linked device refuses a %s server and keeps its credentials', async (identity) => {
    sandbox.setServerIdentity(identity);
    const before = await creds(linked);
    const session = await connectBaileys(sandbox, { auth: linked.auth });
    sessions.push(session);

    await expect(session.closed).resolves.toBe(400);
    await expect(creds(session)).resolves.toBe(before);
    await expect(Promise.resolve(sandbox.listHandshakes().at(-1))).resolves.toMatchObject({ serverIdentity: identity, clientFinish: 'none' });
  });

  it('lets the linked device log in again once the genuine server is back', async () => {
    const session = await loginAgain(sandbox, linked.auth);
    sessions.push(session);
    await expect(Promise.resolve(sandbox.listHandshakes().at(-1))).resolves.toMatchObject({ serverIdentity: 'genuine', clientFinish: 'login' });
  });

  it('switches identity through the control API and rejects unknown ones', async () => {
    const post = (identity: string) =>
      fetch(`${sandbox.controlUrl}/server-identity`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity }) });
    await expect(post('replayed_chain').then((r) => r.status)).resolves.toBe(201);
    await expect(fetch(`${sandbox.controlUrl}/server-identity`).then((r) => r.json())).resolves.toEqual({ identity: 'replayed_chain' });
    const wrong = await post('friendly');
    await expect(Promise.resolve(wrong.status)).resolves.toBe(400);
    await expect(wrong.json()).resolves.toEqual({ error: `"identity" must be one of ${SERVER_IDENTITIES.join(', ')}` });
    await expect(fetch(`${sandbox.controlUrl}/handshakes`).then((r) => r.json())).resolves.toEqual(sandbox.listHandshakes());
  });
});

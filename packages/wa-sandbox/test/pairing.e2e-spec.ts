import { WaSandbox } from '../src/index';
import { connectBaileys, pairWithQr, type SandboxSession } from '../src/testing';

const WHATSAPP_ROOT = Buffer.from('142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b', 'hex').toString('base64');

describe(WaSandbox.name, () => {
  let sandbox: WaSandbox;
  const sessions: SandboxSession[] = [];

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create({ qrRefCount: 2 })).start();
    await sandbox.createPhone('15550000001', 'Alice');
  });

  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.end()));
    await sandbox.stop();
  });

  it('pairs a real Baileys socket by QR and logs it in after the 515 restart', async () => {
    const session = await pairWithQr(sandbox, '15550000001');
    sessions.push(session);
    await expect(Promise.resolve(session.auth.creds.me?.id)).resolves.toBe('15550000001:1@s.whatsapp.net');
    await expect(Promise.resolve(session.auth.creds.me?.lid)).resolves.toMatch(/^\d+:1@lid$/);
    await expect(Promise.resolve(sandbox.listDevices())).resolves.toEqual([
      expect.objectContaining({ jid: '15550000001:1@s.whatsapp.net', connected: true }),
    ]);
  });

  it('refuses the handshake when the client trusts another root key', async () => {
    const session = await connectBaileys(sandbox, { trustedRootPublicKey: WHATSAPP_ROOT });
    sessions.push(session);
    await expect(session.closed).resolves.toBe(400);
  });

  it('ends with 408 when every QR ref expired unscanned', async () => {
    const session = await connectBaileys(sandbox, { qrTimeoutMs: 200 });
    sessions.push(session);
    await expect(session.closed).resolves.toBe(408);
    await expect(Promise.resolve(session.events.filter((e) => e.name === 'connection.update' && (e.data as { qr?: string }).qr).length)).resolves.toBe(2);
  });
});

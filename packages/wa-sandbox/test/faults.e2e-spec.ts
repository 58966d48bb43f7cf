import { WaSandbox, type FaultKind } from '../src/index';
import { connectBaileys, loginAgain, pairWithQr, type SandboxSession } from '../src/testing';

describe(`${WaSandbox.name} faults and linking`, () => {
  let sandbox: WaSandbox;
  let session: SandboxSession;
  const PHONE = '15550000021';
  const sessions: SandboxSession[] = [];

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(PHONE, 'Dora');
    await sandbox.createPhone('15550000022', 'Erin');
    session = await pairWithQr(sandbox, PHONE);
    sessions.push(session);
  });

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.end()));
    await sandbox.stop();
  });

  const cases: Array<[FaultKind, number]> = [
    ['replaced', 440],
    ['restart_required', 515],
    ['timed_out', 408],
    ['connection_closed', 428],
    ['service_unavailable', 503],
  ];

  it.each(cases)('closes the stream on demand with %s -> %i and lets the device log in again', async (kind, status) => {
    const deviceJid = session.auth.creds.me!.id;
    await sandbox.fault(deviceJid, kind);
    await expect(session.closed).resolves.toBe(status);
    session = await loginAgain(sandbox, session.auth);
    sessions.push(session);
  });

  it('drops the socket silently; the client notices the closed connection', async () => {
    await sandbox.fault(session.auth.creds.me!.id, 'drop');
    await expect(session.closed).resolves.toBe(428);
    session = await loginAgain(sandbox, session.auth);
    sessions.push(session);
  });

  it('removes the device with 401 and refuses its next login', async () => {
    const auth = session.auth;
    await sandbox.fault(auth.creds.me!.id, 'device_removed');
    await expect(session.closed).resolves.toBe(401);
    const again = await connectBaileys(sandbox, { auth });
    sessions.push(again);
    await expect(again.closed).resolves.toBe(401);
    await expect(Promise.resolve(sandbox.listLoggedOut())).resolves.toEqual([expect.objectContaining({ jid: auth.creds.me!.id, reason: 'device_removed' })]);
  });

  it('records a logout the client asked for', async () => {
    const erin = await pairWithQr(sandbox, '15550000022');
    sessions.push(erin);
    const jid = erin.auth.creds.me!.id;
    await erin.sock.logout();
    await expect(erin.closed).resolves.toBe(401);
    await expect(Promise.resolve(sandbox.listLoggedOut().find((d) => d.jid === jid)?.reason)).resolves.toBe('user_initiated');
    await expect(Promise.resolve(sandbox.listDevices().some((d) => d.jid === jid))).resolves.toBe(false);
  });

  it('links a device with a pairing code typed on the phone', async () => {
    const phone = '15550000023';
    await sandbox.createPhone(phone, 'Finn');
    const first = await connectBaileys(sandbox);
    sessions.push(first);
    await first.waitFor<{ qr?: string }>('connection.update', (u) => !!u.qr);
    const code = await first.sock.requestPairingCode(phone);
    await expect(sandbox.enterPairingCode(phone, code)).resolves.toEqual({ deviceJid: `${phone}:1@s.whatsapp.net` });
    await expect(first.closed).resolves.toBe(515);
    const linked = await loginAgain(sandbox, first.auth);
    sessions.push(linked);
    await expect(Promise.resolve(linked.auth.creds.me?.id)).resolves.toBe(`${phone}:1@s.whatsapp.net`);
  });
});

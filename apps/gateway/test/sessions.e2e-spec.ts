import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WaSandbox } from '@wa/wa-sandbox';
import { Webhook } from 'standardwebhooks';
import { TestIdentityProvider } from './auth-fixture';
import { ApiClient, type ApiCall, type SessionBody } from './session-fixture';
import { dropTestSchemas, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv, sandboxRunnerEnv } from './harness';
import { HANG_MS } from './deadlines';

/**
 * Sessions end to end: the real gateway, the real runner process with the real Baileys socket,
 * and the WhatsApp sandbox standing in for WhatsApp (trusted through WA_ROOT_PUBLIC_KEY).
 */
describe('sessions (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-sessions';
  const OTHER_ORG = 'org-intruder';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  let runner: RunnerProcess;
  let runnerEnv: Record<string, string>;
  let gw: GatewayHandle;
  let phoneSeq = 0;

  let client: ApiClient;
  const api = (path: string, init: ApiCall = {}): Promise<Response> => client.call(path, init);
  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
  const waitForStatus = (id: string, wanted: string[], timeoutMs?: number): Promise<SessionBody> => client.waitForStatus(id, wanted, timeoutMs);
  const linkedSession = (): Promise<{ id: string; phone: string; deviceJid: string }> =>
    client.linkSession(sandbox, `4917000${String(++phoneSeq).padStart(5, '0')}`, `s${phoneSeq}`);

  const devicesOf = (phone: string) => sandbox.listDevices().filter((d) => d.phone === phone && d.connected);
  /** The sandbox sees the socket closed (it may lag the status the runner reported). */
  const waitForNoDevice = async (phone: string): Promise<void> => {
    const deadline = Date.now() + HANG_MS;
    while (devicesOf(phone).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(devicesOf(phone)).toHaveLength(0);
  };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await WaSandbox.create();
    await sandbox.start();
    transport = await transportEnv();
    runnerEnv = sandboxRunnerEnv(sandbox);
    runner = await startRunner(transport, runnerEnv);
    gw = await startGateway(transport, { ...idp.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
    client = new ApiClient(() => gw.url, idp, ORG);
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('links a session by QR and reports the account', async () => {
    const { id, phone } = await linkedSession();
    const me = await json<{ jid: string; lid?: string }>(await api(`/sessions/${id}/me`));
    expect(me.jid).toBe(`${phone}@s.whatsapp.net`);
    expect(me.lid).toMatch(/@lid$/);
    const noQr = await api(`/sessions/${id}/qr`, { accept: 'application/json' });
    expect(noQr.status).toBe(404);
    await expect(noQr.json()).resolves.toMatchObject({ error: { code: 'not_found', details: { reason: 'no_qr_pending' } } });
  });

  it('tells webhook receivers about the QR code and every status change, signed and numbered', async () => {
    const received: { type: string; sequence: number; sessionId: string; data: { status?: string; qr?: string } }[] = [];
    let verifier: Webhook | undefined;
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        verifier!.verify(body, req.headers as Record<string, string>);
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const hook = await json<{ secret: string }>(await api('/webhooks', { method: 'POST', body: { url, events: ['session.status', 'session.qr'] } }));
      verifier = new Webhook(hook.secret);
      const { id } = await linkedSession();
      const deadline = Date.now() + HANG_MS;
      while (!received.some((e) => e.sessionId === id && e.data.status === 'connected') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const mine = received.filter((e) => e.sessionId === id);
      expect(mine.map((e) => e.type)).toContain('session.qr');
      expect(mine.filter((e) => e.type === 'session.status').map((e) => e.data.status)).toEqual(expect.arrayContaining(['starting', 'qr', 'connected']));
      const sequences = mine.map((e) => e.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(sequences[0]).toBe(1);
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });

  it('serves the pending QR code as a PNG by default', async () => {
    const created = await json<SessionBody>(await api('/sessions', { method: 'POST', body: { name: 'png' } }));
    await api(`/sessions/${created.id}/start`, { method: 'POST' });
    await waitForStatus(created.id, ['qr']);
    const res = await api(`/sessions/${created.id}/qr`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    await api(`/sessions/${created.id}/stop`, { method: 'POST' });
  });

  it('links a session by pairing code', async () => {
    const phone = '491709990001';
    await sandbox.createPhone(phone);
    const created = await json<SessionBody>(await api('/sessions', { method: 'POST', body: { name: 'by code' } }));
    const res = await api(`/sessions/${created.id}/pairing-code`, { method: 'POST', body: { phoneNumber: phone } });
    expect(res.status).toBe(200);
    const { code } = await json<{ code: string }>(res);
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    await sandbox.enterPairingCode(phone, code);
    await expect(waitForStatus(created.id, ['connected'])).resolves.toMatchObject({ me: { jid: `${phone}@s.whatsapp.net` } });
  });

  it('refuses a phone number that is not E.164 digits', async () => {
    const created = await json<SessionBody>(await api('/sessions', { method: 'POST', body: { name: 'bad phone' } }));
    const res = await api(`/sessions/${created.id}/pairing-code`, { method: 'POST', body: { phoneNumber: '+49 (170) 12' } });
    expect(res.status).toBe(400);
    await expect(res.json()).resolves.toMatchObject({ error: { code: 'validation_error', details: { fields: [{ field: 'phoneNumber' }] } } });
  });

  it('never opens two sockets for one session, however often it is started', async () => {
    const { id, phone } = await linkedSession();
    const answers = await Promise.all([1, 2, 3, 4].map(() => api(`/sessions/${id}/start`, { method: 'POST' })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    // Each answer is the session as of the runner's answer: a start that opened another socket
    // would have put the session back to 'starting' before answering, so four 'connected'
    // answers prove no new socket was begun (rather than waiting to see whether one shows up).
    const bodies = await Promise.all(answers.map((a) => json<SessionBody>(a)));
    expect(bodies.map((b) => b.status)).toEqual(['connected', 'connected', 'connected', 'connected']);
    expect(devicesOf(phone)).toHaveLength(1);
  });

  it('stops and starts again without a new QR code', async () => {
    const { id, phone } = await linkedSession();
    await expect(json<SessionBody>(await api(`/sessions/${id}/stop`, { method: 'POST' }))).resolves.toMatchObject({ status: 'stopped' });
    expect(devicesOf(phone)).toHaveLength(0);
    await api(`/sessions/${id}/start`, { method: 'POST' });
    await waitForStatus(id, ['connected']);
    expect(devicesOf(phone)).toHaveLength(1);
  });

  it('reconnects by itself after a runner restart, without re-pairing', async () => {
    const { id, phone } = await linkedSession();
    await runner.stop('SIGTERM');
    runner = await startRunner(transport, runnerEnv);
    await waitForStatus(id, ['connected']);
    const deadline = Date.now() + HANG_MS;
    while (devicesOf(phone).length !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(devicesOf(phone)).toHaveLength(1);
  });

  it.each([
    ['restart_required', ['connected']],
    ['service_unavailable', ['connected']],
    ['connection_closed', ['connected']],
  ] as const)('recovers from %s', async (fault, expected) => {
    const { id, deviceJid } = await linkedSession();
    const before = await client.json<SessionBody>(`/sessions/${id}`);
    await sandbox.fault(deviceJid, fault);
    // Connected again, and since the fault: the session went through a reconnect and came back.
    await expect(client.waitForStatus(id, [...expected], 30_000, before.updatedAt)).resolves.toMatchObject({ status: 'connected' });
  });

  it.each([
    ['banned', 'banned'],
    ['version_rejected', 'version_rejected'],
  ] as const)('stops as failed (%s) when WhatsApp refuses the account or the client version', async (fault, reason) => {
    const { id, phone, deviceJid } = await linkedSession();
    await sandbox.fault(deviceJid, fault);
    await expect(waitForStatus(id, ['failed'])).resolves.toMatchObject({ statusReason: reason });
    await waitForNoDevice(phone);
  });

  it('stops for good when another client replaced the connection (440)', async () => {
    const { id, phone, deviceJid } = await linkedSession();
    await sandbox.fault(deviceJid, 'replaced');
    await expect(waitForStatus(id, ['failed'])).resolves.toMatchObject({ statusReason: 'replaced' });
    await waitForNoDevice(phone);
  });

  it('marks a session logged out when the phone removes the device, and asks for relink', async () => {
    const { id, deviceJid } = await linkedSession();
    await sandbox.fault(deviceJid, 'device_removed');
    await waitForStatus(id, ['logged_out']);
    const refused = await api(`/sessions/${id}/start`, { method: 'POST' });
    expect(refused.status).toBe(409);
    await expect(refused.json()).resolves.toMatchObject({ error: { code: 'conflict', message: expect.stringContaining('relink') } });
    expect((await api(`/sessions/${id}/start`, { method: 'POST', body: { relink: true } })).status).toBe(200);
    await waitForStatus(id, ['qr']);
    await api(`/sessions/${id}/stop`, { method: 'POST' });
  });

  it('unlinks the device at WhatsApp when a stopped session is logged out', async () => {
    const { id, phone } = await linkedSession();
    await api(`/sessions/${id}/stop`, { method: 'POST' });
    const res = await api(`/sessions/${id}/logout`, { method: 'POST' });
    expect(res.status).toBe(200);
    await expect(res.json()).resolves.toMatchObject({ status: 'logged_out' });
    expect(sandbox.listLoggedOut().some((d) => d.phone === phone)).toBe(true);
    expect(devicesOf(phone)).toHaveLength(0);
  });

  it('logs the device out at WhatsApp when the session is deleted', async () => {
    const { id, phone } = await linkedSession();
    const res = await api(`/sessions/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(sandbox.listLoggedOut().some((d) => d.phone === phone)).toBe(true);
    expect((await api(`/sessions/${id}`)).status).toBe(404);
  });

  it("answers another org's session exactly like a missing one", async () => {
    const created = await json<SessionBody>(await api('/sessions', { method: 'POST', body: { name: 'private' } }));
    const missing = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    for (const [method, suffix] of [
      ['GET', ''],
      ['DELETE', ''],
      ['POST', '/start'],
      ['POST', '/stop'],
      ['POST', '/logout'],
      ['GET', '/qr'],
      ['GET', '/me'],
    ] as const) {
      const theirs = await api(`/sessions/${created.id}${suffix}`, { method, org: OTHER_ORG });
      const none = await api(`/sessions/${missing}${suffix}`, { method, org: OTHER_ORG });
      expect([theirs.status, none.status]).toEqual([404, 404]);
      expect(await theirs.text()).toBe(await none.text());
    }
    const list = await json<{ data: SessionBody[] }>(await api('/sessions', { org: OTHER_ORG }));
    expect(list.data).toEqual([]);
  });

  it('requires manage for lifecycle calls and lets any member read', async () => {
    const created = await json<SessionBody>(await api('/sessions', { method: 'POST', body: { name: 'roles' } }));
    expect((await api(`/sessions/${created.id}/start`, { method: 'POST', role: 'member' })).status).toBe(403);
    expect((await api('/sessions', { method: 'POST', role: 'member', body: { name: 'x' } })).status).toBe(403);
    expect((await api(`/sessions/${created.id}`, { role: 'member' })).status).toBe(200);
  });

  it('pages through sessions with a cursor', async () => {
    const org = 'org-paging';
    for (let i = 0; i < 5; i++) await api('/sessions', { method: 'POST', org, body: { name: `p${i}` } });
    const first = await json<{ data: SessionBody[]; nextCursor: string }>(await api('/sessions?limit=3', { org }));
    expect(first.data).toHaveLength(3);
    const second = await json<{ data: SessionBody[]; nextCursor: string }>(await api(`/sessions?limit=3&cursor=${first.nextCursor}`, { org }));
    expect(second.data).toHaveLength(2);
    expect(second.nextCursor).toBe('');
    expect(new Set([...first.data, ...second.data].map((s) => s.id)).size).toBe(5);
  });
});

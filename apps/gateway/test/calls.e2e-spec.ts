import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv } from './harness';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver, type Received } from './webhook-receiver';
import { HANG_MS } from './deadlines';

/**
 * Incoming calls end to end: a virtual phone rings the session's devices through the sandbox,
 * the real Baileys socket reports the offer (`call.received`), and a rejection (by hand or by
 * the session's setting, which survives a runner restart) reaches the caller as WhatsApp's would.
 */
describe('calls (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-calls';
  const CALLEE = '4917600000001';
  const CALLER = '4917600000002';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  /** One runner database for the runner and the one that replaces it. */
  let runnerEnv: Record<string, string>;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let callee: string;
  const lids: Record<string, string> = {};

  const call = (path: string, method = 'GET', body?: unknown, role?: string, org?: string): Promise<Envelope> => client.envelope(path, { method, body, role, org });
  const offers = () => hooks.received.map((r) => r.body).filter((b) => b.sessionId === callee && b.type === 'call.received');
  const offerOf = async (callId: string): Promise<Received['body']> => {
    let hit: Received['body'] | undefined;
    await hooks.waitFor(() => !!(hit = offers().find((b) => b.data.callId === callId)), HANG_MS).catch(() => {
      throw new Error(`no call.received for ${callId}; got ${JSON.stringify(offers().map((b) => b.data))}`);
    });
    return hit!;
  };
  const callStatus = async (callId: string, wanted: string) => {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const found = sandbox.callsOf(CALLER).find((c) => c.callId === callId);
      if (found?.status === wanted || Date.now() > deadline) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    transport = await transportEnv();
    runnerEnv = sandboxRunnerEnv(sandbox);
    runner = await startRunner(transport, runnerEnv);
    gw = await startGateway(transport, { ...idp.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0' });
    client = new ApiClient(() => gw.url, idp, ORG);
    hooks = await WebhookReceiver.start();
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: hooks.url, events: ['call.received'] } });
    hooks.secrets = [hook.secret];
    for (const [phone, name] of [[CALLEE, 'Callee'], [CALLER, 'Caller']]) lids[phone] = (await sandbox.createPhone(phone, name)).lid;
    callee = (await client.linkSession(sandbox, CALLEE, 'callee')).id;
  });

  afterAll(async () => {
    await hooks?.close();
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('reports a voice call and rejects it: the caller sees it declined, and it cannot be rejected twice', async () => {
    const placed = sandbox.placeCall(CALLER, pn(CALLEE));
    const offer = await offerOf(placed.callId);
    expect(offer.data).toMatchObject({ callId: placed.callId, video: false, group: false, autoRejected: false, offline: false });
    const from = offer.data.from as { pn?: string; lid?: string };
    expect(from.pn === pn(CALLER) || from.lid === lids[CALLER]).toBe(true);
    const res = await call(`/sessions/${callee}/calls/${placed.callId}/reject`, 'POST');
    expect(res.status).toBe(204);
    expect(await callStatus(placed.callId, 'rejected')).toMatchObject({ status: 'rejected', rejectedBy: expect.stringContaining(CALLEE) });
    const again = await call(`/sessions/${callee}/calls/${placed.callId}/reject`, 'POST');
    expect({ status: again.status, code: again.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
  });

  it('reports a video group call; once the caller hangs up there is nothing to reject', async () => {
    const placed = sandbox.placeCall(CALLER, pn(CALLEE), { video: true, group: true });
    expect((await offerOf(placed.callId)).data).toMatchObject({ video: true, group: true, autoRejected: false });
    sandbox.endCall(CALLER, placed.callId);
    // The terminate reaches the runner after the offer; until then the call may still be rejectable.
    const deadline = Date.now() + HANG_MS;
    let res: Envelope;
    do res = await call(`/sessions/${callee}/calls/${placed.callId}/reject`, 'POST');
    while (res.status === 204 && Date.now() < deadline);
    expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    expect(sandbox.callsOf(CALLER).find((c) => c.callId === placed.callId)?.status).toBe('terminated');
  });

  it('rejects calls automatically with a reply once the session says so, and keeps the setting across a runner restart', async () => {
    expect((await call(`/sessions/${callee}/settings/calls`)).body).toEqual({ autoReject: false, rejectMessage: null });
    const set = await call(`/sessions/${callee}/settings/calls`, 'PUT', { autoReject: true, rejectMessage: 'No calls please, write instead.' });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ autoReject: true, rejectMessage: 'No calls please, write instead.' });

    const placed = sandbox.placeCall(CALLER, pn(CALLEE));
    expect((await offerOf(placed.callId)).data).toMatchObject({ autoRejected: true });
    expect(await callStatus(placed.callId, 'rejected')).toMatchObject({ status: 'rejected' });
    await sandbox.waitForReceived(CALLER, (m) => m.text === 'No calls please, write instead.', HANG_MS);

    const device = () => sandbox.listDevices().find((d) => d.phone === CALLEE)!;
    const logins = device().logins;
    await runner.stop();
    runner = await startRunner(transport, runnerEnv);
    // The new runner takes the session over and logs its device in again.
    const deadline = Date.now() + 60_000;
    while (!(device().connected && device().logins > logins) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(device()).toMatchObject({ connected: true, logins: logins + 1 });
    expect((await call(`/sessions/${callee}/settings/calls`)).body).toEqual({ autoReject: true, rejectMessage: 'No calls please, write instead.' });
    const after = sandbox.placeCall(CALLER, pn(CALLEE), { video: true });
    expect((await offerOf(after.callId)).data).toMatchObject({ autoRejected: true, video: true });
    expect(await callStatus(after.callId, 'rejected')).toMatchObject({ status: 'rejected' });

    const off = await call(`/sessions/${callee}/settings/calls`, 'PUT', { autoReject: false });
    expect(off.body).toEqual({ autoReject: false, rejectMessage: null });
  });

  it('rejects a call that rings while the session is still logging in, and replies once it is in', async () => {
    const device = () => sandbox.listDevices().find((d) => d.phone === CALLEE)!;
    const text = 'Logging in, no calls.';
    expect((await call(`/sessions/${callee}/settings/calls`, 'PUT', { autoReject: true, rejectMessage: text })).status).toBe(200);
    try {
      const logins = device().logins;
      // The next login's last answer waits: the device is in, its client not yet open (as on a
      // loaded machine, where those last round trips took seconds and a call rang in between).
      sandbox.holdLogin(CALLEE);
      await sandbox.fault(device().jid, 'connection_closed');
      const deadline = Date.now() + HANG_MS;
      while (!(device().connected && device().logins > logins) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const placed = sandbox.placeCall(CALLER, pn(CALLEE));
      expect((await offerOf(placed.callId)).data).toMatchObject({ autoRejected: true });
      expect(await callStatus(placed.callId, 'rejected')).toMatchObject({ status: 'rejected' });
      sandbox.releaseLogin(CALLEE);
      await sandbox.waitForReceived(CALLER, (m) => m.text === text, HANG_MS);
    } finally {
      sandbox.releaseLogin(CALLEE);
      expect((await call(`/sessions/${callee}/settings/calls`, 'PUT', { autoReject: false })).status).toBe(200);
    }
  });

  it("does not ring for a caller the account blocked", async () => {
    expect((await call(`/sessions/${callee}/blocklist/${encodeURIComponent(pn(CALLER))}`, 'PUT')).status).toBe(204);
    const silent = sandbox.placeCall(CALLER, pn(CALLEE));
    expect((await call(`/sessions/${callee}/blocklist/${encodeURIComponent(pn(CALLER))}`, 'DELETE')).status).toBe(204);
    const rings = sandbox.placeCall(CALLER, pn(CALLEE));
    await offerOf(rings.callId);
    // Offered earlier by the same caller, and never delivered.
    expect(offers().map((b) => b.data.callId)).not.toContain(silent.callId);
  });

  it('answers bad input, missing capabilities and other orgs with the envelope', async () => {
    for (const body of [{}, { autoReject: 'yes' }, { autoReject: true, rejectMessage: '' }, { autoReject: true, extra: 1 }]) {
      const res = await call(`/sessions/${callee}/settings/calls`, 'PUT', body);
      expect({ body, status: res.status, code: res.body.error?.code }).toEqual({ body, status: 400, code: 'validation_error' });
    }
    const badId = await call(`/sessions/${callee}/calls/not-an-id!/reject`, 'POST');
    expect({ status: badId.status, code: badId.body.error?.code }).toEqual({ status: 400, code: 'validation_error' });
    for (const role of ['member', 'viewer']) {
      const res = await call(`/sessions/${callee}/settings/calls`, 'PUT', { autoReject: true }, role);
      expect({ role, status: res.status, code: res.body.error?.code }).toEqual({ role, status: 403, code: 'forbidden' });
    }
    expect((await call(`/sessions/${callee}/calls/ABCDEF0123456789/reject`, 'POST', undefined, 'viewer')).status).toBe(403);
    for (const [path, method, body] of [
      [`/sessions/${callee}/settings/calls`, 'GET'],
      [`/sessions/${callee}/settings/calls`, 'PUT', { autoReject: true }],
      [`/sessions/${callee}/calls/ABCDEF0123456789/reject`, 'POST'],
    ] as [string, string, unknown?][]) {
      const res = await call(path, method, body, undefined, 'org-elsewhere');
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 404, code: 'not_found' });
    }
    expect((await call(`/sessions/${callee}/settings/calls`)).body).toMatchObject({ autoReject: false });
    const created = await client.json<{ id: string }>('/sessions', { method: 'POST', body: { name: 'never started' } });
    const unstarted = await call(`/sessions/${created.id}/settings/calls`, 'PUT', { autoReject: true });
    expect({ status: unstarted.status, code: unstarted.body.error?.code }).toEqual({ status: 409, code: 'session_not_connected' });
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { WaSandbox } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { dropTestSchemas, sandboxRunnerEnv, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess } from './harness';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

/**
 * Chat organisation end to end: the session writes archive, pin, read state, stars, clear and
 * delete into the account's app state through the real Baileys socket; the sandbox's phone (a
 * client that verifies every patch's MACs and LT-hash) reads them, and the phone's own changes
 * come back as `chat.updated` / `message.starred` events and in the chat list.
 */
describe('chat organisation (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-chat-organisation';
  const ALICE = '4917300000001';
  const CAROL = '4917300000003';
  const DAN = '4917300000004';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let runner: RunnerProcess;
  let gw: GatewayHandle;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let alice: string;
  let carolMessage: string;

  const call = (path: string, method = 'GET', body?: unknown, init: { org?: string; role?: string } = {}): Promise<Envelope> => client.envelope(path, { method, body, ...init });
  const chatPath = (phone: string, suffix = '') => `/sessions/${alice}/chats/${encodeURIComponent(pn(phone))}${suffix}`;
  const events = (type: string) => hooks.events(type, alice);
  const eventFor = (type: string, pred: (data: Record<string, unknown>) => boolean) => hooks.eventFor(alice, type, pred);
  const aboutChat = (phone: string) => (d: Record<string, unknown>) => (d.chat as { pn?: string } | undefined)?.pn === pn(phone);
  const listChats = async (query = ''): Promise<Array<Record<string, unknown>>> => {
    const res = await call(`/sessions/${alice}/chats${query}`);
    expect(res.status).toBe(200);
    return res.body.data ?? [];
  };
  const phoneEntries = async (collection: 'regular' | 'regular_low' | 'regular_high') => {
    const state = await sandbox.appState(ALICE);
    expect(state.failures).toEqual([]);
    return state.collections[collection].entries;
  };
  /** Waits until the phone's decoded app state has an entry the predicate accepts. */
  const phoneHas = async (collection: 'regular' | 'regular_low' | 'regular_high', pred: (e: { index: string[]; value: Record<string, any> }) => boolean) => {
    const deadline = Date.now() + 15_000;
    while (!(await phoneEntries(collection)).some(pred)) {
      if (Date.now() > deadline) throw new Error(`the phone has no matching ${collection} entry: ${JSON.stringify(await phoneEntries(collection))}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await (await WaSandbox.create()).start();
    const transport = await transportEnv();
    runner = await startRunner(transport, sandboxRunnerEnv(sandbox));
    gw = await startGateway(transport, { ...idp.env, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', SEND_MIN_INTERVAL_MS: '0', SEND_JITTER_MS: '0', SEND_SYNC_TIMEOUT_MS: '10000' });
    client = new ApiClient(() => gw.url, idp, ORG);
    hooks = await WebhookReceiver.start();
    const hook = await client.json<{ secret: string }>('/webhooks', { method: 'POST', body: { url: hooks.url, events: ['chat.updated', 'message.starred', 'message.received', 'status.received', 'message.status', 'message.reaction'] } });
    hooks.secrets = [hook.secret];
    await sandbox.createPhone(ALICE, 'Alice');
    await sandbox.createPhone(CAROL, 'Carol');
    await sandbox.createPhone(DAN, 'Dan');
    alice = (await client.linkSession(sandbox, ALICE, 'alice')).id;
    carolMessage = (await sandbox.sendMessage(CAROL, pn(ALICE), { type: 'text', text: 'hi from carol' })).id;
    await sandbox.sendMessage(DAN, pn(ALICE), { type: 'text', text: 'hi from dan' });
    await hooks.waitFor(() => events('message.received').length >= 2, 20_000);
  });

  afterAll(async () => {
    await hooks?.close();
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('archives and pins a chat: the phone reads both patches, the answer and the list show them, events follow in order', async () => {
    // Incoming messages raise Baileys' own unread counter: that is no change to the chat's organisation.
    expect(events('chat.updated')).toEqual([]);
    let res = await call(chatPath(CAROL), 'PATCH', { archived: true, pinned: true });
    // Right after linking the phone's key share may still be on its way: WhatsApp clients wait for it.
    const deadline = Date.now() + 20_000;
    while (res.status === 409 && res.body.error?.code === 'conflict' && Date.now() < deadline) res = await call(chatPath(CAROL), 'PATCH', { archived: true, pinned: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ chat: pn(CAROL), archived: true, pinned: true, unread: false });
    await phoneHas('regular_low', (e) => e.index[0] === 'archive' && e.index[1] === pn(CAROL) && e.value.archiveChatAction?.archived === true);
    await phoneHas('regular_low', (e) => e.index[0] === 'pin_v1' && e.index[1] === pn(CAROL) && e.value.pinAction?.pinned === true);
    const archived = await eventFor('chat.updated', (d) => aboutChat(CAROL)(d) && d.archived === true);
    const pinned = await eventFor('chat.updated', (d) => aboutChat(CAROL)(d) && d.pinned === true);
    // Baileys may fold both into one update of the chat; never the pin before the archive.
    expect(archived.sequence).toBeLessThanOrEqual(pinned.sequence as number);
    const sequences = events('chat.updated').map((b) => b.sequence as number);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    const carol = (await listChats()).find((c) => c.jid === pn(CAROL));
    expect(carol).toMatchObject({ archived: true, pinned: true, unread: false });
    expect((await listChats('?archived=true')).map((c) => c.jid)).toEqual([pn(CAROL)]);
    expect((await listChats('?archived=false')).map((c) => c.jid)).toEqual([pn(DAN)]);
  });

  it("records the phone's mute and mark-unread as chat.updated and filters the list by them", async () => {
    const until = Date.now() + 8 * 3600_000;
    await sandbox.phoneChatAction(ALICE, { type: 'mute', chat: pn(DAN), until });
    await sandbox.phoneChatAction(ALICE, { type: 'markRead', chat: pn(DAN), read: false });
    await eventFor('chat.updated', (d) => aboutChat(DAN)(d) && d.mutedUntil === until);
    await eventFor('chat.updated', (d) => aboutChat(DAN)(d) && d.unread === true);
    expect((await listChats('?unread=true')).map((c) => ({ jid: c.jid, mutedUntil: c.mutedUntil }))).toEqual([{ jid: pn(DAN), mutedUntil: until }]);
    expect((await listChats('?pinned=true&archived=true')).map((c) => c.jid)).toEqual([pn(CAROL)]);
    // Marked read again here: the phone reads it, and the filter no longer matches.
    expect((await call(chatPath(DAN), 'PATCH', { unread: false, mutedUntil: null })).body).toMatchObject({ unread: false });
    await phoneHas('regular_low', (e) => e.index[0] === 'markChatAsRead' && e.index[1] === pn(DAN) && e.value.markChatAsReadAction?.read === true);
    await phoneHas('regular_high', (e) => e.index[0] === 'mute' && e.index[1] === pn(DAN) && e.value.muteAction?.muted === false);
    expect(await listChats('?unread=true')).toEqual([]);
  });

  it('stars a received message for every device; a star from the phone arrives as message.starred', async () => {
    const res = await call(`/sessions/${alice}/messages/${carolMessage}/star`, 'PUT', { starred: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ messageId: carolMessage, starred: true });
    await phoneHas('regular_low', (e) => e.index[0] === 'star' && e.index[2] === carolMessage && e.value.starAction?.starred === true);
    await eventFor('message.starred', (d) => d.messageId === carolMessage && d.starred === true);
    await sandbox.phoneChatAction(ALICE, { type: 'star', chat: pn(CAROL), messageId: carolMessage, fromMe: false, starred: false });
    await eventFor('message.starred', (d) => d.messageId === carolMessage && d.starred === false);
  });

  it("forwards a stored message with WhatsApp's forwarded flag and score; an unknown one is a 404 before anything is queued", async () => {
    const res = await call(`/sessions/${alice}/messages`, 'POST', { chat: pn(DAN), type: 'forward', messageId: carolMessage, fromChat: pn(CAROL) });
    expect([res.status, res.body.status, res.body.waMessageId]).toEqual([200, 'sent', expect.any(String)]);
    const got = await sandbox.waitForReceived(DAN, (m) => m.id === res.body.waMessageId);
    expect(got).toMatchObject({ kind: 'text', text: 'hi from carol', forwarded: { score: 1 } });
    const missing = await call(`/sessions/${alice}/messages`, 'POST', { chat: pn(DAN), type: 'forward', messageId: 'NOSUCHMESSAGE', fromChat: pn(CAROL) });
    expect([missing.status, missing.body.error?.code]).toEqual([404, 'not_found']);
  });

  it("posts text statuses to a list of contacts or all of them, and records contacts' statuses", async () => {
    const listed = await call(`/sessions/${alice}/statuses`, 'POST', { type: 'text', text: 'closed today', backgroundColor: '#25D366', font: 1, contacts: [pn(CAROL)] });
    expect([listed.status, listed.body.recipients]).toEqual([201, 1]);
    const seen = await sandbox.waitForReceived(CAROL, (m) => m.id === listed.body.waMessageId);
    expect(seen).toMatchObject({ chat: 'status@broadcast', text: 'closed today', fromPn: pn(ALICE) });
    // Carol views it: WhatsApp reports the view as a read receipt naming her.
    await sandbox.viewStatus(CAROL, pn(ALICE), [listed.body.waMessageId as string]);
    const view = await eventFor('message.status', (d) => d.messageId === listed.body.waMessageId && d.status === 'read');
    const carolLid = sandbox.listPhones().find((p) => p.phone === CAROL)?.lid;
    // Named by her one id, the phone number the status was addressed to, with the LID the receipt came from.
    expect(view.data).toMatchObject({ chat: { jid: 'status@broadcast' }, recipient: { jid: pn(CAROL), pn: pn(CAROL), lid: carolLid } });
    // Carol reacts to it: WhatsApp's phones send the reaction to the status's author, keyed to status@broadcast.
    await sandbox.sendMessage(CAROL, pn(ALICE), { type: 'reaction', targetId: listed.body.waMessageId as string, emoji: '🔥' });
    const reaction = await eventFor('message.reaction', (d) => d.targetMessageId === listed.body.waMessageId);
    expect(reaction.data).toMatchObject({ sender: { jid: pn(CAROL), lid: carolLid }, fromMe: false, emoji: '🔥' });
    const everyone = await call(`/sessions/${alice}/statuses`, 'POST', { type: 'text', text: 'open again' });
    expect([everyone.status, everyone.body.recipients]).toEqual([201, 2]);
    await sandbox.waitForReceived(DAN, (m) => m.id === everyone.body.waMessageId && m.chat === 'status@broadcast');
    expect(sandbox.received(DAN).some((m) => m.id === listed.body.waMessageId)).toBe(false);
    const { id } = await sandbox.postStatus(DAN, 'new menu', [ALICE]);
    const event = await eventFor('status.received', (d) => d.messageId === id);
    expect(event.data).toMatchObject({ text: 'new menu', type: 'text', sender: { pn: pn(DAN) } });
    const stored = await call(`/sessions/${alice}/statuses`);
    expect((stored.body.data ?? []).map((m) => m.id)).toEqual(expect.arrayContaining([id, listed.body.waMessageId]));
    for (const body of [{ type: 'image', text: 'x' }, { type: 'text', text: 'x', backgroundColor: 'red' }, { type: 'text', text: '' }]) {
      expect((await call(`/sessions/${alice}/statuses`, 'POST', body)).status).toBe(400);
    }
  });

  it('posts image and video statuses: the listed contact decrypts the same bytes, with the caption', async () => {
    const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    for (const [type, mimetype, size] of [['image', 'image/jpeg', 60_000], ['video', 'video/mp4', 120_000]] as const) {
      const data = randomBytes(size);
      const posted = await call(`/sessions/${alice}/statuses`, 'POST', { type, base64: data.toString('base64'), mimetype, caption: `${type} status`, contacts: [pn(CAROL)] });
      expect([posted.status, posted.body.recipients]).toEqual([201, 1]);
      const seen = await sandbox.waitForReceived(CAROL, (m) => m.id === posted.body.waMessageId);
      expect(seen).toMatchObject({ chat: 'status@broadcast', fromPn: pn(ALICE) });
      expect(seen.media).toMatchObject({ type, mimetype, verified: true, sha256: sha256(data), caption: `${type} status` });
      expect(sandbox.received(DAN).some((m) => m.id === posted.body.waMessageId)).toBe(false);
    }
    // Media rules as for message sends: exactly one source, a mimetype with base64.
    for (const body of [{ type: 'image', contacts: [pn(CAROL)] }, { type: 'video', base64: 'AAAA' }, { type: 'image', url: 'http://127.0.0.1/x.jpg', base64: 'AAAA', mimetype: 'image/jpeg' }]) {
      expect((await call(`/sessions/${alice}/statuses`, 'POST', body)).status).toBe(400);
    }
  });

  it('clears a chat (kept, emptied) and takes a deletion from the phone off the list', async () => {
    expect((await call(chatPath(CAROL, '/clear'), 'POST')).status).toBe(204);
    await phoneHas('regular_high', (e) => e.index[0] === 'clearChat' && e.index[1] === pn(CAROL));
    await eventFor('chat.updated', (d) => aboutChat(CAROL)(d) && d.cleared === true);
    expect((await call(chatPath(CAROL, '/messages'))).body.data).toEqual([]);
    await sandbox.phoneChatAction(ALICE, { type: 'delete', chat: pn(DAN) });
    await eventFor('chat.updated', (d) => aboutChat(DAN)(d) && d.deleted === true);
    expect((await listChats()).map((c) => c.jid)).not.toContain(pn(DAN));
    expect((await call(chatPath(CAROL), 'DELETE')).status).toBe(204);
    await phoneHas('regular_high', (e) => e.index[0] === 'deleteChat' && e.index[1] === pn(CAROL));
    expect((await listChats()).map((c) => c.jid)).not.toContain(pn(CAROL));
  });

  it('refuses bad input with 400, a reader without send with 403, another org with 404', async () => {
    for (const [path, method, body] of [
      [chatPath(CAROL), 'PATCH', {}],
      [chatPath(CAROL), 'PATCH', { archived: 'yes' }],
      [chatPath(CAROL), 'PATCH', { mutedUntil: -5 }],
      [`/sessions/${alice}/chats/not-a-jid`, 'PATCH', { archived: true }],
      [`/sessions/${alice}/messages/X/star`, 'PUT', {}],
      [`/sessions/${alice}/chats?archived=maybe`, 'GET', undefined],
    ] as const) {
      const res = await call(path, method, body);
      expect([path, method, res.status, res.body.error?.code]).toEqual([path, method, 400, 'validation_error']);
    }
    expect((await call(chatPath(CAROL), 'PATCH', { archived: true }, { role: 'viewer' })).status).toBe(403);
    const foreign = await call(chatPath(CAROL), 'PATCH', { archived: true }, { org: 'org-someone-else' });
    expect([foreign.status, foreign.body.error?.code]).toEqual([404, 'not_found']);
    expect((await call(`/sessions/${alice}/messages/NOSUCHMESSAGE/star`, 'PUT', { starred: true })).status).toBe(404);
  });
});

import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';

type Entry = { index: string[]; value: Record<string, any> };

/**
 * WhatsApp Business labels end to end: a business account's session creates, edits, deletes and
 * assigns labels through the real Baileys socket; the sandbox's phone (which checks every patch's
 * MACs) reads them, and its own label changes come back as events and in the chat list. A plain
 * account is refused, as WhatsApp has no labels there.
 */
describe('labels (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-labels';
  const BIZ = '4918100000001';
  const PLAIN = '4918100000002';
  const CAROL = '4918100000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let biz: string;
  let plain: string;
  let carolMessage: string;

  const call = (path: string, method = 'GET', body?: unknown, init: { org?: string; role?: string } = {}): Promise<Envelope> => client.envelope(path, { method, body, ...init });
  const events = (type: string) => hooks.events(type, biz);
  const eventFor = (type: string, pred: (data: Record<string, unknown>) => boolean) => hooks.eventFor(biz, type, pred);
  /** Waits until the phone's decoded `regular` collection has an entry the predicate accepts (and no patch failed its checks). */
  const phoneHas = async (pred: (e: Entry) => boolean) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const state = await sandbox.appState(BIZ);
      expect(state.failures).toEqual([]);
      if (state.collections.regular.entries.some(pred)) return;
      if (Date.now() > deadline) throw new Error(`the phone has no matching entry: ${JSON.stringify(state.collections.regular.entries)}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, phones: [[BIZ, 'Shop'], [PLAIN, 'Plain'], [CAROL, 'Carol']], events: ['label.updated', 'label.association', 'message.received'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    sandbox.setBusiness(BIZ, true);
    biz = (await client.linkSession(sandbox, BIZ, 'shop')).id;
    plain = (await client.linkSession(sandbox, PLAIN, 'plain')).id;
    carolMessage = (await sandbox.sendMessage(CAROL, pn(BIZ), { type: 'text', text: 'do you ship?' })).id;
    await hooks.waitFor(() => events('message.received').length >= 1, 20_000);
  });

  afterAll(() => stack?.close());

  it('creates a label the phone reads, and puts it on a chat the list shows and filters by', async () => {
    expect((await call(`/sessions/${biz}/labels`)).body).toEqual({ data: [], nextCursor: '' });
    let created = await call(`/sessions/${biz}/labels`, 'POST', { name: 'Lead', color: 2 });
    // Right after linking the phone's key share may still be on its way.
    const deadline = Date.now() + 20_000;
    while (created.status === 409 && Date.now() < deadline) created = await call(`/sessions/${biz}/labels`, 'POST', { name: 'Lead', color: 2 });
    expect([created.status, created.body]).toEqual([201, { id: '1', name: 'Lead', color: 2 }]);
    await phoneHas((e) => e.index[0] === 'label_edit' && e.index[1] === '1' && e.value.labelEditAction?.name === 'Lead');
    const put = await call(`/sessions/${biz}/labels/1/chats/${encodeURIComponent(pn(CAROL))}`, 'PUT');
    expect([put.status, put.body]).toEqual([200, { labelId: '1', chat: pn(CAROL), labeled: true }]);
    await phoneHas((e) => e.index[0] === 'label_jid' && e.index[1] === '1' && e.index[2] === pn(CAROL) && e.value.labelAssociationAction?.labeled === true);
    const chats = (await call(`/sessions/${biz}/chats`)).body.data ?? [];
    expect(chats.find((c) => c.jid === pn(CAROL))).toMatchObject({ labels: ['1'] });
    expect(((await call(`/sessions/${biz}/chats?label=1`)).body.data ?? []).map((c) => c.jid)).toEqual([pn(CAROL)]);
    expect((await call(`/sessions/${biz}/chats?label=99`)).body.data).toEqual([]);
  });

  it('labels a message, renames and deletes labels; the phone sees each', async () => {
    const put = await call(`/sessions/${biz}/labels/1/messages/${carolMessage}`, 'PUT');
    expect([put.status, put.body.messageId, put.body.labeled]).toEqual([200, carolMessage, true]);
    await phoneHas((e) => e.index[0] === 'label_message' && e.index[1] === '1' && e.index[3] === carolMessage);
    expect((await call(`/sessions/${biz}/messages/${carolMessage}`)).body).toMatchObject({ id: carolMessage, labels: ['1'] });
    const page = (await call(`/sessions/${biz}/chats/${encodeURIComponent(pn(CAROL))}/messages`)).body.data ?? [];
    expect(page.find((m) => m.id === carolMessage)).toMatchObject({ labels: ['1'] });
    const renamed = await call(`/sessions/${biz}/labels/1`, 'PATCH', { name: 'Customer' });
    expect([renamed.status, renamed.body]).toEqual([200, { id: '1', name: 'Customer', color: 2 }]);
    await phoneHas((e) => e.index[0] === 'label_edit' && e.index[1] === '1' && e.value.labelEditAction?.name === 'Customer');
    const second = await call(`/sessions/${biz}/labels`, 'POST', { name: 'Spam' });
    expect(second.body).toMatchObject({ id: '2', name: 'Spam' });
    const removed = await call(`/sessions/${biz}/labels/2`, 'DELETE');
    expect([removed.status, removed.body]).toEqual([204, {}]);
    await phoneHas((e) => e.index[0] === 'label_edit' && e.index[1] === '2' && e.value.labelEditAction?.deleted === true);
    expect(((await call(`/sessions/${biz}/labels`)).body.data ?? []).map((l) => l.id)).toEqual(['1']);
  });

  it("records the phone's labels and label assignments as events and in the reads", async () => {
    await sandbox.phoneChatAction(BIZ, { type: 'labelEdit', labelId: '7', name: 'VIP', color: 5 });
    await sandbox.phoneChatAction(BIZ, { type: 'labelChat', labelId: '7', chat: pn(CAROL), labeled: true });
    await sandbox.phoneChatAction(BIZ, { type: 'labelChat', labelId: '1', chat: pn(CAROL), labeled: false });
    await eventFor('label.updated', (d) => d.labelId === '7' && d.name === 'VIP' && d.color === 5);
    await eventFor('label.association', (d) => d.labelId === '7' && (d.chat as { pn?: string }).pn === pn(CAROL) && d.labeled === true);
    await eventFor('label.association', (d) => d.labelId === '1' && d.labeled === false && !d.messageId);
    expect(((await call(`/sessions/${biz}/labels`)).body.data ?? []).map((l) => [l.id, l.name])).toEqual([['1', 'Customer'], ['7', 'VIP']]);
    expect(((await call(`/sessions/${biz}/chats`)).body.data ?? []).find((c) => c.jid === pn(CAROL))).toMatchObject({ labels: ['7'] });
  });

  it('refuses labels on a plain account (403), bad input (400), unknown labels and messages (404), another org (404)', async () => {
    const refused = await call(`/sessions/${plain}/labels`, 'POST', { name: 'Lead' });
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'forbidden']);
    for (const [path, method, body] of [
      [`/sessions/${biz}/labels`, 'POST', { name: '' }],
      [`/sessions/${biz}/labels`, 'POST', { name: 'x', color: 99 }],
      [`/sessions/${biz}/labels/1`, 'PATCH', {}],
      [`/sessions/${biz}/labels/a b`, 'DELETE', undefined],
      [`/sessions/${biz}/labels/1/chats/not-a-jid`, 'PUT', undefined],
    ] as const) {
      const res = await call(path, method, body);
      expect([path, method, res.status, res.body.error?.code]).toEqual([path, method, 400, 'validation_error']);
    }
    expect((await call(`/sessions/${biz}/labels/42`, 'PATCH', { name: 'x' })).status).toBe(404);
    expect((await call(`/sessions/${biz}/labels/1/messages/NOSUCHMESSAGE`, 'PUT')).status).toBe(404);
    expect((await call(`/sessions/${biz}/labels`, 'POST', { name: 'x' }, { role: 'viewer' })).status).toBe(403);
    expect((await call(`/sessions/${biz}/labels`, 'GET', undefined, { org: 'org-someone-else' })).status).toBe(404);
  });
});

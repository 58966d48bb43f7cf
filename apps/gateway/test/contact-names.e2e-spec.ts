import type { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import type { ApiClient, Envelope } from './session-fixture';
import type { WebhookReceiver } from './webhook-receiver';
import { HANG_MS } from './deadlines';

/**
 * Saved contact names end to end. Two sessions are linked to one phone (two companions of one
 * account): a name saved through one travels through the account's app state to the phone (a
 * client that verifies every patch's MACs and LT-hash) and to the other session; a name the phone
 * saves or removes comes back to both as `contact.updated` and in the contact reads. A third
 * session linked after the collection was compacted starts from the server's snapshot, a blob the
 * runner fetches from the media host (`WA_MEDIA_BASE_URL`), and the patches after it.
 */
describe('contact names (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-contact-names';
  const ALICE = '4917300000021';
  const CAROL = '4917300000023';
  const DAN = '4917300000024';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let first: string;
  let second: string;

  const call = (path: string, method = 'GET', body?: unknown, init: { org?: string; role?: string } = {}): Promise<Envelope> => client.envelope(path, { method, body, ...init });
  const namePath = (session: string, phone: string) => `/sessions/${session}/contacts/${encodeURIComponent(pn(phone))}/name`;
  const contact = async (session: string, phone: string): Promise<Record<string, unknown>> => {
    const res = await call(`/sessions/${session}/contacts/${encodeURIComponent(pn(phone))}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const renamed = (session: string, phone: string, name: string | null) =>
    hooks.eventFor(session, 'contact.updated', (d) => (d.contact as { pn?: string }).pn === pn(phone) && d.name === name);
  /** Waits until the phone's decoded `critical_unblock_low` collection says what the predicate wants. */
  const phoneSees = async (pred: (entries: Array<{ index: string[]; value: Record<string, any> }>) => boolean) => {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const state = await sandbox.appState(ALICE);
      expect(state.failures).toEqual([]);
      if (pred(state.collections.critical_unblock_low.entries)) return;
      if (Date.now() > deadline) throw new Error(`the phone's contacts are not as expected: ${JSON.stringify(state.collections.critical_unblock_low.entries)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const savedOnPhone = (phone: string) => (entries: Array<{ index: string[]; value: Record<string, any> }>) =>
    entries.find((e) => e.index[0] === 'contact' && e.index[1] === pn(phone))?.value.contactAction?.fullName as string | undefined;

  beforeAll(async () => {
    stack = await FeatureStack.start({
      org: ORG,
      phones: [[ALICE, 'Alice'], [CAROL, 'Carol'], [DAN, 'Dan']],
      events: ['contact.updated', 'message.received', 'chat.updated', 'label.association'],
      // Compacted every 5 patches, so that a companion linked late gets a snapshot without hundreds of changes.
      sandbox: { appStateSnapshotEvery: 5 },
    });
    ({ sandbox, client, hooks } = stack);
    sandbox.setBusiness(ALICE, true);
    first = (await client.linkSession(sandbox, ALICE, 'alice')).id;
    second = (await client.linkSession(sandbox, ALICE, 'alice on a second device')).id;
    await sandbox.sendMessage(CAROL, pn(ALICE), { type: 'text', text: 'hi from carol' });
    await hooks.waitFor(() => hooks.events('message.received', first).length >= 1 && hooks.events('message.received', second).length >= 1, HANG_MS);
  });

  afterAll(() => stack?.close());

  it('saves a name through app state: the phone and the other companion get it, reads tell it from the push name', async () => {
    let res = await call(namePath(first, CAROL), 'PUT', { fullName: 'Carol Baker (shop)' });
    // Right after linking the phone's key share may still be on its way: WhatsApp clients wait for it.
    const deadline = Date.now() + HANG_MS;
    while (res.status === 409 && res.body.error?.code === 'conflict' && Date.now() < deadline) res = await call(namePath(first, CAROL), 'PUT', { fullName: 'Carol Baker (shop)' });
    // Carol wrote to us, so WhatsApp told the session her LID too.
    expect([res.status, res.body]).toEqual([200, { jid: pn(CAROL), pn: pn(CAROL), lid: expect.stringMatching(/@lid$/), name: 'Carol Baker (shop)', pushName: 'Carol' }]);
    await phoneSees((entries) => savedOnPhone(CAROL)(entries) === 'Carol Baker (shop)');
    const phoneEntry = (await sandbox.appState(ALICE)).collections.critical_unblock_low.entries.find((e) => e.index[1] === pn(CAROL));
    expect(phoneEntry?.value).toMatchObject({ contactAction: { fullName: 'Carol Baker (shop)', firstName: 'Carol' } });
    // Our own write comes back from Baileys as the other devices see it: one event on each session.
    await renamed(first, CAROL, 'Carol Baker (shop)');
    await renamed(second, CAROL, 'Carol Baker (shop)');
    await expect(contact(second, CAROL)).resolves.toMatchObject({ name: 'Carol Baker (shop)', pushName: 'Carol' });
    const list = await call(`/sessions/${first}/contacts`);
    expect(list.body.data?.find((c) => c.jid === pn(CAROL))).toEqual(res.body);
    // The chat list shows the name the account keeps, as WhatsApp's apps do.
    const chats = await call(`/sessions/${first}/chats`);
    expect(chats.body.data?.find((c) => c.jid === pn(CAROL))).toMatchObject({ name: 'Carol Baker (shop)' });
  });

  it("takes the phone's names and removals, and removes one for every device", async () => {
    // A contact the session never heard from: known by its saved name alone.
    await sandbox.phoneChatAction(ALICE, { type: 'contact', jid: pn(DAN), fullName: 'Dan the plumber' });
    await renamed(first, DAN, 'Dan the plumber');
    await renamed(second, DAN, 'Dan the plumber');
    await expect(contact(first, DAN)).resolves.toEqual({ jid: pn(DAN), pn: pn(DAN), name: 'Dan the plumber' });
    await sandbox.phoneChatAction(ALICE, { type: 'contact', jid: pn(CAROL), fullName: null });
    await renamed(second, CAROL, null);
    await expect(contact(second, CAROL)).resolves.toEqual({ jid: pn(CAROL), pn: pn(CAROL), lid: expect.stringMatching(/@lid$/), pushName: 'Carol' });

    const removed = await call(namePath(second, DAN), 'DELETE');
    expect(removed.status).toBe(204);
    await phoneSees((entries) => savedOnPhone(DAN)(entries) === undefined && entries.every((e) => e.index[1] !== pn(DAN)));
    await renamed(first, DAN, null);
    // Dan was known by his saved name alone: without it the session knows nothing of him.
    const gone = await call(`/sessions/${first}/contacts/${encodeURIComponent(pn(DAN))}`);
    expect(gone.status).toBe(404);
    expect((await call(`/sessions/${first}/contacts`)).body.data?.map((c) => c.jid)).toEqual([pn(CAROL)]);
    // Every change reached each session once per write, in the order the account made them.
    const names = (session: string) => hooks.events('contact.updated', session).map((e) => [(e.data.contact as { pn: string }).pn, e.data.name]);
    for (const session of [first, second]) {
      await hooks.waitFor(() => names(session).length >= 4, HANG_MS);
      expect(names(session)).toEqual([
        [pn(CAROL), 'Carol Baker (shop)'],
        [pn(DAN), 'Dan the plumber'],
        [pn(CAROL), null],
        [pn(DAN), null],
      ]);
    }
  });

  it('links a late companion from the app-state snapshot: saved names, labels and chat states as the phone has them', async () => {
    // critical_unblock_low had 4 patches: the 5th is compacted into a snapshot, the 6th follows it.
    await sandbox.phoneChatAction(ALICE, { type: 'contact', jid: pn(CAROL), fullName: 'Carol (new shop)' });
    await sandbox.phoneChatAction(ALICE, { type: 'contact', jid: pn(DAN), fullName: 'Dan again' });
    await sandbox.phoneChatAction(ALICE, { type: 'labelEdit', labelId: '4', name: 'Supplier', color: 3 });
    await sandbox.phoneChatAction(ALICE, { type: 'labelChat', labelId: '4', chat: pn(CAROL), labeled: true });
    await sandbox.phoneChatAction(ALICE, { type: 'archive', chat: pn(CAROL), archived: true });
    await sandbox.phoneChatAction(ALICE, { type: 'pin', chat: pn(DAN), pinned: true });
    const phone = await sandbox.appState(ALICE);
    expect([phone.collections.critical_unblock_low.version, phone.failures]).toEqual([6, []]);
    const late = (await client.linkSession(sandbox, ALICE, 'alice linked late')).id;
    await renamed(late, CAROL, 'Carol (new shop)');
    await renamed(late, DAN, 'Dan again');
    await expect(contact(late, DAN)).resolves.toEqual({ jid: pn(DAN), pn: pn(DAN), name: 'Dan again' });
    // Only the state counts: the names removed before the snapshot never reach the late session.
    expect(hooks.events('contact.updated', late).map((e) => e.data.name)).not.toContain(null);
    const deadline = Date.now() + HANG_MS;
    let labels = await call(`/sessions/${late}/labels`);
    while (!labels.body.data?.length && Date.now() < deadline) labels = await call(`/sessions/${late}/labels`);
    expect(labels.body.data).toEqual([{ id: '4', name: 'Supplier', color: 3 }]);
    await hooks.eventFor(late, 'label.association', (d) => d.labelId === '4' && (d.chat as { pn?: string }).pn === pn(CAROL) && d.labeled === true);
    await hooks.eventFor(late, 'chat.updated', (d) => (d.chat as { pn?: string }).pn === pn(CAROL) && d.archived === true);
    await hooks.eventFor(late, 'chat.updated', (d) => (d.chat as { pn?: string }).pn === pn(DAN) && d.pinned === true);
  });

  it('refuses bad names and addresses, callers without send, and other orgs', async () => {
    const bad = async (path: string, body: unknown, method = 'PUT') => {
      const res = await call(path, method, body);
      return [res.status, res.body.error?.code];
    };
    await expect(bad(namePath(first, CAROL), {})).resolves.toEqual([400, 'validation_error']);
    await expect(bad(namePath(first, CAROL), { fullName: '   ' })).resolves.toEqual([400, 'validation_error']);
    await expect(bad(namePath(first, CAROL), { fullName: 'x'.repeat(257) })).resolves.toEqual([400, 'validation_error']);
    await expect(bad(namePath(first, CAROL), { fullName: 'Carol', nickname: 'C' })).resolves.toEqual([400, 'validation_error']);
    await expect(bad(`/sessions/${first}/contacts/${encodeURIComponent('120363000000000001@g.us')}/name`, { fullName: 'A group' })).resolves.toEqual([400, 'validation_error']);
    await expect(bad(`/sessions/${first}/contacts/${encodeURIComponent(pn('4917399999999'))}`, undefined, 'GET')).resolves.toEqual([404, 'not_found']);
    const viewer = await call(namePath(first, CAROL), 'PUT', { fullName: 'Carol' }, { role: 'viewer' });
    expect([viewer.status, viewer.body.error?.code]).toEqual([403, 'forbidden']);
    const otherOrg = await call(namePath(first, CAROL), 'PUT', { fullName: 'Carol' }, { org: 'org-contact-names-other' });
    const missing = await call(namePath('01HZX3K9Q2T4W6Y8A0C2E4G6J8', CAROL), 'PUT', { fullName: 'Carol' });
    expect([otherOrg.status, otherOrg.body.error?.code, otherOrg.body.error?.message]).toEqual([404, 'not_found', missing.body.error?.message]);
    const otherRead = await call(`/sessions/${first}/contacts/${encodeURIComponent(pn(CAROL))}`, 'GET', undefined, { org: 'org-contact-names-other' });
    expect(otherRead.status).toBe(404);
  });
});

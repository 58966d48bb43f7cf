import type { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { type ApiClient, type Envelope, handedOver } from './session-fixture';
import type { WebhookReceiver } from './webhook-receiver';

/**
 * Number checks, business profiles and the blocklist end to end: two sessions of one
 * organization, virtual contacts (one a business account), the real runner and Baileys sockets,
 * and the sandbox stopping what WhatsApp stops once someone is blocked.
 */
describe('contacts and blocking (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-contacts';
  const BLOCKER = '4917400000001';
  const OTHER = '4917400000002';
  const SHOP = '4917400000003';
  const PEST = '4917400000004';
  const NOBODY = '4917400000099';
  const EARLY = '4917400000005';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let blocker: string;
  let other: string;
  const lids: Record<string, string> = {};

  const call = (path: string, method = 'GET', body?: unknown, role?: string, org?: string): Promise<Envelope> => client.envelope(path, { method, body, role, org });
  const events = (session: string, type: string) => hooks.events(type, session);
  const eventFor = (session: string, type: string, pred: (data: Record<string, unknown>) => boolean) => hooks.eventFor(session, type, pred);
  const isPerson = (pair: unknown, phone: string) => {
    const p = pair as { pn?: string; lid?: string } | undefined;
    return !!p && (p.pn === pn(phone) || p.lid === lids[phone]);
  };
  const textOf = (data: Record<string, unknown>) => (data.content as { text?: string } | undefined)?.text;
  const outboxStatus = async (session: string, outboxId: string, wanted: string) => {
    const deadline = Date.now() + 20_000;
    let status = '';
    while (Date.now() < deadline && status !== wanted) {
      status = ((await call(`/sessions/${session}/outbox/${outboxId}`)).body.status as string) ?? '';
      if (status !== wanted) await new Promise((r) => setTimeout(r, 50));
    }
    return status;
  };

  beforeAll(async () => {
    stack = await FeatureStack.start({
      org: ORG,
      phones: [[BLOCKER, 'Blocker'], [OTHER, 'Other'], [SHOP, 'Bakery'], [PEST, 'Pest'], [EARLY, 'Early']],
      events: ['contact.blocked', 'contact.unblocked', 'message.received', 'message.status'],
      unpaced: true,
    });
    ({ sandbox, client, hooks } = stack);
    Object.assign(lids, stack.lids);
    blocker = (await client.linkSession(sandbox, BLOCKER, 'blocker')).id;
    other = (await client.linkSession(sandbox, OTHER, 'other')).id;
  });

  afterAll(() => stack?.close());

  it('checks several numbers in one call, in the order asked, with jid and lid of those on WhatsApp', async () => {
    const res = await call(`/sessions/${blocker}/contacts/check`, 'POST', { phones: [SHOP, NOBODY, OTHER] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: [
        { phone: SHOP, exists: true, jid: pn(SHOP), lid: lids[SHOP] },
        { phone: NOBODY, exists: false },
        { phone: OTHER, exists: true, jid: pn(OTHER), lid: lids[OTHER] },
      ],
      nextCursor: '',
    });
  });

  it('refuses bad checks with 400', async () => {
    for (const body of [{ phones: [] }, { phones: ['+491701234567'] }, { phones: [SHOP, SHOP] }, { phones: Array.from({ length: 51 }, (_, i) => `49170000${String(i).padStart(4, '0')}`) }, {}]) {
      const res = await call(`/sessions/${blocker}/contacts/check`, 'POST', body);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status: 400, code: 'validation_error' });
    }
  });

  it("reads a business account's profile, and answers 404 for a personal account", async () => {
    sandbox.setProfile(SHOP, { business: { description: 'Fresh bread every morning.', category: 'Bakery', email: 'hello@bakery.example', website: 'https://bakery.example', address: 'Hauptstr. 1, Berlin' } });
    const res = await call(`/sessions/${blocker}/contacts/${encodeURIComponent(pn(SHOP))}/business`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ jid: pn(SHOP), description: 'Fresh bread every morning.', category: 'Bakery', email: 'hello@bakery.example', website: 'https://bakery.example', address: 'Hauptstr. 1, Berlin' });
    const personal = await call(`/sessions/${blocker}/contacts/${encodeURIComponent(pn(OTHER))}/business`);
    expect(personal.status).toBe(404);
    expect(personal.body.error?.code).toBe('not_found');
  });

  it('blocks a contact: WhatsApp lists it, the account gets contact.blocked, and the contact\'s messages stop arriving', async () => {
    expect((await call(`/sessions/${blocker}/blocklist`)).body).toEqual({ data: [], nextCursor: '' });
    const res = await call(`/sessions/${blocker}/blocklist/${encodeURIComponent(pn(PEST))}`, 'PUT');
    expect(res.status).toBe(204);
    expect(sandbox.blocklistOf(BLOCKER)).toEqual([PEST]);
    await eventFor(blocker, 'contact.blocked', (d) => isPerson(d.contact, PEST));
    const list = await call(`/sessions/${blocker}/blocklist`);
    expect(list.body.data).toEqual([expect.objectContaining({ lid: lids[PEST] })]);
    expect(isPerson((list.body.data as unknown[])[0], PEST)).toBe(true);

    await sandbox.sendMessage(PEST, pn(BLOCKER), { type: 'text', text: 'while blocked' });
    // The account's own messages to the blocked contact are refused, as WhatsApp's apps refuse them.
    const sent = await call(`/sessions/${blocker}/messages`, 'POST', { chat: pn(PEST), type: 'text', text: 'to a blocked contact' });
    expect({ status: sent.status, code: sent.body.error?.code, details: (sent.body.error as { details?: Record<string, unknown> } | undefined)?.details }).toEqual({
      status: 403,
      code: 'forbidden',
      details: expect.objectContaining({ reason: 'contact_blocked', outboxId: expect.any(String) }),
    });
    // Asked for by its LID too, and queued: the entry fails with the reason, and says so in an event.
    const queued = await client.envelope(`/sessions/${blocker}/messages`, { method: 'POST', body: { chat: lids[PEST], type: 'text', text: 'queued for a blocked contact' }, headers: { prefer: 'respond-async' } });
    expect(queued.status).toBe(202);
    expect(await outboxStatus(blocker, queued.body.outboxId as string, 'failed')).toBe('failed');
    expect((await call(`/sessions/${blocker}/outbox/${queued.body.outboxId as string}`)).body.error).toMatch(/^contact_blocked: /);
    const failed = await eventFor(blocker, 'message.status', (d) => d.outboxId === queued.body.outboxId);
    expect(failed.data).toEqual(expect.objectContaining({ messageId: queued.body.waMessageId, status: 'failed', error: 'contact_blocked' }));

    const unblocked = await call(`/sessions/${blocker}/blocklist/${encodeURIComponent(pn(PEST))}`, 'DELETE');
    expect(unblocked.status).toBe(204);
    await eventFor(blocker, 'contact.unblocked', (d) => isPerson(d.contact, PEST));
    expect(sandbox.blocklistOf(BLOCKER)).toEqual([]);
    await sandbox.sendMessage(PEST, pn(BLOCKER), { type: 'text', text: 'after unblock' });
    await eventFor(blocker, 'message.received', (d) => textOf(d) === 'after unblock');
    // Sent earlier by the same phone, and never delivered.
    expect(events(blocker, 'message.received').map((b) => textOf(b.data))).not.toContain('while blocked');
    expect(sandbox.received(PEST).map((m) => m.text)).not.toContain('to a blocked contact');
    expect(sandbox.received(PEST).map((m) => m.text)).not.toContain('queued for a blocked contact');
    const after = await call(`/sessions/${blocker}/messages`, 'POST', { chat: pn(PEST), type: 'text', text: 'friends again' });
    expect(after.body.status).toEqual(handedOver());
    await sandbox.waitForReceived(PEST, (m) => m.text === 'friends again');
  });

  it("stops a blocked session's messages to the blocker, though WhatsApp acks them as usual", async () => {
    await call(`/sessions/${blocker}/blocklist/${encodeURIComponent(pn(OTHER))}`, 'PUT');
    await eventFor(blocker, 'contact.blocked', (d) => isPerson(d.contact, OTHER));
    const sent = await call(`/sessions/${other}/messages`, 'POST', { chat: pn(BLOCKER), type: 'text', text: 'do you hear me?' });
    expect(sent.body.status).toEqual(handedOver());
    await call(`/sessions/${blocker}/blocklist/${encodeURIComponent(pn(OTHER))}`, 'DELETE');
    await eventFor(blocker, 'contact.unblocked', (d) => isPerson(d.contact, OTHER));
    const again = await call(`/sessions/${other}/messages`, 'POST', { chat: pn(BLOCKER), type: 'text', text: 'and now?' });
    expect(again.body.status).toEqual(handedOver());
    await eventFor(blocker, 'message.received', (d) => textOf(d) === 'and now?');
    expect(events(blocker, 'message.received').map((b) => textOf(b.data))).not.toContain('do you hear me?');
  });

  it('tells the linked devices when the phone blocks someone', async () => {
    sandbox.setBlocked(OTHER, PEST, true);
    await eventFor(other, 'contact.blocked', (d) => isPerson(d.contact, PEST));
    expect((await call(`/sessions/${other}/blocklist`)).body.data).toEqual([expect.objectContaining({ lid: lids[PEST] })]);
    // Blocked on the phone: this device refuses to send to the contact from then on.
    const refused = await call(`/sessions/${other}/messages`, 'POST', { chat: pn(PEST), type: 'text', text: 'blocked on the phone' });
    expect({ status: refused.status, reason: (refused.body.error as { details?: Record<string, unknown> } | undefined)?.details?.reason }).toEqual({ status: 403, reason: 'contact_blocked' });
    sandbox.setBlocked(OTHER, PEST, false);
    await eventFor(other, 'contact.unblocked', (d) => isPerson(d.contact, PEST));
    const allowed = await call(`/sessions/${other}/messages`, 'POST', { chat: pn(PEST), type: 'text', text: 'unblocked on the phone' });
    expect(allowed.body.status).toEqual(handedOver());
    await sandbox.waitForReceived(PEST, (m) => m.text === 'unblocked on the phone');
  });

  it('knows a blocklist the phone had before the session linked: it is listed and sends to it are refused', async () => {
    // Blocked on the phone before this device existed: no notification reaches the new device,
    // so only the blocklist read at login can tell it.
    sandbox.setBlocked(EARLY, PEST, true);
    const early = (await client.linkSession(sandbox, EARLY, 'early')).id;
    try {
      expect((await call(`/sessions/${early}/blocklist`)).body.data).toEqual([expect.objectContaining({ lid: lids[PEST] })]);
      const refused = await call(`/sessions/${early}/messages`, 'POST', { chat: pn(PEST), type: 'text', text: 'blocked before the link' });
      expect({ status: refused.status, reason: (refused.body.error as { details?: Record<string, unknown> } | undefined)?.details?.reason }).toEqual({ status: 403, reason: 'contact_blocked' });
      expect(events(early, 'contact.blocked')).toEqual([]);
      expect(sandbox.received(PEST).map((m) => m.text)).not.toContain('blocked before the link');
    } finally {
      sandbox.setBlocked(EARLY, PEST, false);
    }
  });

  it('answers refusals and bad input with the envelope', async () => {
    const path = `/sessions/${blocker}/blocklist/${encodeURIComponent(pn(PEST))}`;
    const viewer = await call(path, 'PUT', undefined, 'viewer');
    expect({ status: viewer.status, code: viewer.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    expect((await call(`/sessions/${blocker}/blocklist`, 'GET', undefined, 'viewer')).status).toBe(200);
    for (const [p, method, body] of [
      [path, 'PUT'],
      [`/sessions/${blocker}/blocklist`, 'GET'],
      [`/sessions/${blocker}/contacts/check`, 'POST', { phones: [SHOP] }],
      [`/sessions/${blocker}/contacts/${encodeURIComponent(pn(SHOP))}/business`, 'GET'],
    ] as [string, string, unknown?][]) {
      const res = await call(p, method, body, undefined, 'org-elsewhere');
      expect({ p, status: res.status, code: res.body.error?.code }).toEqual({ p, status: 404, code: 'not_found' });
    }
    expect(sandbox.blocklistOf(BLOCKER)).toEqual([]);
    const nobody = await call(`/sessions/${blocker}/blocklist/${encodeURIComponent(pn(NOBODY))}`, 'PUT');
    expect({ status: nobody.status, code: nobody.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    for (const jid of ['not-a-jid', '120363041234567890@g.us']) {
      const res = await call(`/sessions/${blocker}/blocklist/${encodeURIComponent(jid)}`, 'PUT');
      expect({ jid, status: res.status, code: res.body.error?.code }).toEqual({ jid, status: 400, code: 'validation_error' });
    }
  });
});

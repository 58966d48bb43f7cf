import { WaSandbox, type PhoneInfo } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';
import { HANG_MS } from './deadlines';

interface Pair {
  jid: string;
  pn?: string;
  lid?: string;
}

/**
 * One chat per contact, measured from outside: a contact that has not written first is reached by
 * phone number, while WhatsApp (the sandbox, as WhatsApp does for LID-migrated accounts) sends its
 * receipts and messages from its LID. Every event, the chat list and each chat page name the
 * contact by one id (its phone-number jid) and carry the other form; routes take any form.
 */
describe('one chat per contact (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-one-chat';
  const ACCOUNT = '4917600000001';
  const CONTACT = '4917600000002';
  const STRANGER = '4917600000003';
  const NOBODY = '4917600000099';
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let account: PhoneInfo;
  let contact: PhoneInfo;
  let stranger: PhoneInfo;
  let sessionId: string;
  const sent: string[] = [];
  const received: string[] = [];

  const call = (path: string, method = 'GET', body?: unknown, org?: string): Promise<Envelope> => client.envelope(path, { method, body, org });
  const forms = () => [CONTACT, contact.jid, contact.lid];
  const one = (): Pair => ({ jid: contact.jid, pn: contact.jid, lid: contact.lid });
  const statusOf = (mid: string, status: string) => hooks.eventFor(sessionId, 'message.status', (d) => d.messageId === mid && d.status === status);
  /** Every message of a chat, read page by page (two at a time) until the cursor runs out. */
  const allPages = async (chat: string): Promise<Record<string, unknown>[]> => {
    const out: Record<string, unknown>[] = [];
    let cursor = '';
    for (let i = 0; i < 50; i++) {
      const page = await call(`/sessions/${sessionId}/chats/${encodeURIComponent(chat)}/messages?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      out.push(...(page.body.data ?? []));
      cursor = page.body.nextCursor as string;
      if (!cursor) return out;
    }
    throw new Error(`pages of ${chat} never ended`);
  };

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, events: ['message.status', 'message.received', 'message.reaction'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    account = await sandbox.createPhone(ACCOUNT, 'Account');
    contact = await sandbox.createPhone(CONTACT, 'Contact');
    stranger = await sandbox.createPhone(STRANGER, 'Stranger');
    sessionId = (await client.linkSession(sandbox, ACCOUNT, 'account')).id;

    // The account writes first, by phone number; the contact's phone answers with LID-addressed
    // delivery receipts, then reads, replies and reacts from its LID.
    for (const text of ['one', 'two', 'three']) {
      const res = await call(`/sessions/${sessionId}/messages`, 'POST', { chat: contact.jid, type: 'text', text });
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: expect.objectContaining({ waMessageId: expect.any(String) }) });
      sent.push(res.body.waMessageId as string);
    }
    for (const mid of sent) await sandbox.waitForReceived(CONTACT, (m) => m.id === mid, HANG_MS);
    for (const mid of sent) await statusOf(mid, 'delivered');
    await sandbox.sendReceipt(CONTACT, account.jid, sent, 'read');
    for (const mid of sent) await statusOf(mid, 'read');
    for (const text of ['four', 'five']) received.push((await sandbox.sendMessage(CONTACT, account.jid, { type: 'text', text })).id);
    await sandbox.sendMessage(CONTACT, account.jid, { type: 'reaction', targetId: sent[0]!, emoji: '👍' });
    for (const mid of received) await hooks.eventFor(sessionId, 'message.received', (d) => d.messageId === mid);
    await hooks.eventFor(sessionId, 'message.reaction', (d) => d.targetMessageId === sent[0]);
  });

  afterAll(() => stack?.close());

  it('names the contact by one chat id in every status, message and reaction event, with both forms', () => {
    const statuses = hooks.events('message.status', sessionId).filter((b) => sent.includes(b.data.messageId as string));
    expect(statuses.map((b) => b.data.status)).toEqual(expect.arrayContaining(['sent', 'delivered', 'read']));
    for (const b of statuses) expect({ status: b.data.status, chat: b.data.chat }).toEqual({ status: b.data.status, chat: one() });
    for (const b of hooks.events('message.received', sessionId)) expect(b.data).toMatchObject({ chat: one(), sender: one() });
    for (const b of hooks.events('message.reaction', sessionId)) expect(b.data).toMatchObject({ chat: one(), sender: one() });
  });

  it('lists one chat for the contact, and the same complete pages under any of its forms', async () => {
    const chats = (await call(`/sessions/${sessionId}/chats`)).body.data ?? [];
    const theirs = chats.filter((c) => c.pn === contact.jid || c.lid === contact.lid || c.jid === contact.jid || c.jid === contact.lid);
    const everyone = [...sent, ...received].sort();
    let first: string[] | undefined;
    for (const form of forms()) {
      const page = await allPages(form);
      const ids = page.map((m) => m.id as string);
      // Complete and without duplicates, in the same order whichever form names the chat.
      expect({ form, ids: [...ids].sort() }).toEqual({ form, ids: everyone });
      expect({ form, ids }).toEqual({ form, ids: first ?? ids });
      first ??= ids;
      expect(new Set(page.map((m) => m.chat))).toEqual(new Set([contact.jid]));
      for (const m of page) expect(m.chatIds).toEqual(one());
      expect(page.filter((m) => !m.fromMe).map((m) => m.senderIds)).toEqual([one(), one()]);
      expect(page.filter((m) => !m.fromMe).map((m) => m.sender)).toEqual([contact.jid, contact.jid]);
      expect(page.filter((m) => m.fromMe).map((m) => m.status)).toEqual(['read', 'read', 'read']);
    }
    expect(theirs).toEqual([expect.objectContaining({ ...one(), lastMessageId: first![0] })]);
    for (const form of forms()) {
      const single = await call(`/sessions/${sessionId}/messages/${sent[0]}?chat=${encodeURIComponent(form)}`);
      expect({ form, status: single.status, chat: single.body.chat }).toEqual({ form, status: 200, chat: contact.jid });
    }
  });

  it("answers a contact's phone-number and LID forms, asking WhatsApp for one it has not met", async () => {
    for (const form of forms()) {
      const ids = await call(`/sessions/${sessionId}/contacts/${encodeURIComponent(form)}/ids`);
      expect({ form, status: ids.status, body: ids.body }).toEqual({ form, status: 200, body: one() });
    }
    const met = await call(`/sessions/${sessionId}/contacts/${STRANGER}/ids`);
    expect(met).toEqual({ status: 200, body: { jid: stranger.jid, pn: stranger.jid, lid: stranger.lid } });
    // Known now: its LID alone finds the pair.
    expect((await call(`/sessions/${sessionId}/contacts/${encodeURIComponent(stranger.lid)}/ids`)).body).toEqual({ jid: stranger.jid, pn: stranger.jid, lid: stranger.lid });
    expect((await call(`/sessions/${sessionId}/contacts/${NOBODY}/ids`)).body.error?.code).toBe('not_found');
  });

  it('answers bad input, other organizations and unknown sessions with the envelope', async () => {
    expect((await call(`/sessions/${sessionId}/contacts/not-a-jid/ids`)).body.error?.code).toBe('validation_error');
    const foreign = await call(`/sessions/${sessionId}/contacts/${CONTACT}/ids`, 'GET', undefined, 'org-other');
    expect(foreign.status).toBe(404);
    expect(foreign.body.error?.code).toBe('not_found');
    expect((await call(`/sessions/01HZZZZZZZZZZZZZZZZZZZZZZZ/contacts/${CONTACT}/ids`)).status).toBe(404);
  });
});

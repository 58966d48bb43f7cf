import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, type Envelope } from './session-fixture';
import { WebhookReceiver, type Received } from './webhook-receiver';
import { HANG_MS } from './deadlines';

/**
 * Presence end to end: a session subscribes to a virtual contact and to another session, the
 * sandbox forwards presence only to subscribers and only as the owner's privacy allows, and chat
 * states reach the chat's peer; every one is a `presence.update` event.
 */
describe('presence (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-presence';
  const WATCHER = '4917500000001';
  const SHOWN = '4917500000002';
  const FRIEND = '4917500000003';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let watcher: string;
  let shown: string;
  const lids: Record<string, string> = {};

  const call = (path: string, method = 'GET', body?: unknown, role?: string, org?: string): Promise<Envelope> => client.envelope(path, { method, body, role, org });
  const updates = (session: string) => hooks.received.map((r) => r.body).filter((b) => b.sessionId === session && b.type === 'presence.update');
  const isPerson = (pair: unknown, phone: string) => {
    const p = pair as { pn?: string; lid?: string } | undefined;
    return !!p && (p.pn === pn(phone) || p.lid === lids[phone]);
  };
  /** The first presence.update of `phone` at `session` after the first `after` ones that `pred` accepts. */
  const nextUpdate = async (session: string, phone: string, after: number, pred: (data: Record<string, unknown>) => boolean) => {
    let hit: Received['body'] | undefined;
    const mine = () => updates(session).filter((b) => isPerson(b.data.contact, phone)).slice(after);
    await hooks.waitFor(() => !!(hit = mine().find((b) => pred(b.data))), HANG_MS).catch(() => {
      throw new Error(`no matching presence.update of ${phone} at ${session}; got ${JSON.stringify(mine().map((b) => b.data))}`);
    });
    return { hit: hit!, before: mine().slice(0, mine().indexOf(hit!)) };
  };
  const count = (session: string, phone: string) => updates(session).filter((b) => isPerson(b.data.contact, phone)).length;

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, phones: [[WATCHER, 'Watcher'], [SHOWN, 'Shown'], [FRIEND, 'Friend']], events: ['presence.update'] });
    ({ sandbox, client, hooks } = stack);
    Object.assign(lids, stack.lids);
    watcher = (await client.linkSession(sandbox, WATCHER, 'watcher')).id;
    shown = (await client.linkSession(sandbox, SHOWN, 'shown')).id;
  });

  afterAll(() => stack?.close());

  it("subscribes to a contact: WhatsApp answers the current presence, then forwards each change with the last-seen time", async () => {
    const res = await call(`/sessions/${watcher}/contacts/${encodeURIComponent(pn(FRIEND))}/presence/subscribe`, 'POST');
    expect(res.status).toBe(204);
    const first = await nextUpdate(watcher, FRIEND, 0, (d) => d.presence === 'unavailable');
    expect(first.hit.data.lastSeen).toBeUndefined();
    sandbox.setPhonePresence(FRIEND, true);
    const online = await nextUpdate(watcher, FRIEND, 1, (d) => d.presence === 'available');
    expect(isPerson(online.hit.data.chat, FRIEND)).toBe(true);
    const before = Date.now();
    sandbox.setPhonePresence(FRIEND, false);
    const offline = await nextUpdate(watcher, FRIEND, 2, (d) => d.presence === 'unavailable');
    expect(offline.hit.data.lastSeen).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
  });

  it('keeps online and last seen from a subscriber that privacy shuts out', async () => {
    sandbox.setProfile(FRIEND, { privacy: { last: 'contacts', online: 'match_last_seen' } });
    const seen = count(watcher, FRIEND);
    sandbox.setPhonePresence(FRIEND, true);
    sandbox.setPhonePresence(FRIEND, false);
    // Presence goes out in order: had "online" been forwarded, it would come before this.
    const { hit, before } = await nextUpdate(watcher, FRIEND, seen, (d) => d.presence === 'unavailable');
    expect(hit.data.lastSeen).toBeUndefined();
    expect(before).toEqual([]);
    // In the owner's address book, the watcher sees both again.
    sandbox.setProfile(FRIEND, { contacts: [WATCHER] });
    sandbox.setPhonePresence(FRIEND, true);
    await nextUpdate(watcher, FRIEND, seen + 1, (d) => d.presence === 'available');
  });

  it("forwards another session's online and offline to the subscribed session", async () => {
    expect((await call(`/sessions/${watcher}/contacts/${encodeURIComponent(pn(SHOWN))}/presence/subscribe`, 'POST')).status).toBe(204);
    const seen = (await nextUpdate(watcher, SHOWN, 0, (d) => d.presence === 'unavailable')).before.length + 1;
    expect((await call(`/sessions/${shown}/presence`, 'PUT', { presence: 'available' })).status).toBe(204);
    await nextUpdate(watcher, SHOWN, seen, (d) => d.presence === 'available');
    expect((await call(`/sessions/${shown}/presence`, 'PUT', { presence: 'unavailable' })).status).toBe(204);
    const offline = await nextUpdate(watcher, SHOWN, seen + 1, (d) => d.presence === 'unavailable');
    expect(typeof offline.hit.data.lastSeen).toBe('number');
  });

  it('reports typing, recording and paused in the chat', async () => {
    for (const [state, expected] of [['typing', 'composing'], ['recording', 'recording'], ['paused', 'paused']] as const) {
      const seen = count(watcher, SHOWN);
      expect((await call(`/sessions/${shown}/chats/${encodeURIComponent(pn(WATCHER))}/presence`, 'POST', { presence: state })).status).toBe(204);
      const { hit } = await nextUpdate(watcher, SHOWN, seen, (d) => d.presence === expected);
      expect(isPerson(hit.data.chat, SHOWN)).toBe(true);
    }
    const seen = count(watcher, FRIEND);
    await sandbox.sendPresence(FRIEND, pn(WATCHER), 'composing');
    await nextUpdate(watcher, FRIEND, seen, (d) => d.presence === 'composing');
  });

  it('answers bad input, missing capability, other orgs and unconnected sessions with the envelope', async () => {
    for (const [path, method, body] of [
      [`/sessions/${shown}/presence`, 'PUT', { presence: 'busy' }],
      [`/sessions/${shown}/presence`, 'PUT', {}],
      [`/sessions/${watcher}/contacts/${encodeURIComponent('120363041234567890@g.us')}/presence/subscribe`, 'POST'],
      [`/sessions/${watcher}/contacts/not-a-jid/presence/subscribe`, 'POST'],
    ] as [string, string, unknown?][]) {
      const res = await call(path, method, body);
      expect({ path, status: res.status, code: res.body.error?.code }).toEqual({ path, status: 400, code: 'validation_error' });
    }
    const viewer = await call(`/sessions/${shown}/presence`, 'PUT', { presence: 'available' }, 'viewer');
    expect({ status: viewer.status, code: viewer.body.error?.code }).toEqual({ status: 403, code: 'forbidden' });
    const elsewhere = await call(`/sessions/${shown}/presence`, 'PUT', { presence: 'available' }, undefined, 'org-elsewhere');
    expect({ status: elsewhere.status, code: elsewhere.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
    const created = await client.json<{ id: string }>('/sessions', { method: 'POST', body: { name: 'unlinked' } });
    const unlinked = await call(`/sessions/${created.id}/presence`, 'PUT', { presence: 'available' });
    expect({ status: unlinked.status, code: unlinked.body.error?.code }).toEqual({ status: 409, code: 'session_not_connected' });
  });
});

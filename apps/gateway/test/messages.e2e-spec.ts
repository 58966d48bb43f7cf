import { WaSandbox, type PhoneInfo, type ReceivedMessage } from '@wa/wa-sandbox';
import { TestIdentityProvider } from './auth-fixture';
import { ApiClient, type ApiCall, handedOver } from './session-fixture';
import { dropTestSchemas, startGateway, startRunner, transportEnv, type GatewayHandle, type RunnerProcess, type TransportEnv, sandboxRunnerEnv } from './harness';
import { HANG_MS } from './deadlines';

interface SendResult {
  mode: 'sync' | 'async';
  outboxId: string;
  replayed: boolean;
  status: string;
  timestamp: number;
  waMessageId: string;
}

interface StoredMessage {
  id: string;
  chat: string;
  sender: string;
  fromMe: boolean;
  type: string;
  poll?: { options: string[]; tally: { option: string; votes: number; voters: string[] }[] };
}

/**
 * Sending end to end: the gateway's outbox and dispatcher, the real runner process with the
 * real Baileys socket, and virtual phones of the sandbox that decode what they receive.
 */
describe('messages (outbox + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-messages';
  const OTHER_ORG = 'org-intruder';
  const OWNER = '4917100000001';
  const CONTACT = '4917100000002';
  const SECOND = '4917100000003';
  let idp: TestIdentityProvider;
  let sandbox: WaSandbox;
  let transport: TransportEnv;
  let runner: RunnerProcess;
  let runnerEnv: Record<string, string>;
  let gw: GatewayHandle;
  let client: ApiClient;
  let owner: PhoneInfo;
  let contact: PhoneInfo;
  let second: PhoneInfo;
  let sessionId: string;
  let keySeq = 0;

  const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
  const send = async (body: Record<string, unknown>, init: ApiCall = {}): Promise<SendResult> => {
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: contact.jid, ...body }, ...init });
    expect([200, 202]).toContain(res.status);
    return json<SendResult>(res);
  };
  // A deadline for a hang: after a runner kill, the take-over (lease expiry) comes first.
  const receivedBy = (phone: string, pred: (m: ReceivedMessage) => boolean): Promise<ReceivedMessage> => sandbox.waitForReceived(phone, pred, 60_000);
  const countAt = (phone: string, id: string): number => sandbox.received(phone).filter((m) => m.id === id && !m.fromOwnDevice).length;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /**
   * Sends a marker to `chat` and waits for it at `phone`: messages of one chat go out in order, so
   * any copy of an earlier message that was still on its way has arrived by then.
   */
  async function markerAfter(phone: string, chat: string): Promise<void> {
    const marker = await send({ chat, type: 'text', text: `marker ${++keySeq}` }, { headers: { prefer: 'respond-async' } });
    await receivedBy(phone, (m) => m.id === marker.waMessageId);
  }

  async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = HANG_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe().catch(() => undefined);
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  const waitConnected = () => client.waitForStatus(sessionId, ['connected']);
  const stored = (mid: string) => eventually(async () => {
    const res = await client.call(`/sessions/${sessionId}/messages/${mid}`);
    return res.status === 200 ? json<StoredMessage>(res) : undefined;
  }, `message ${mid} in the store`);
  const outbox = (id: string) => client.json<{ status: string; attempts: number; waMessageId: string; error: string | null }>(`/sessions/${sessionId}/outbox/${id}`);

  beforeAll(async () => {
    idp = await TestIdentityProvider.start();
    sandbox = await WaSandbox.create();
    await sandbox.start();
    owner = await sandbox.createPhone(OWNER, 'Owner');
    contact = await sandbox.createPhone(CONTACT, 'Contact');
    second = await sandbox.createPhone(SECOND, 'Second');
    transport = await transportEnv();
    runnerEnv = sandboxRunnerEnv(sandbox);
    runner = await startRunner(transport, runnerEnv);
    gw = await startGateway(transport, {
      ...idp.env,
      SEND_MIN_INTERVAL_MS: '0',
      SEND_JITTER_MS: '0',
      OUTBOX_POLL_INTERVAL_MS: '100',
      OUTBOX_RETRY_BASE_MS: '200',
      OUTBOX_RETRY_MAX_MS: '1000',
      OUTBOX_CLAIM_TTL_MS: '5000',
      SEND_SYNC_TIMEOUT_MS: '10000',
    });
    client = new ApiClient(() => gw.url, idp, ORG);
    sessionId = (await client.linkSession(sandbox, OWNER, 'sender')).id;
  });

  afterAll(async () => {
    await gw?.close();
    await runner?.stop();
    await sandbox?.stop();
    await idp?.close();
    await dropTestSchemas();
  });

  it('delivers every message type the contact can decode, answering a sync SendResult once handed to WhatsApp', async () => {
    const cases: [Record<string, unknown>, Partial<ReceivedMessage>][] = [
      [{ type: 'text', text: `hi @${CONTACT}`, mentions: [contact.jid] }, { kind: 'text', text: `hi @${CONTACT}` }],
      [{ type: 'location', latitude: 52.52, longitude: 13.405, name: 'Office' }, { kind: 'location', location: expect.objectContaining({ latitude: 52.52, longitude: 13.405, name: 'Office' }) }],
      [
        { type: 'contacts', contacts: [{ displayName: 'Jane', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nEND:VCARD' }] },
        { kind: 'contact', contact: { displayName: 'Jane', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane\nEND:VCARD' } },
      ],
      [{ type: 'poll', name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 }, { kind: 'poll', poll: { name: 'Lunch?', options: ['Pizza', 'Sushi'], selectableCount: 1 } }],
    ];
    for (const [body, expected] of cases) {
      const result = await send(body);
      expect(result).toEqual({ mode: 'sync', outboxId: expect.any(String), replayed: false, status: handedOver(), timestamp: expect.any(Number), waMessageId: expect.any(String) });
      await expect(receivedBy(CONTACT, (m) => m.id === result.waMessageId)).resolves.toMatchObject(expected);
    }
  });

  it('replies to a message, quoting it', async () => {
    const { id } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'text', text: 'question?' });
    const incoming = await stored(id);
    const result = await send({ type: 'text', text: 'answer', replyTo: { id, sender: incoming.sender } });
    await expect(receivedBy(CONTACT, (m) => m.id === result.waMessageId)).resolves.toMatchObject({ text: 'answer' });
  });

  it('sets a reaction and removes it; removing again is a no-op that still answers a SendResult', async () => {
    const target = await send({ type: 'text', text: 'react to me' });
    const path = `/sessions/${sessionId}/messages/${target.waMessageId}/reaction`;
    const set = await client.call(path, { method: 'POST', body: { chat: contact.jid, sender: owner.jid, emoji: '👍' } });
    expect(set.status).toBe(200);
    await expect(receivedBy(CONTACT, (m) => m.kind === 'reaction' && m.reaction?.targetId === target.waMessageId && m.reaction.emoji === '👍')).resolves.toBeDefined();
    const removed = await client.call(path, { method: 'DELETE', body: { chat: contact.jid, sender: owner.jid, emoji: '🙈' } });
    expect(removed.status).toBe(200);
    await expect(json<SendResult>(removed)).resolves.toMatchObject({ mode: 'sync', replayed: false, status: handedOver() });
    await expect(receivedBy(CONTACT, (m) => m.kind === 'reaction' && m.reaction?.targetId === target.waMessageId && m.reaction.removed)).resolves.toBeDefined();
    const again = await client.call(path, { method: 'DELETE', body: { chat: contact.jid, sender: owner.jid } });
    expect(again.status).toBe(200);
    await expect(json<SendResult>(again)).resolves.toMatchObject({ outboxId: expect.any(String), waMessageId: expect.any(String) });
  });

  it('votes on a poll: the contact decrypts it, a second vote replaces it, [] clears it', async () => {
    const { id: pollId } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'poll', name: 'Where?', options: ['Here', 'There', 'Nowhere'], selectableCount: 0 });
    const poll = await stored(pollId);
    const vote = async (options: string[]): Promise<string[]> => {
      const res = await client.call(`/sessions/${sessionId}/messages/${pollId}/vote`, { method: 'POST', body: { chat: poll.chat, sender: poll.sender, options } });
      expect(res.status).toBe(200);
      const result = await json<SendResult>(res);
      const got = await receivedBy(CONTACT, (m) => m.id === result.waMessageId && m.kind === 'vote');
      expect(got.vote?.pollId).toBe(pollId);
      return got.vote?.selectedOptions ?? [];
    };
    await expect(vote(['Here', 'There'])).resolves.toEqual(['Here', 'There']);
    await expect(vote(['Nowhere'])).resolves.toEqual(['Nowhere']);
    await expect(vote([])).resolves.toEqual([]);
  });

  it('refuses votes that do not fit the poll with 400, and unknown polls with 404', async () => {
    const { id: pollId } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'poll', name: 'One?', options: ['A', 'B'], selectableCount: 1 });
    const poll = await stored(pollId);
    const { id: textId } = await sandbox.sendMessage(CONTACT, owner.jid, { type: 'text', text: 'not a poll' });
    const text = await stored(textId);
    const vote = (mid: string, chat: string, sender: string, options: string[]) => client.call(`/sessions/${sessionId}/messages/${mid}/vote`, { method: 'POST', body: { chat, sender, options } });
    for (const res of [await vote(textId, text.chat, text.sender, ['A']), await vote(pollId, poll.chat, poll.sender, ['C']), await vote(pollId, poll.chat, poll.sender, ['A', 'B'])]) {
      expect(res.status).toBe(400);
      await expect(res.json()).resolves.toMatchObject({ error: { code: 'validation_error' } });
    }
    const missing = await vote('3EB0000000000000000000', poll.chat, poll.sender, ['A']);
    expect(missing.status).toBe(404);
    await expect(missing.json()).resolves.toMatchObject({ error: { code: 'not_found' } });
    const badBody = await client.call(`/sessions/${sessionId}/messages/${pollId}/vote`, { method: 'POST', body: { chat: 'nope', options: 'A', extra: 1 } });
    expect(badBody.status).toBe(400);
    const fields = (await json<{ error: { details: { fields: { field: string }[] } } }>(badBody)).error.details.fields.map((f) => f.field).sort();
    expect(fields).toEqual(['chat', 'extra', 'options', 'sender']);
  });

  it('refuses a chat or group path parameter that is not a JID with 400 naming it', async () => {
    const cases: Array<[string, string, Record<string, unknown> | undefined, string]> = [
      ['POST', `/sessions/${sessionId}/chats/${encodeURIComponent('../../etc/passwd')}/read`, undefined, 'chat'],
      ['POST', `/sessions/${sessionId}/chats/constructor/presence`, { presence: 'typing' }, 'chat'],
      ['GET', `/sessions/${sessionId}/chats/${encodeURIComponent("1' OR '1'='1@s.whatsapp.net")}/messages`, undefined, 'chat'],
      ['GET', `/sessions/${sessionId}/groups/__proto__`, undefined, 'group'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await client.call(path, { method, body });
      expect(res.status).toBe(400);
      await expect(res.json()).resolves.toMatchObject({ error: { code: 'validation_error', details: { fields: [{ field }] } } });
    }
  });

  it("shows a contact's vote in the poll's tally", async () => {
    const poll = await send({ type: 'poll', name: 'Tally?', options: ['Yes', 'No'], selectableCount: 1 });
    await receivedBy(CONTACT, (m) => m.id === poll.waMessageId);
    await sandbox.sendMessage(CONTACT, owner.jid, { type: 'vote', pollId: poll.waMessageId, options: ['No'] });
    const tally = await eventually(async () => {
      const m = await client.json<StoredMessage>(`/sessions/${sessionId}/messages/${poll.waMessageId}`);
      const no = m.poll?.tally.find((t) => t.option === 'No');
      return no && no.votes === 1 ? m.poll?.tally : undefined;
    }, 'the vote in the tally');
    expect(tally.find((t) => t.option === 'Yes')?.votes).toBe(0);
  });

  it('edits and deletes its own message', async () => {
    const msg = await send({ type: 'text', text: 'tpyo' });
    const edited = await client.call(`/sessions/${sessionId}/messages/${msg.waMessageId}`, { method: 'PATCH', body: { chat: contact.jid, text: 'typo' } });
    expect(edited.status).toBe(200);
    await expect(receivedBy(CONTACT, (m) => m.kind === 'edit' && m.edit?.targetId === msg.waMessageId)).resolves.toMatchObject({ edit: { text: 'typo' } });
    const deleted = await client.call(`/sessions/${sessionId}/messages/${msg.waMessageId}`, { method: 'DELETE', body: { chat: contact.jid } });
    expect(deleted.status).toBe(200);
    await expect(receivedBy(CONTACT, (m) => m.kind === 'revoke' && m.revoke?.targetId === msg.waMessageId)).resolves.toBeDefined();
  });

  it('replays a repeated Idempotency-Key without sending twice, and refuses the key for another body with 422', async () => {
    const key = `k-${++keySeq}`;
    const first = await send({ type: 'text', text: 'once' }, { headers: { 'idempotency-key': key } });
    const again = await send({ type: 'text', text: 'once' }, { headers: { 'idempotency-key': key } });
    expect(again).toEqual({ ...first, replayed: true });
    await receivedBy(CONTACT, (m) => m.id === first.waMessageId);
    await markerAfter(CONTACT, contact.jid);
    expect(countAt(CONTACT, first.waMessageId)).toBe(1);
    const reused = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: contact.jid, type: 'text', text: 'twice' }, headers: { 'idempotency-key': key } });
    expect(reused.status).toBe(422);
    await expect(reused.json()).resolves.toMatchObject({ error: { code: 'idempotency_key_reused' } });
  });

  it('sends exactly one message for 100 concurrent identical requests with one key, answering 409 while the first is in flight', async () => {
    const key = `k-${++keySeq}`;
    const text = `concurrent ${key}`;
    const request = () => client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: contact.jid, type: 'text', text }, headers: { 'idempotency-key': key } });
    // The server holds what the owner's device sends: the first request stays in flight (its sync
    // answer waits for WhatsApp's ack) while the other 99 come in, however fast the machine.
    // Left to timing, a loaded machine could finish the first before the others arrived.
    sandbox.holdMessages(OWNER);
    let first: Promise<Response> | undefined;
    let during: { status: number; body: SendResult & { error?: { code: string } } }[] = [];
    try {
      first = request();
      await eventually(async () => sandbox.messagesHeld(OWNER) > 0 || undefined, 'the first send to reach WhatsApp');
      during = await Promise.all(Array.from({ length: 99 }, async () => {
        const res = await request();
        return { status: res.status, body: (await res.json()) as SendResult & { error?: { code: string } } };
      }));
    } finally {
      sandbox.releaseMessages(OWNER);
    }
    const answer = await first;
    expect(answer.status).toBe(200);
    const sent = (await answer.json()) as SendResult;
    if (sent.status === 'sent') {
      // Answered only once WhatsApp had the message: every other request came while it was in flight.
      expect(during.map((d) => d.status)).toEqual(during.map(() => 409));
      expect(during.every((d) => d.body.error?.code === 'conflict')).toBe(true);
    } else {
      // On a machine too loaded to take the 99 requests within SEND_SYNC_TIMEOUT_MS, the first one's
      // wait ended while its message was still held: it answered with the status so far, and the
      // requests after that replay this answer. Each one is either of the two, never a second send.
      for (const d of during) {
        if (d.status === 409) expect(d.body.error?.code).toBe('conflict');
        else expect(d).toEqual({ status: 200, body: { ...sent, replayed: true } });
      }
    }
    // Once answered, the key replays the first answer.
    const again = await request();
    expect(again.status).toBe(200);
    await expect(again.json()).resolves.toEqual({ ...sent, replayed: true });
    await receivedBy(CONTACT, (m) => m.text === text);
    await markerAfter(CONTACT, contact.jid);
    expect(sandbox.received(CONTACT).filter((m) => m.text === text)).toHaveLength(1);
  });

  it('keeps the order per chat while chats are sent to concurrently', async () => {
    const run = async (phone: string, jid: string, tag: string): Promise<string[]> => {
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) ids.push((await send({ chat: jid, type: 'text', text: `${tag}-${i}` }, { headers: { prefer: 'respond-async' } })).waMessageId);
      for (const id of ids) await receivedBy(phone, (m) => m.id === id);
      return ids;
    };
    const [a, b] = await Promise.all([run(CONTACT, contact.jid, 'a'), run(SECOND, second.jid, 'b')]);
    expect(sandbox.received(CONTACT).map((m) => m.id).filter((id) => a.includes(id))).toEqual(a);
    expect(sandbox.received(SECOND).map((m) => m.id).filter((id) => b.includes(id))).toEqual(b);
  });

  it('sends sync requests of a chat after the async entries queued before them, concurrent ones in any order among themselves', async () => {
    const queued: string[] = [];
    for (let i = 0; i < 4; i++) queued.push((await send({ chat: contact.jid, type: 'text', text: `queued-${i}` }, { headers: { prefer: 'respond-async' } })).waMessageId);
    // Claimed in their insert's turn where the database allows it: never ahead of an earlier entry.
    const sync = await Promise.all([0, 1, 2].map((i) => send({ chat: contact.jid, type: 'text', text: `sync-${i}` })));
    expect(sync.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    // The three sync requests are concurrent: no order among them (on PostgreSQL their inserts may
    // commit in either order), but all after the queued ones.
    const concurrent = sync.map((r) => r.waMessageId);
    const ids = [...queued, ...concurrent];
    const received = sandbox.received(CONTACT).map((m) => m.id).filter((id) => ids.includes(id));
    expect(received.slice(0, queued.length)).toEqual(queued);
    expect(received.slice(queued.length).sort()).toEqual([...concurrent].sort());
  });

  it('answers async sends with 202 and Preference-Applied, and the entry progresses to sent', async () => {
    const res = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: contact.jid, type: 'text', text: 'async' }, headers: { prefer: 'respond-async' } });
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('respond-async');
    const result = await json<SendResult>(res);
    expect(result).toMatchObject({ mode: 'async', status: 'queued', replayed: false });
    await receivedBy(CONTACT, (m) => m.id === result.waMessageId);
    await eventually(async () => (['sent', 'delivered', 'read'].includes((await outbox(result.outboxId)).status) ? true : undefined), 'sent');
  });

  it('re-sends with the same id after the runner was killed while sending; the contact sees one message', async () => {
    const result = await send({ type: 'text', text: 'survive a crash' }, { headers: { prefer: 'respond-async' } });
    await eventually(async () => ((await outbox(result.outboxId)).status !== 'queued' ? true : undefined), 'the entry being sent', 5000);
    await runner.stop('SIGKILL');
    runner = await startRunner(transport, runnerEnv);
    await receivedBy(CONTACT, (m) => m.id === result.waMessageId);
    const entry = await eventually(async () => {
      const e = await outbox(result.outboxId);
      return ['sent', 'delivered', 'read'].includes(e.status) ? e : undefined;
    }, 'sent after restart', 40_000);
    expect(entry.waMessageId).toBe(result.waMessageId);
    await markerAfter(CONTACT, contact.jid);
    expect(countAt(CONTACT, result.waMessageId)).toBe(1);
  });

  it('queues async sends while the session is stopped and delivers them after start; sync sends get 409', async () => {
    await waitConnected();
    await client.call(`/sessions/${sessionId}/stop`, { method: 'POST' });
    const sync = await client.call(`/sessions/${sessionId}/messages`, { method: 'POST', body: { chat: contact.jid, type: 'text', text: 'now' } });
    expect(sync.status).toBe(409);
    await expect(sync.json()).resolves.toMatchObject({ error: { code: 'session_not_connected' } });
    const queued = await send({ type: 'text', text: 'later' }, { headers: { prefer: 'respond-async' } });
    // The dispatcher takes entries of connected sessions only: it stays queued, never attempted,
    // until the start below, whatever the machine's speed.
    expect(countAt(CONTACT, queued.waMessageId)).toBe(0);
    expect(await outbox(queued.outboxId)).toMatchObject({ status: 'queued', attempts: 0 });
    await client.call(`/sessions/${sessionId}/start`, { method: 'POST' });
    await waitConnected();
    await expect(receivedBy(CONTACT, (m) => m.id === queued.waMessageId)).resolves.toMatchObject({ text: 'later' });
  });

  it("answers another org's session exactly like a missing one on every messaging route", async () => {
    const missing = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    const mid = '3EB0C431C26A1916E07A';
    const chat = encodeURIComponent(contact.jid);
    const routes: [string, string, unknown][] = [
      ['POST', '/messages', { chat: contact.jid, type: 'text', text: 'x' }],
      ['POST', `/messages/${mid}/reaction`, { chat: contact.jid, sender: contact.jid, emoji: '👍' }],
      ['DELETE', `/messages/${mid}/reaction`, { chat: contact.jid, sender: contact.jid }],
      ['POST', `/messages/${mid}/vote`, { chat: contact.jid, sender: contact.jid, options: [] }],
      ['PATCH', `/messages/${mid}`, { chat: contact.jid, text: 'x' }],
      ['DELETE', `/messages/${mid}`, { chat: contact.jid }],
      ['POST', `/chats/${chat}/read`, {}],
      ['POST', `/chats/${chat}/presence`, { presence: 'typing' }],
      ['GET', '/chats', undefined],
      ['GET', `/chats/${chat}/messages`, undefined],
      ['GET', `/messages/${mid}`, undefined],
      ['GET', `/outbox/01HZZZZZZZZZZZZZZZZZZZZZZZ`, undefined],
      ['GET', '/contacts', undefined],
      ['GET', `/contacts/${CONTACT}/exists`, undefined],
      ['GET', '/groups', undefined],
      ['GET', `/groups/${encodeURIComponent('120363041234567890@g.us')}`, undefined],
      ['POST', '/groups', { subject: 'x', participants: [contact.jid] }],
      ['POST', `/groups/${encodeURIComponent('120363041234567890@g.us')}/participants`, { action: 'add', participants: [contact.jid] }],
    ];
    for (const [method, suffix, body] of routes) {
      const theirs = await client.call(`/sessions/${sessionId}${suffix}`, { method, body, org: OTHER_ORG });
      const none = await client.call(`/sessions/${missing}${suffix}`, { method, body, org: OTHER_ORG });
      expect([method, suffix, theirs.status, none.status]).toEqual([method, suffix, 404, 404]);
      expect(await theirs.text()).toBe(await none.text());
    }
  });

  it('refuses writes to principals without send, and lets them read', async () => {
    const writes: [string, string, unknown][] = [
      ['POST', '/messages', { chat: contact.jid, type: 'text', text: 'x' }],
      ['POST', '/messages/3EB0/reaction', { chat: contact.jid, sender: contact.jid, emoji: '👍' }],
      ['DELETE', '/messages/3EB0/reaction', { chat: contact.jid, sender: contact.jid }],
      ['POST', '/messages/3EB0/vote', { chat: contact.jid, sender: contact.jid, options: [] }],
      ['PATCH', '/messages/3EB0', { chat: contact.jid, text: 'x' }],
      ['DELETE', '/messages/3EB0', { chat: contact.jid }],
      ['POST', `/chats/${encodeURIComponent(contact.jid)}/read`, {}],
      ['POST', `/chats/${encodeURIComponent(contact.jid)}/presence`, { presence: 'typing' }],
      ['POST', '/groups', { subject: 'x', participants: [contact.jid] }],
    ];
    for (const [method, suffix, body] of writes) {
      const res = await client.call(`/sessions/${sessionId}${suffix}`, { method, body, role: 'viewer' });
      expect([suffix, res.status]).toEqual([suffix, 403]);
    }
    expect((await client.call(`/sessions/${sessionId}/chats`, { role: 'viewer' })).status).toBe(200);
  });
});

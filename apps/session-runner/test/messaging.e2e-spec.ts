import {
  RPC_MESSAGING,
  type ChatSummary,
  type ContactExistsResult,
  type ContactSummary,
  type ExecuteResult,
  type GroupListResult,
  type GroupParticipantsResult,
  type GroupSummary,
  type LookupResult,
  type MarkReadResult,
  type OutboxAction,
  type Page,
  type StoredMessage,
} from '@wa/contracts';
import { generateMessageId, newId } from '@wa/domain';
import { WaSandbox, type PhoneInfo, type ReceivedMessage } from '@wa/wa-sandbox';
import { pairWithQr, type SandboxSession } from '@wa/wa-sandbox/testing';
import { MessageStore } from '../src/messages/message-store';
import { MessagingController } from '../src/messaging/messaging.controller';
import { eventually, linkSession, startRunner, type RunnerUnderTest } from './support/runner-under-test';

const ORG = 'org_messaging';
const OWNER = '15550010001';
const CONTACT = '15550010002';
const THIRD = '15550010003';

describe(MessagingController.name, () => {
  let sandbox: WaSandbox;
  let runner: RunnerUnderTest;
  let sessionId: string;
  let owner: PhoneInfo;
  let contact: PhoneInfo;
  let third: PhoneInfo;
  let contactCompanion: SandboxSession | undefined;

  const ref = () => ({ orgId: ORG, sessionId });
  const execute = (action: OutboxAction, waMessageId = generateMessageId(), attempt = 1) =>
    runner.call<ExecuteResult>(RPC_MESSAGING.execute, { ...ref(), outboxId: newId(), waMessageId, action, attempt });
  const send = (content: Extract<OutboxAction, { kind: 'send' }>['content'], extra: Partial<Extract<OutboxAction, { kind: 'send' }>> = {}) =>
    execute({ kind: 'send', chat: contact.jid, content, ...extra });
  const receivedAtContact = (pred: (m: ReceivedMessage) => boolean) => sandbox.waitForReceived(CONTACT, pred, 60_000);
  const get = (id: string) => runner.call<StoredMessage>(RPC_MESSAGING.message, { ...ref(), id });
  /** A message the contact sends, once the runner has stored it. */
  const fromContact = async (message: Parameters<WaSandbox['sendMessage']>[2]): Promise<string> => {
    const { id } = await sandbox.sendMessage(CONTACT, owner.jid, message);
    await eventually(() => get(id), `message ${id} in the runner's store`);
    return id;
  };

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    owner = await sandbox.createPhone(OWNER, 'Owner');
    contact = await sandbox.createPhone(CONTACT, 'Contact');
    third = await sandbox.createPhone(THIRD, 'Third');
    // The contact's own linked device sees read receipts. Linked first: the sandbox's test helper
    // then unrefs Baileys' never-cleared 30 s pre-key timer for the runner's socket too.
    contactCompanion = await pairWithQr(sandbox, CONTACT);
    runner = await startRunner(sandbox, 'runner_messaging', { SEND_ACK_WAIT_MS: '3000' });
    sessionId = await linkSession(runner, sandbox, ORG, OWNER);
  });

  afterAll(async () => {
    await contactCompanion?.end();
    await runner?.close();
    await sandbox?.stop();
  });

  it('sends text with mentions that the contact receives, answering sent once WhatsApp acknowledged it', async () => {
    const result = await send({ type: 'text', text: `hello @${CONTACT}`, mentions: [contact.jid] });

    expect(result).toEqual({ waMessageId: expect.any(String), status: 'sent', timestamp: expect.any(Number) });
    await expect(receivedAtContact((m) => m.id === result.waMessageId)).resolves.toMatchObject({ kind: 'text', text: `hello @${CONTACT}` });
    await expect(get(result.waMessageId)).resolves.toMatchObject({
      fromMe: true,
      sender: owner.jid,
      type: 'text',
      content: { text: `hello @${CONTACT}`, mentions: [contact.jid] },
    });
  });

  it('paces the sends of a session where it lives: concurrent hand-overs go out at least the interval apart, and one too far out is told when to come back', async () => {
    const pacing = { minIntervalMs: 400, jitterMs: 0, maxWaitMs: 2_000 };
    const paced = (text: string, p = pacing) =>
      runner.call<ExecuteResult>(RPC_MESSAGING.execute, { ...ref(), outboxId: newId(), waMessageId: generateMessageId(), action: { kind: 'send', chat: contact.jid, content: { type: 'text', text } }, attempt: 1, pacing: p });
    const started = Date.now();
    const results = await Promise.all([paced('paced 1'), paced('paced 2'), paced('paced 3')]);
    // Three turns 400 ms apart: the last cannot have gone out before 800 ms (a lower bound only).
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(results.map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
    const far = [paced('far 1', { ...pacing, minIntervalMs: 5_000 }), paced('far 2', { ...pacing, minIntervalMs: 5_000 })];
    // Two hand-overs at once reach the runner in either order (NATS makes no promise): one takes
    // the next turn, the other is told when to come back.
    const settled = await Promise.allSettled(far);
    expect(settled.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(settled.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'rate_limited', details: { retryAfterMs: expect.any(Number) } } });
  });

  it('replies to a received message, quoting it', async () => {
    const incoming = await fromContact({ type: 'text', text: 'question?' });
    const result = await send({ type: 'text', text: 'answer' }, { replyTo: { id: incoming, chat: contact.lid, sender: contact.lid } });

    await expect(receivedAtContact((m) => m.id === result.waMessageId)).resolves.toMatchObject({ text: 'answer' });
    await expect(get(result.waMessageId)).resolves.toMatchObject({ content: { text: 'answer', quotedMessageId: incoming } });
  });

  it('answers 404 for a reply to a message it never saw', async () => {
    await expect(send({ type: 'text', text: 'x' }, { replyTo: { id: 'NOPE', chat: contact.jid, sender: contact.jid } })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('sends a location and contact cards the contact receives', async () => {
    const location = await send({ type: 'location', latitude: 52.52, longitude: 13.405, name: 'Berlin', address: 'Alexanderplatz' });
    const card = 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nTEL;type=CELL;waid=15550019999:+15550019999\nEND:VCARD';
    const one = await send({ type: 'contacts', contacts: [{ displayName: 'Jane Doe', vcard: card }] });
    const two = await send({
      type: 'contacts',
      contacts: [
        { displayName: 'Jane Doe', vcard: card },
        { displayName: 'John Roe', vcard: card.replace('Jane Doe', 'John Roe') },
      ],
    });

    await expect(receivedAtContact((m) => m.id === location.waMessageId)).resolves.toMatchObject({
      kind: 'location',
      location: { latitude: 52.52, longitude: 13.405, name: 'Berlin', address: 'Alexanderplatz' },
    });
    await expect(receivedAtContact((m) => m.id === one.waMessageId)).resolves.toMatchObject({ kind: 'contact', contact: { displayName: 'Jane Doe', vcard: card } });
    // The sandbox does not decode multi-card messages; it did receive one, and the store has both cards.
    await expect(receivedAtContact((m) => m.id === two.waMessageId)).resolves.toBeDefined();
    await expect(get(two.waMessageId)).resolves.toMatchObject({ type: 'contacts', content: { contacts: [{ displayName: 'Jane Doe' }, { displayName: 'John Roe' }] } });
  });

  it('sends a poll, and lookup gives the gateway what it needs to reject bad votes', async () => {
    const poll = await send({ type: 'poll', name: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], selectableCount: 1 });
    const text = await send({ type: 'text', text: 'not a poll' });

    await expect(receivedAtContact((m) => m.id === poll.waMessageId)).resolves.toMatchObject({
      kind: 'poll',
      poll: { name: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], selectableCount: 1 },
    });
    const target = (id: string) => ({ ...ref(), target: { id, chat: contact.jid, sender: owner.jid } });
    await expect(runner.call<LookupResult>(RPC_MESSAGING.lookup, target(poll.waMessageId))).resolves.toEqual({
      exists: true,
      fromMe: true,
      type: 'poll',
      poll: { name: 'Lunch?', options: ['Pizza', 'Sushi', 'Salad'], selectableCount: 1 },
    });
    await expect(runner.call<LookupResult>(RPC_MESSAGING.lookup, target(text.waMessageId))).resolves.toEqual({ exists: true, fromMe: true, type: 'text' });
    await expect(runner.call<LookupResult>(RPC_MESSAGING.lookup, target('3EB0NOTHERE'))).resolves.toEqual({ exists: false, fromMe: false });
    await expect(execute({ kind: 'vote', target: target(poll.waMessageId).target, options: ['Pasta'] })).rejects.toMatchObject({ code: 'validation_error' });
    await expect(execute({ kind: 'vote', target: target(poll.waMessageId).target, options: ['Pizza', 'Sushi'] })).rejects.toMatchObject({ code: 'validation_error' });
  });

  it('votes on our own poll: the contact decrypts it, a second vote replaces it and [] clears it', async () => {
    const poll = await send({ type: 'poll', name: 'Where?', options: ['Park', 'Beach', 'Home'], selectableCount: 0 });
    const target = { id: poll.waMessageId, chat: contact.jid, sender: owner.jid };
    await receivedAtContact((m) => m.id === poll.waMessageId);

    const first = await execute({ kind: 'vote', target, options: ['Park', 'Home'] });
    await expect(receivedAtContact((m) => m.id === first.waMessageId)).resolves.toMatchObject({ kind: 'vote', vote: { pollId: poll.waMessageId, selectedOptions: ['Park', 'Home'] } });
    const second = await execute({ kind: 'vote', target, options: ['Beach'] });
    await expect(receivedAtContact((m) => m.id === second.waMessageId)).resolves.toMatchObject({ vote: { selectedOptions: ['Beach'] } });
    await expect(get(poll.waMessageId)).resolves.toMatchObject({ poll: { tally: [{ option: 'Park', votes: 0 }, { option: 'Beach', votes: 1, voters: [owner.jid] }, { option: 'Home', votes: 0 }] } });
    const cleared = await execute({ kind: 'vote', target, options: [] });
    await expect(receivedAtContact((m) => m.id === cleared.waMessageId)).resolves.toMatchObject({ vote: { selectedOptions: [] } });
  });

  it("votes on the contact's poll in its @lid chat with LID addressing the contact decrypts", async () => {
    const pollId = await fromContact({ type: 'poll', name: 'Movie?', options: ['Alien', 'Heat'], selectableCount: 1 });
    const vote = await execute({ kind: 'vote', target: { id: pollId, chat: contact.lid, sender: contact.lid }, options: ['Heat'] });

    await expect(receivedAtContact((m) => m.id === vote.waMessageId)).resolves.toMatchObject({ vote: { pollId, selectedOptions: ['Heat'] } });
    await expect(runner.call<LookupResult>(RPC_MESSAGING.lookup, { ...ref(), target: { id: pollId, chat: contact.lid, sender: contact.lid } })).resolves.toMatchObject({
      exists: true,
      fromMe: false,
      poll: { options: ['Alien', 'Heat'], selectableCount: 1 },
    });
  });

  it("counts the contact's vote on our poll in the tally, its latest vote only", async () => {
    const poll = await send({ type: 'poll', name: 'Tea?', options: ['Yes', 'No'], selectableCount: 1 });
    await receivedAtContact((m) => m.id === poll.waMessageId);

    await sandbox.sendMessage(CONTACT, owner.jid, { type: 'vote', pollId: poll.waMessageId, options: ['No'] });
    await eventually(async () => ((await get(poll.waMessageId)).poll?.tally[1]?.votes === 1 ? true : undefined), 'the first vote in the tally');
    await sandbox.sendMessage(CONTACT, owner.jid, { type: 'vote', pollId: poll.waMessageId, options: ['Yes'] });
    const tallied = await eventually(async () => {
      const m = await get(poll.waMessageId);
      return m.poll?.tally[0]?.votes === 1 ? m : undefined;
    }, 'the replacing vote in the tally');

    expect(tallied.poll).toEqual({
      name: 'Tea?',
      options: ['Yes', 'No'],
      selectableCount: 1,
      tally: [
        { option: 'Yes', votes: 1, voters: [contact.jid] },
        { option: 'No', votes: 0, voters: [] },
      ],
    });
  });

  it('reacts to a message and removes the reaction, as the contact sees it', async () => {
    const incoming = await fromContact({ type: 'text', text: 'react to me' });
    const target = { id: incoming, chat: contact.lid, sender: contact.lid };

    const set = await execute({ kind: 'react', target, emoji: '👍' });
    await expect(receivedAtContact((m) => m.id === set.waMessageId)).resolves.toMatchObject({ kind: 'reaction', reaction: { targetId: incoming, emoji: '👍', removed: false } });
    const removed = await execute({ kind: 'react', target, emoji: '' });
    await expect(receivedAtContact((m) => m.id === removed.waMessageId)).resolves.toMatchObject({ reaction: { targetId: incoming, removed: true } });
  });

  it('edits and revokes our message, the contact receives both, and reads show the message as it is now', async () => {
    const original = await send({ type: 'text', text: 'typo hre' });
    const target = { id: original.waMessageId, chat: contact.jid, sender: owner.jid };

    const edit = await execute({ kind: 'edit', target, text: 'typo here' });
    await expect(receivedAtContact((m) => m.id === edit.waMessageId)).resolves.toMatchObject({ kind: 'edit', edit: { targetId: original.waMessageId, text: 'typo here' } });
    await expect(get(original.waMessageId)).resolves.toMatchObject({ content: { text: 'typo here' }, editedAt: expect.any(Number) });
    const revoke = await execute({ kind: 'revoke', target });
    await expect(receivedAtContact((m) => m.id === revoke.waMessageId)).resolves.toMatchObject({ kind: 'revoke', revoke: { targetId: original.waMessageId } });
    await expect(get(original.waMessageId)).resolves.toMatchObject({ content: {}, deletedAt: expect.any(Number) });
  });

  it("shows the contact's edit of its message, and nothing of it once the contact deleted it", async () => {
    const incoming = await fromContact({ type: 'text', text: 'see you at 5' });

    await sandbox.sendMessage(CONTACT, owner.jid, { type: 'edit', targetId: incoming, text: 'see you at 6' });
    const edited = await eventually(async () => {
      const m = await get(incoming);
      return m.editedAt ? m : undefined;
    }, 'the edit in the store');
    expect(edited.content).toEqual({ text: 'see you at 6' });
    await sandbox.sendMessage(CONTACT, owner.jid, { type: 'revoke', targetId: incoming });
    const deleted = await eventually(async () => {
      const m = await get(incoming);
      return m.deletedAt ? m : undefined;
    }, 'the revoke in the store');
    expect(deleted.content).toEqual({});
  });

  it('does not send a second copy when the outbox retries an id WhatsApp already acknowledged', async () => {
    const id = generateMessageId();
    const action: OutboxAction = { kind: 'send', chat: contact.jid, content: { type: 'text', text: 'exactly once' } };
    await expect(execute(action, id, 1)).resolves.toMatchObject({ waMessageId: id, status: 'sent' });
    await expect(execute(action, id, 2)).resolves.toMatchObject({ waMessageId: id, status: 'sent' });

    await receivedAtContact((m) => m.id === id);
    // A later message on the same socket arrives after any second copy would have: once it is
    // here, the count is final (instead of waiting a second and hoping that was long enough).
    const marker = await send({ type: 'text', text: 'after exactly once' });
    await receivedAtContact((m) => m.id === marker.waMessageId);
    expect(sandbox.received(CONTACT).filter((m) => m.id === id)).toHaveLength(1);
  });

  it('answers a retry sent when the first answer was sent, while the ack is still being stored', async () => {
    // Holds the StatusRecorder's commit of the ack (a slow database), so the retry comes while
    // the send log still says `relayed` and the stored message has no status.
    const store = runner.app.get(MessageStore);
    const original = store.advanceStatusWith.bind(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const hold = jest.spyOn(store, 'advanceStatusWith').mockImplementation(async (...args) => {
      await held;
      return original(...args);
    });
    const id = generateMessageId();
    const action: OutboxAction = { kind: 'send', chat: contact.jid, content: { type: 'text', text: 'acked, not stored yet' } };
    try {
      await expect(execute(action, id, 1)).resolves.toMatchObject({ waMessageId: id, status: 'sent' });
      await expect(execute(action, id, 2)).resolves.toMatchObject({ waMessageId: id, status: 'sent' });
    } finally {
      release();
      hold.mockRestore();
    }
    await eventually(async () => ((await get(id)).status === 'sent' ? true : undefined), 'the held ack stored');
    expect(sandbox.received(CONTACT).filter((m) => m.id === id)).toHaveLength(1);
  });

  it('hands an async entry over without the ack wait: the ack still stores sent, and a retry sends no second copy', async () => {
    const id = generateMessageId();
    const action: OutboxAction = { kind: 'send', chat: contact.jid, content: { type: 'text', text: 'async, once' } };
    const first = await runner.call<ExecuteResult>(RPC_MESSAGING.execute, { ...ref(), outboxId: newId(), waMessageId: id, action, attempt: 1, awaitAck: false });
    expect(['sending', 'sent']).toContain(first.status);
    await eventually(async () => (['sent', 'delivered', 'read'].includes((await get(id)).status ?? '') ? true : undefined), 'the ack stored as a status');
    await expect(execute(action, id, 2)).resolves.toMatchObject({ waMessageId: id, status: 'sent' });

    await receivedAtContact((m) => m.id === id);
    const marker = await send({ type: 'text', text: 'after async, once' });
    await receivedAtContact((m) => m.id === marker.waMessageId);
    expect(sandbox.received(CONTACT).filter((m) => m.id === id)).toHaveLength(1);
  });

  it('moves our message from sent to delivered to read as the contact sends receipts', async () => {
    const result = await send({ type: 'text', text: 'receipts please' });
    await eventually(async () => ((await get(result.waMessageId)).status === 'delivered' ? true : undefined), 'delivered');
    await sandbox.sendReceipt(CONTACT, owner.jid, [result.waMessageId], 'read');
    await eventually(async () => ((await get(result.waMessageId)).status === 'read' ? true : undefined), 'read');
  });

  it('sends typing, recording and paused to the chat', async () => {
    for (const presence of ['typing', 'recording', 'paused'] as const) await runner.call(RPC_MESSAGING.presence, { ...ref(), chat: contact.jid, presence });

    await eventually(async () => (sandbox.presences(CONTACT).filter((p) => p.from === owner.lid).length >= 3 ? true : undefined), 'three chat states');
    expect(sandbox.presences(CONTACT).filter((p) => p.from === owner.lid).map((p) => p.state)).toEqual(['composing', 'recording', 'paused']);
  });

  it('marks a chat read: WhatsApp gets one read receipt for the unread messages, addressed to the contact, and nothing is read twice', async () => {
    const sent = await contactCompanion!.sock.sendMessage(owner.jid, { text: 'did you read this?' });
    const id = sent!.key.id!;
    await eventually(() => get(id), 'the message in the store');

    // This message and what the contact sent in earlier tests: all unread until now.
    const first = await runner.call<MarkReadResult>(RPC_MESSAGING.markRead, { ...ref(), chat: contact.jid });
    expect(first.read).toBeGreaterThanOrEqual(1);
    // What the account's device told WhatsApp. WhatsApp handing it on to the contact's devices is
    // the sandbox's part (its own suite checks a Baileys device gets the READ status). This test
    // used to wait for that status on the contact's Baileys device, which in three loaded CI runs
    // (Node 22 lane) did not report it within 60 s although the server had forwarded the receipt
    // 180 ms after the runner sent it: a wait on the test client's speed, not on the runner.
    const receipt = await eventually(async () => sandbox.receiptsSentFor(id).find((r) => r.type === 'read'), 'the read receipt at the server', 60_000);
    expect(receipt.from.startsWith(`${owner.jid.split('@')[0]}:`)).toBe(true);
    expect([contact.jid, contact.lid]).toContain(receipt.to);
    expect(receipt.ids).toContain(id);
    await expect(runner.call<MarkReadResult>(RPC_MESSAGING.markRead, { ...ref(), chat: contact.jid })).resolves.toEqual({ read: 0 });
    // Read once: no second read receipt went out for it.
    expect(sandbox.receiptsSentFor(id).filter((r) => r.type === 'read')).toHaveLength(1);
  });

  it('creates a group, reads its metadata and adds and removes a participant', async () => {
    const created = await runner.call<GroupSummary>(RPC_MESSAGING.groupCreate, { ...ref(), subject: 'Team', participants: [CONTACT] });
    expect(created).toMatchObject({ jid: expect.stringMatching(/@g\.us$/), subject: 'Team' });
    expect(created.participants.map((p) => p.pn).sort()).toEqual([owner.jid, contact.jid].sort());

    await expect(runner.call<GroupParticipantsResult>(RPC_MESSAGING.groupParticipants, { ...ref(), group: created.jid, action: 'add', participants: [third.jid] })).resolves.toEqual({
      results: [{ jid: third.jid, status: '200' }],
    });
    const grown = await runner.call<GroupSummary>(RPC_MESSAGING.group, { ...ref(), group: created.jid });
    expect(grown.participants.map((p) => p.pn)).toContain(third.jid);
    await runner.call(RPC_MESSAGING.groupParticipants, { ...ref(), group: created.jid, action: 'remove', participants: [CONTACT] });
    const shrunk = await runner.call<GroupSummary>(RPC_MESSAGING.group, { ...ref(), group: created.jid });
    expect(shrunk.participants.map((p) => p.pn).sort()).toEqual([owner.jid, third.jid].sort());
    await expect(runner.call<GroupListResult>(RPC_MESSAGING.groups, ref())).resolves.toMatchObject({ data: [expect.objectContaining({ jid: created.jid, subject: 'Team' })] });
    await expect(runner.call(RPC_MESSAGING.group, { ...ref(), group: '120363000000000000@g.us' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('reads back chats, a chat page by page (newest first) and contacts', async () => {
    const chats = await runner.call<Page<ChatSummary>>(RPC_MESSAGING.chats, { ...ref(), limit: 1 });
    expect(chats.data).toEqual([expect.objectContaining({ jid: contact.jid, pn: contact.jid, lid: contact.lid, name: 'Contact', isGroup: false })]);

    const first = await runner.call<Page<StoredMessage>>(RPC_MESSAGING.chatMessages, { ...ref(), chat: contact.jid, limit: 3 });
    const second = await runner.call<Page<StoredMessage>>(RPC_MESSAGING.chatMessages, { ...ref(), chat: contact.jid, limit: 3, cursor: first.nextCursor });
    expect(first.data).toHaveLength(3);
    expect(first.data[0].id).toBe(chats.data[0].lastMessageId);
    const times = [...first.data, ...second.data].map((m) => m.timestamp);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(new Set([...first.data, ...second.data].map((m) => m.id)).size).toBe(6);
    // Messages of both sides and both jid forms of the chat are one conversation.
    const everything = await runner.call<Page<StoredMessage>>(RPC_MESSAGING.chatMessages, { ...ref(), chat: contact.lid, limit: 200 });
    expect(everything.data.some((m) => m.fromMe)).toBe(true);
    expect(everything.data.some((m) => !m.fromMe && m.content.text === 'react to me')).toBe(true);

    const contacts = await runner.call<Page<ContactSummary>>(RPC_MESSAGING.contacts, { ...ref(), limit: 50 });
    // `name` is the name the account saved for a contact (none here); the contact's own is `pushName`.
    expect(contacts.data).toContainEqual({ jid: contact.jid, pn: contact.jid, lid: contact.lid, pushName: 'Contact' });
    await expect(runner.call<ContactExistsResult>(RPC_MESSAGING.contactExists, { ...ref(), phone: `+${THIRD}` })).resolves.toMatchObject({ phone: `+${THIRD}`, exists: true, jid: third.jid });
    await expect(runner.call<ContactExistsResult>(RPC_MESSAGING.contactExists, { ...ref(), phone: '15559999999' })).resolves.toMatchObject({ exists: false });
  });

  it('answers another org 404, and 409 once the session is stopped while reads keep working', async () => {
    await expect(runner.call(RPC_MESSAGING.message, { orgId: 'org_other', sessionId, id: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(runner.call(RPC_MESSAGING.chats, { orgId: 'org_other', sessionId, limit: 10 })).rejects.toMatchObject({ code: 'not_found' });
    await expect(runner.call(RPC_MESSAGING.chats, { orgId: ORG, sessionId: newId(), limit: 10 })).rejects.toMatchObject({ code: 'not_found' });
    const poll = await send({ type: 'poll', name: 'Later?', options: ['Yes', 'No'], selectableCount: 1 });

    await runner.call('sessions.stop', ref());
    await expect(send({ type: 'text', text: 'x' })).rejects.toMatchObject({ code: 'session_not_connected' });
    await expect(runner.call(RPC_MESSAGING.presence, { ...ref(), chat: contact.jid, presence: 'typing' })).rejects.toMatchObject({ code: 'session_not_connected' });
    await expect(runner.call<LookupResult>(RPC_MESSAGING.lookup, { ...ref(), target: { id: poll.waMessageId, chat: contact.jid, sender: owner.jid } })).resolves.toMatchObject({
      exists: true,
      poll: { options: ['Yes', 'No'] },
    });
    // Read from what the runner stored, as after a restart: our own messages still name us.
    await expect(get(poll.waMessageId)).resolves.toMatchObject({ fromMe: true, sender: owner.jid });
  });
});

import { encryptPollVote, WaSandbox } from '../src/index';
import { loadBaileys, type CacheStore } from '../src/baileys.loader';
import { loginAgain, pairWithQr, until, type SandboxSession } from '../src/testing';

type Upsert = { messages: Array<{ key: { id?: string | null; remoteJid?: string | null; fromMe?: boolean | null }; message?: Record<string, any> | null }> };
type Update = Array<{ key: { id?: string | null }; update: { status?: number } }>;

describe(`${WaSandbox.name} messaging`, () => {
  let sandbox: WaSandbox;
  let alice: SandboxSession;
  let bob: SandboxSession;
  const ALICE = '15550000011';
  const BOB = '15550000012';
  const CAROL = '15550000013';
  let carolLid: string;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create({ deliveryReceiptDelayMs: 300 })).start();
    await sandbox.createPhone(ALICE, 'Alice');
    await sandbox.createPhone(BOB, 'Bob');
    carolLid = (await sandbox.createPhone(CAROL, 'Carol')).lid;
    alice = await pairWithQr(sandbox, ALICE);
    bob = await pairWithQr(sandbox, BOB);
  });

  afterAll(async () => {
    await Promise.all([alice?.end(), bob?.end()]);
    await sandbox.stop();
  });

  it('delivers a Baileys text to a virtual contact, acks it and reports delivery then read', async () => {
    const before = Date.now();
    const sent = await alice.sock.sendMessage(`${CAROL}@s.whatsapp.net`, { text: 'hello carol' });
    const received = await sandbox.waitForReceived(CAROL, (m) => m.id === sent?.key.id);
    await expect(Promise.resolve(received)).resolves.toMatchObject({ kind: 'text', text: 'hello carol', fromPn: `${ALICE}@s.whatsapp.net` });
    // When the server handed it over, to the millisecond (what bench:e2e times deliveries by).
    expect(received.receivedAt).toBeGreaterThanOrEqual(before);
    expect(received.receivedAt).toBeLessThanOrEqual(Date.now());
    await expect(alice.waitFor<Update>('messages.update', (u) => u.some((i) => i.key.id === sent?.key.id && i.update.status === 3))).resolves.toBeDefined();
    await sandbox.sendReceipt(CAROL, `${ALICE}@s.whatsapp.net`, [sent?.key.id ?? ''], 'read');
    await expect(alice.waitFor<Update>('messages.update', (u) => u.some((i) => i.key.id === sent?.key.id && i.update.status === 4))).resolves.toBeDefined();
  });

  it('redelivers a receipt the device did not acknowledge at its next login, before the end of the backlog', async () => {
    const DAVE = '15550000014';
    await sandbox.createPhone(DAVE, 'Dave');
    // Dave's client takes receipts in but never acknowledges them (as a process that died first).
    const forgetful = await pairWithQr(sandbox, DAVE, { beforeReceiptAck: () => Promise.reject(new Error('not stored')) });
    const sent = await forgetful.sock.sendMessage(`${CAROL}@s.whatsapp.net`, { text: 'did you read it?' });
    const id = sent?.key.id ?? '';
    await sandbox.waitForReceived(CAROL, (m) => m.id === id);
    await sandbox.sendReceipt(CAROL, `${DAVE}@s.whatsapp.net`, [id], 'read');
    await forgetful.waitFor<Update>('messages.update', (u) => u.some((i) => i.key.id === id && i.update.status === 4));
    // The delivery comes on its own a little later than the read: it must have left the server
    // before this client ends, or it could come after the next login's backlog instead of in it.
    await until('the delivery receipt to be sent too', () => sandbox.unacknowledged(DAVE).filter((p) => p.id === id).length === 2);
    await forgetful.end();

    // What the next login's client is handed before the server's end-of-backlog marker is processed.
    const order: string[] = [];
    const again = await loginAgain(sandbox, forgetful.auth, {
      beforeReceiptAck: async (told) => {
        for (const { key, update } of told['messages.update'] ?? []) if (key.id === id) order.push(`status ${update.status}`);
      },
    });
    try {
      await again.waitFor<{ processedPendingNotifications?: boolean }>('connection.update', (u) => {
        if (u.processedPendingNotifications) order.push('backlog processed');
        return !!u.processedPendingNotifications;
      });
      // Delivered (3) and read (4) are two stanzas (in either order), both left unacknowledged.
      expect({ receipts: order.slice(0, -1).sort(), last: order.at(-1) }).toEqual({ receipts: ['status 3', 'status 4'], last: 'backlog processed' });
    } finally {
      await again.end();
    }
  });

  it("reports a group member's delivery and read as receipts from the group naming the member, again after acks lost with the client", async () => {
    type Receipts = Array<{ key: { id?: string | null; remoteJid?: string | null }; receipt: { userJid?: string | null; receiptTimestamp?: unknown; readTimestamp?: unknown } }>;
    const ERIN = '15550000015';
    await sandbox.createPhone(ERIN, 'Erin');
    const erin = await pairWithQr(sandbox, ERIN);
    const group = await erin.sock.groupCreate('Readers', [`${CAROL}@s.whatsapp.net`]);
    const sent = await erin.sock.sendMessage(group.id, { text: 'who reads this?' });
    const id = sent?.key.id ?? '';
    await sandbox.waitForReceived(CAROL, (m) => m.id === id);
    const byCarol = (r: Receipts[number], kind: 'receiptTimestamp' | 'readTimestamp') => r.key.id === id && r.key.remoteJid === group.id && r.receipt.userJid === carolLid && !!r.receipt[kind];
    await erin.waitFor<Receipts>('message-receipt.update', (u) => u.some((r) => byCarol(r, 'receiptTimestamp')));
    await expect(sandbox.sendReceipt(CAROL, group.id, ['not-in-the-group'], 'read')).rejects.toThrow('no message');

    // Erin's client reads the read receipt, but its ack never reaches the server.
    sandbox.loseAcks(ERIN);
    await sandbox.sendReceipt(CAROL, group.id, [id], 'read');
    await erin.waitFor<Receipts>('message-receipt.update', (u) => u.some((r) => byCarol(r, 'readTimestamp')));
    expect(sandbox.unacknowledged(ERIN)).toContainEqual(expect.objectContaining({ tag: 'receipt', id, from: group.id, participant: carolLid, type: 'read' }));
    await erin.end();

    // Read as each receipt is handed over: Baileys' event buffer later merges receipts of one message into one object.
    const readsAgain: string[] = [];
    const next = await loginAgain(sandbox, erin.auth, {
      beforeReceiptAck: async (told) => void readsAgain.push(...(told['message-receipt.update'] ?? []).filter((r) => byCarol(r, 'readTimestamp')).map((r) => r.key.id ?? '')),
    });
    try {
      await next.waitFor<{ processedPendingNotifications?: boolean }>('connection.update', (u) => !!u.processedPendingNotifications);
      expect(readsAgain).toEqual([id]);
    } finally {
      await next.end();
    }
  });

  it('delivers a virtual contact text, location and contact card to Baileys', async () => {
    const { id } = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type: 'text', text: 'hi alice' });
    const upsert = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === id));
    await expect(Promise.resolve(upsert.messages[0]?.message?.conversation)).resolves.toBe('hi alice');
    const location = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type: 'location', latitude: 52.5, longitude: 13.4, name: 'Berlin' });
    const card = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type: 'contact', displayName: 'Dan', vcard: 'BEGIN:VCARD\nFN:Dan\nEND:VCARD' });
    const got = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === card.id));
    const gotLocation = alice.events.find((e) => e.name === 'messages.upsert' && (e.data as Upsert).messages.some((m) => m.key.id === location.id));
    await expect(Promise.resolve((gotLocation?.data as Upsert).messages[0]?.message?.locationMessage?.name)).resolves.toBe('Berlin');
    await expect(Promise.resolve(got.messages[0]?.message?.contactMessage?.displayName)).resolves.toBe('Dan');
  });

  it('carries location, contact, reaction, reaction removal, edit and revoke from Baileys', async () => {
    const to = `${CAROL}@s.whatsapp.net`;
    const original = await alice.sock.sendMessage(to, { text: 'draft' });
    const key = original!.key;
    await alice.sock.sendMessage(to, { location: { degreesLatitude: 1.5, degreesLongitude: 2.5 } });
    await alice.sock.sendMessage(to, { contacts: { displayName: 'Eve', contacts: [{ vcard: 'BEGIN:VCARD\nFN:Eve\nEND:VCARD' }] } });
    await alice.sock.sendMessage(to, { react: { text: '👍', key } });
    await alice.sock.sendMessage(to, { react: { text: '', key } });
    await alice.sock.sendMessage(to, { text: 'final', edit: key });
    await alice.sock.sendMessage(to, { delete: key });
    await sandbox.waitForReceived(CAROL, (m) => m.kind === 'revoke');
    const kinds = sandbox.received(CAROL).filter((m) => m.fromPn === `${ALICE}@s.whatsapp.net`).map((m) => m.kind);
    await expect(Promise.resolve(kinds)).resolves.toEqual(expect.arrayContaining(['location', 'contact', 'reaction', 'edit', 'revoke']));
    const reactions = sandbox.received(CAROL).filter((m) => m.kind === 'reaction');
    await expect(Promise.resolve(reactions.map((r) => r.reaction))).resolves.toEqual([
      { targetId: key.id, emoji: '👍', removed: false },
      { targetId: key.id, emoji: '', removed: true },
    ]);
    await expect(Promise.resolve(sandbox.received(CAROL).find((m) => m.kind === 'edit')?.edit)).resolves.toEqual({ targetId: key.id, text: 'final' });
  });

  it('decrypts a Baileys vote on a contact poll and lets the contact vote on a Baileys poll', async () => {
    const { id: pollId } = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type: 'poll', name: 'Lunch?', options: ['pizza', 'sushi'] });
    const upsert = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === pollId));
    const pollMessage = upsert.messages[0]!;
    const secret = Buffer.from(pollMessage.message?.messageContextInfo?.messageSecret);
    const aliceLid = alice.auth.creds.me!.lid!.replace(/:\d+@/, '@');
    const vote = encryptPollVote(await loadBaileys(), ['sushi'], { secret, pollId, creatorJid: carolLid, voterJid: aliceLid });
    await alice.sock.relayMessage(pollMessage.key.remoteJid!, { pollUpdateMessage: { pollCreationMessageKey: pollMessage.key, vote, senderTimestampMs: Date.now() } }, {});
    const received = await sandbox.waitForReceived(CAROL, (m) => m.kind === 'vote' && m.vote?.pollId === pollId);
    await expect(Promise.resolve(received.vote?.selectedOptions)).resolves.toEqual(['sushi']);

    const ownPoll = await alice.sock.sendMessage(`${CAROL}@s.whatsapp.net`, { poll: { name: 'Color?', values: ['red', 'blue'], selectableCount: 1 } });
    await sandbox.waitForReceived(CAROL, (m) => m.id === ownPoll?.key.id);
    const { id: voteId } = await sandbox.sendMessage(CAROL, `${ALICE}@s.whatsapp.net`, { type: 'vote', pollId: ownPoll!.key.id!, options: ['blue'] });
    const voteUpsert = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === voteId));
    const castVote = voteUpsert.messages[0]?.message?.pollUpdateMessage;
    const { decryptPollVote } = await loadBaileys();
    const decrypted = decryptPollVote(castVote.vote, {
      pollCreatorJid: alice.auth.creds.me!.lid!.replace(/:\d+@/, '@'),
      pollMsgId: ownPoll!.key.id!,
      pollEncKey: ownPoll!.message!.messageContextInfo!.messageSecret!,
      voterJid: carolLid,
    });
    const { createHash } = await import('node:crypto');
    await expect(Promise.resolve(Buffer.from(decrypted.selectedOptions![0]!).toString('hex'))).resolves.toBe(createHash('sha256').update('blue').digest('hex'));
  });

  it('shows chat states in both directions', async () => {
    await alice.sock.sendPresenceUpdate('composing', `${CAROL}@s.whatsapp.net`);
    await sandbox.sendPresence(CAROL, `${ALICE}@s.whatsapp.net`, 'composing');
    await expect(alice.waitFor<{ presences: Record<string, { lastKnownPresence: string }> }>('presence.update', (p) => Object.values(p.presences).some((x) => x.lastKnownPresence === 'composing'))).resolves.toBeDefined();
    // Alice's chat state and Carol's travel apart: the server may take in Alice's after Alice saw
    // Carol's (a loaded CI run did, twice), so Carol's side is waited for, not read at once.
    const deadline = Date.now() + 60_000;
    while (!sandbox.presences(CAROL).some((p) => p.state === 'composing') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sandbox.presences(CAROL).map((p) => p.state)).toContain('composing');
  });

  it('carries group text with sender keys between Baileys sessions and a virtual contact', async () => {
    const group = await alice.sock.groupCreate('Team', [`${BOB}@s.whatsapp.net`, `${CAROL}@s.whatsapp.net`]);
    const sent = await alice.sock.sendMessage(group.id, { text: 'hello team' });
    await expect(sandbox.waitForReceived(CAROL, (m) => m.id === sent?.key.id)).resolves.toMatchObject({ chat: group.id, text: 'hello team' });
    const atBob = await bob.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === sent?.key.id));
    await expect(Promise.resolve(atBob.messages[0]?.message?.extendedTextMessage?.text ?? atBob.messages[0]?.message?.conversation)).resolves.toBe('hello team');
    const { id } = await sandbox.sendMessage(CAROL, group.id, { type: 'text', text: 'hi all' });
    const atAlice = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === id));
    await expect(Promise.resolve(atAlice.messages[0]?.message?.conversation)).resolves.toBe('hi all');
  });

  it('routes messages between two Baileys sessions on the same sandbox', async () => {
    const sent = await alice.sock.sendMessage(`${BOB}@s.whatsapp.net`, { text: 'hi bob' });
    const upsert = await bob.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === sent?.key.id));
    await expect(Promise.resolve(upsert.messages[0]?.message?.extendedTextMessage?.text)).resolves.toBe('hi bob');
    const reply = await bob.sock.sendMessage(upsert.messages[0]!.key.remoteJid!, { text: 'hi alice' });
    const back = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === reply?.key.id));
    await expect(Promise.resolve(back.messages[0]?.message?.extendedTextMessage?.text)).resolves.toBe('hi alice');
  });

  it("tells a device that keeps a contact's device list of a device linked and removed, so it needs no new query", async () => {
    // Alice wrote to Bob above: her device asked for his device list once and keeps it.
    const queries = (): number => sandbox.deviceListQueries(ALICE)[BOB] ?? 0;
    const asked = queries();
    expect(asked).toBeGreaterThan(0);
    const bobLidUser = sandbox.listPhones().find((p) => p.phone === BOB)!.lid.split('@')[0]!;
    const cache = (alice.sock as unknown as { userDevicesCache: { get(user: string): Promise<Array<{ device?: number }> | undefined> | Array<{ device?: number }> | undefined } }).userDevicesCache;
    let cached: number[] = [];
    const aliceKnows = (device: number, known: boolean) => async () => {
      const lists = await Promise.all([BOB, bobLidUser].map(async (user) => (await cache.get(user)) ?? []));
      cached = lists.flat().map((d) => d.device ?? 0);
      return cached.includes(device) === known;
    };

    const second = await pairWithQr(sandbox, BOB);
    const secondDevice = Number(/:(\d+)@/.exec(second.auth.creds.me!.id)![1]);
    try {
      await until("Alice's device to hear of Bob's new device", aliceKnows(secondDevice, true));
      const both = await alice.sock.sendMessage(`${BOB}@s.whatsapp.net`, { text: 'to both of your devices' });
      await second.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === both?.key.id));
      await bob.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === both?.key.id));
      expect(queries()).toBe(asked);

      await sandbox.fault(second.auth.creds.me!.id, 'device_removed');
      await until("Alice's device to hear that Bob's second device is gone", aliceKnows(secondDevice, false));
      expect(cached).toContain(0);
      const first = await alice.sock.sendMessage(`${BOB}@s.whatsapp.net`, { text: 'to the device you kept' });
      await bob.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === first?.key.id));
      expect(queries()).toBe(asked);
    } finally {
      await second.end();
    }
  });

  it('keeps a device linked while a watching device was offline for its next login, so a list kept across the restart is right', async () => {
    const ERIN = '15550000015';
    const FRANK = '15550000016';
    await sandbox.createPhone(ERIN, 'Erin');
    await sandbox.createPhone(FRANK, 'Frank');
    // Erin's device lists outlive her socket, as the runner's do.
    const lists = new Map<string, unknown>();
    const cache: CacheStore = {
      get: <T>(key: string) => lists.get(key) as T | undefined,
      set: (key, value) => void lists.set(key, value),
      del: (key) => void lists.delete(key),
      flushAll: () => lists.clear(),
    };
    const devicesOfFrank = () => [...lists.entries()].filter(([user]) => user === FRANK || sandbox.listPhones().find((p) => p.phone === FRANK)!.lid.startsWith(`${user}@`)).flatMap(([, list]) => (list as Array<{ device?: number }>).map((d) => d.device ?? 0));
    const erin = await pairWithQr(sandbox, ERIN, { userDevicesCache: cache });
    const frank = await pairWithQr(sandbox, FRANK);
    const sessions: SandboxSession[] = [frank];
    try {
      const hello = await erin.sock.sendMessage(`${FRANK}@s.whatsapp.net`, { text: 'hello frank' });
      await frank.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === hello?.key.id));
      const asked = sandbox.deviceListQueries(ERIN)[FRANK];
      await erin.end();

      // Frank links another device while Erin's socket is down; she hears of it at her next login.
      const later = await pairWithQr(sandbox, FRANK);
      sessions.push(later);
      const laterDevice = Number(/:(\d+)@/.exec(later.auth.creds.me!.id)![1]);
      const again = await loginAgain(sandbox, erin.auth, { userDevicesCache: cache });
      sessions.push(again);
      await until("Erin's device to hear of Frank's new device", () => devicesOfFrank().includes(laterDevice));
      const both = await again.sock.sendMessage(`${FRANK}@s.whatsapp.net`, { text: 'to both of your devices' });
      await later.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === both?.key.id));
      expect(sandbox.deviceListQueries(ERIN)[FRANK]).toBe(asked);
    } finally {
      await Promise.all(sessions.map((s) => s.end()));
    }
  });

  it("hands a privacy token Alice's device issues to Bob's devices", async () => {
    // Alice's first message to Bob (above) made her device issue her trusted-contact token to him.
    await until('Alice to issue her token to Bob', () => sandbox.privacyTokensIssued(ALICE).some((t) => t.to === BOB));
    const aliceLid = sandbox.listPhones().find((p) => p.phone === ALICE)!.lid;
    const [issued] = sandbox.privacyTokensIssued(ALICE).filter((t) => t.to === BOB);
    let stored: { token?: Uint8Array; timestamp?: string } | undefined;
    await until("Bob's device to store Alice's token", async () => {
      stored = (await bob.auth.keys.get('tctoken', [aliceLid]))[aliceLid] as typeof stored;
      return (stored?.token?.length ?? 0) > 0;
    });
    expect(stored?.timestamp).toBe(String(issued!.t));

    // A token for a user WhatsApp does not know, of another type or without a time: refused whole.
    const issue = (token: Record<string, string>) =>
      alice.sock.query({ tag: 'iq', attrs: { to: 's.whatsapp.net', type: 'set', xmlns: 'privacy' }, content: [{ tag: 'tokens', attrs: {}, content: [{ tag: 'token', attrs: token }] }] });
    const t = String(Math.floor(Date.now() / 1000));
    for (const bad of [{ jid: '19999999999@s.whatsapp.net', t, type: 'trusted_contact' }, { jid: `${BOB}@s.whatsapp.net`, t, type: 'other' }, { jid: `${BOB}@s.whatsapp.net`, t: 'soon', type: 'trusted_contact' }]) {
      await expect(issue(bad)).rejects.toMatchObject({ data: 400, message: 'bad-request' });
    }
    expect(sandbox.privacyTokensIssued(ALICE).filter((x) => x.to === BOB)).toHaveLength(1);
  });
});

import { WaSandbox } from '../src/index';
import { pairWithQr, type SandboxSession } from '../src/testing';

type ChatsUpdate = Array<{ id?: string; archived?: boolean; pinned?: number | null; muteEndTime?: number | null; unreadCount?: number | null }>;
type MessagesUpdate = Array<{ key: { id?: string | null }; update: { starred?: boolean } }>;
type LabelEdit = { id: string; name?: string; color?: number };
type LabelAssociation = { type: 'add' | 'remove'; association: { chatId: string; labelId: string } };

describe(`${WaSandbox.name} app state`, () => {
  let sandbox: WaSandbox;
  let first: SandboxSession;
  let second: SandboxSession;
  const ALICE = '15550000031';
  const CAROL = '15550000033';
  const carol = `${CAROL}@s.whatsapp.net`;

  const keyArrived = (session: SandboxSession) =>
    session.waitFor<{ myAppStateKeyId?: string }>('creds.update', (update) => !!update.myAppStateKeyId);

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    await sandbox.createPhone(ALICE, 'Alice');
    await sandbox.createPhone(CAROL, 'Carol');
    first = await pairWithQr(sandbox, ALICE);
    second = await pairWithQr(sandbox, ALICE);
    await Promise.all([keyArrived(first), keyArrived(second)]);
  });

  afterAll(async () => {
    await Promise.all([first?.end(), second?.end()]);
    await sandbox.stop();
  });

  it('shares one app-state sync key of the account with every linked device', async () => {
    await expect(Promise.resolve(first.auth.creds.myAppStateKeyId)).resolves.toBe(second.auth.creds.myAppStateKeyId);
  });

  it('carries an archive from one companion to the phone and to the other companion', async () => {
    await first.sock.chatModify({ archive: true, lastMessages: [] }, carol);
    await expect(second.waitFor<ChatsUpdate>('chats.update', (u) => u.some((c) => c.id === carol && c.archived === true))).resolves.toBeDefined();
    const state = await sandbox.appState(ALICE);
    await expect(Promise.resolve(state.failures)).resolves.toEqual([]);
    await expect(Promise.resolve(state.collections.regular_low.entries)).resolves.toContainEqual(
      expect.objectContaining({ index: ['archive', carol], value: expect.objectContaining({ archiveChatAction: expect.objectContaining({ archived: true }) }) }),
    );
  });

  it('builds on the other companion patches: a second write from the other device verifies on the phone', async () => {
    await second.sock.chatModify({ pin: true }, carol);
    await expect(first.waitFor<ChatsUpdate>('chats.update', (u) => u.some((c) => c.id === carol && typeof c.pinned === 'number'))).resolves.toBeDefined();
    const state = await sandbox.appState(ALICE);
    await expect(Promise.resolve({ version: state.collections.regular_low.version, failures: state.failures })).resolves.toEqual({ version: 2, failures: [] });
  });

  it('sends the phone changes to every companion, which verify their MACs and LT-hash', async () => {
    await sandbox.phoneChatAction(ALICE, { type: 'mute', chat: carol, until: 1_900_000_000_000 });
    await sandbox.phoneChatAction(ALICE, { type: 'markRead', chat: carol, read: false });
    await sandbox.phoneChatAction(ALICE, { type: 'star', chat: carol, messageId: 'ABCDEF0123', fromMe: false, starred: true });
    for (const session of [first, second]) {
      await expect(session.waitFor<ChatsUpdate>('chats.update', (u) => u.some((c) => c.id === carol && c.muteEndTime === 1_900_000_000_000))).resolves.toBeDefined();
      await expect(session.waitFor<ChatsUpdate>('chats.update', (u) => u.some((c) => c.id === carol && c.unreadCount === -1))).resolves.toBeDefined();
      await expect(session.waitFor<MessagesUpdate>('messages.update', (u) => u.some((m) => m.key.id === 'ABCDEF0123' && m.update.starred === true))).resolves.toBeDefined();
    }
  });

  it('keeps labels to business accounts and syncs them', async () => {
    await expect(sandbox.phoneChatAction(ALICE, { type: 'labelEdit', labelId: '7', name: 'Lead', color: 2 })).rejects.toMatchObject({ status: 403 });
    sandbox.setBusiness(ALICE, true);
    await sandbox.phoneChatAction(ALICE, { type: 'labelEdit', labelId: '7', name: 'Lead', color: 2 });
    await sandbox.phoneChatAction(ALICE, { type: 'labelChat', labelId: '7', chat: carol, labeled: true });
    await expect(first.waitFor<LabelEdit>('labels.edit', (l) => l.id === '7' && l.name === 'Lead')).resolves.toBeDefined();
    await expect(first.waitFor<LabelAssociation>('labels.association', (l) => l.type === 'add' && l.association.chatId === carol)).resolves.toBeDefined();
  });

  it('hands a newly linked device a long collection in pages (has_more_patches) that verify to the same LT-hash', async () => {
    for (let i = 0; i < 120; i++) await sandbox.phoneChatAction(ALICE, { type: 'pin', chat: `1555000${String(1000 + i)}@s.whatsapp.net`, pinned: true });
    const { version } = (await sandbox.appState(ALICE)).collections.regular_low;
    const third = await pairWithQr(sandbox, ALICE);
    try {
      const deadline = Date.now() + 30_000;
      let synced: { version?: number; hash?: Uint8Array } | undefined;
      // Polls the device's stored collection state until it reached the phone's version.
      while (Date.now() < deadline && (synced?.version ?? 0) < version) {
        synced = (await third.auth.keys.get('app-state-sync-version', ['regular_low'])).regular_low as typeof synced;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await expect(Promise.resolve(synced?.version)).resolves.toBe(version);
      // The first companion fetched the same patches one notification at a time: same LT-hash.
      await first.sock.resyncAppState(['regular_low'], false);
      const caughtUp = (await first.auth.keys.get('app-state-sync-version', ['regular_low'])).regular_low as { version: number; hash: Uint8Array };
      await expect(Promise.resolve(Buffer.from(synced!.hash!).equals(Buffer.from(caughtUp.hash)))).resolves.toBe(true);
    } finally {
      await third.end();
    }
  });

  it('refuses a patch built on an old version with a 409 conflict on the collection', async () => {
    const result = await first.sock.query({
      tag: 'iq',
      attrs: { to: 's.whatsapp.net', type: 'set', xmlns: 'w:sync:app:state' },
      content: [{ tag: 'sync', attrs: {}, content: [{ tag: 'collection', attrs: { name: 'regular_low', version: '0', return_snapshot: 'false' }, content: [{ tag: 'patch', attrs: {}, content: Buffer.alloc(0) }] }] }],
    });
    const collection = (result.content as any[])[0].content[0];
    await expect(Promise.resolve({ type: collection.attrs.type, code: collection.content[0].attrs.code })).resolves.toEqual({ type: 'error', code: '409' });
  });

  it('stores what a device writes without checking it, and the phone (a client) notices a bad MAC', async () => {
    const { version } = (await sandbox.appState(ALICE)).collections.regular_high;
    const { proto } = await import('@whiskeysockets/baileys');
    const forged = proto.SyncdPatch.encode({
      keyId: { id: Buffer.from(first.auth.creds.myAppStateKeyId ?? '', 'base64') },
      snapshotMac: Buffer.alloc(32),
      patchMac: Buffer.alloc(32),
      mutations: [],
    }).finish();
    await first.sock.query({
      tag: 'iq',
      attrs: { to: 's.whatsapp.net', type: 'set', xmlns: 'w:sync:app:state' },
      content: [{ tag: 'sync', attrs: {}, content: [{ tag: 'collection', attrs: { name: 'regular_high', version: String(version), return_snapshot: 'false' }, content: [{ tag: 'patch', attrs: {}, content: forged }] }] }],
    });
    const state = await sandbox.appState(ALICE);
    await expect(Promise.resolve(state.failures.join('\n'))).resolves.toMatch(/regular_high/);
  });
});

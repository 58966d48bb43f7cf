import { readFileSync } from 'node:fs';
import { WaSandbox } from '../src/index';
import { loadBaileys } from '../src/baileys.loader';
import { sandboxMediaDispatcher } from '../src/media-host.dispatcher';
import { silentLogger } from '../src/silent.logger';
import { pairWithQr, type SandboxSession } from '../src/testing';

type ContactsUpsert = Array<{ id: string; name?: string }>;
type LabelEdit = { id: string; name?: string };
type LabelAssociation = { type: 'add' | 'remove'; association: { chatId: string; labelId: string } };

/**
 * App-state snapshots: the server compacts a collection every few patches (here 5) and hands a
 * device that syncs from scratch the snapshot, a blob on the media host, plus the patches after
 * it. Baileys downloads and decodes it with its own code; the MAC is the writer's, so a snapshot
 * altered on the way is noticed.
 */
describe(`${WaSandbox.name} app-state snapshots`, () => {
  let sandbox: WaSandbox;
  let first: SandboxSession;
  const ALICE = '15550000041';
  const jid = (n: number) => `1555000${String(2000 + n)}@s.whatsapp.net`;

  const keyArrived = (session: SandboxSession) => session.waitFor<{ myAppStateKeyId?: string }>('creds.update', (update) => !!update.myAppStateKeyId);

  /** What a device asking for `name` from version 0 gets, as Baileys extracts it (snapshot downloaded). */
  const fromScratch = async (session: SandboxSession, name: 'regular_low' | 'critical_unblock_low') => {
    const baileys = await loadBaileys();
    const result = await session.sock.query({
      tag: 'iq',
      attrs: { to: 's.whatsapp.net', type: 'set', xmlns: 'w:sync:app:state' },
      content: [{ tag: 'sync', attrs: {}, content: [{ tag: 'collection', attrs: { name, version: '0', return_snapshot: 'true' } }] }],
    });
    const options = { dispatcher: sandboxMediaDispatcher(sandbox.mediaBaseUrl, readFileSync(sandbox.mediaCaFile, 'utf8')) } as RequestInit;
    return (await baileys.extractSyncdPatches(result, options))[name]!;
  };
  const keyOf = (session: SandboxSession) => async (id: string) => (await session.auth.keys.get('app-state-sync-key', [id]))[id] ?? undefined;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create({ appStateSnapshotEvery: 5 })).start();
    await sandbox.createPhone(ALICE, 'Alice');
    sandbox.setBusiness(ALICE, true);
    first = await pairWithQr(sandbox, ALICE);
    await keyArrived(first);
    // regular_low: 6 patches (a snapshot at 5, one after); critical_unblock_low: 6; regular: 6.
    await sandbox.phoneChatAction(ALICE, { type: 'archive', chat: jid(1), archived: true });
    await sandbox.phoneChatAction(ALICE, { type: 'pin', chat: jid(2), pinned: true });
    await sandbox.phoneChatAction(ALICE, { type: 'pin', chat: jid(3), pinned: true });
    await sandbox.phoneChatAction(ALICE, { type: 'pin', chat: jid(3), pinned: false });
    await sandbox.phoneChatAction(ALICE, { type: 'archive', chat: jid(4), archived: true });
    await sandbox.phoneChatAction(ALICE, { type: 'archive', chat: jid(4), archived: false });
    for (let n = 1; n <= 5; n++) await sandbox.phoneChatAction(ALICE, { type: 'contact', jid: jid(n), fullName: `Contact ${n}` });
    await sandbox.phoneChatAction(ALICE, { type: 'contact', jid: jid(5), fullName: null });
    await sandbox.phoneChatAction(ALICE, { type: 'labelEdit', labelId: '1', name: 'Lead', color: 1 });
    await sandbox.phoneChatAction(ALICE, { type: 'labelEdit', labelId: '2', name: 'Paid', color: 2 });
    await sandbox.phoneChatAction(ALICE, { type: 'labelEdit', labelId: '2', name: 'Paid', color: 2, deleted: true });
    await sandbox.phoneChatAction(ALICE, { type: 'labelChat', labelId: '1', chat: jid(1), labeled: true });
    await sandbox.phoneChatAction(ALICE, { type: 'labelChat', labelId: '1', chat: jid(2), labeled: true });
    await sandbox.phoneChatAction(ALICE, { type: 'labelChat', labelId: '1', chat: jid(2), labeled: false });
  });

  afterAll(async () => {
    await first?.end();
    await sandbox.stop();
  });

  it('answers a sync from scratch with the snapshot and the patches after it, which verify to the phone state', async () => {
    const phone = await sandbox.appState(ALICE);
    expect(phone.failures).toEqual([]);
    const { snapshot, patches } = await fromScratch(first, 'regular_low');
    expect([Number(snapshot?.version?.version), patches.map((p) => Number(p.version?.version))]).toEqual([5, [6]]);
    const baileys = await loadBaileys();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (...args: unknown[]) => void warnings.push(String(args[args.length - 1])) };
    const restored = await baileys.decodeSyncdSnapshot('regular_low', snapshot!, keyOf(first), undefined, true, logger);
    const after = await baileys.decodePatches('regular_low', patches, restored.state, keyOf(first), {}, undefined, logger, true);
    expect(warnings).toEqual([]);
    // Same LT-hash as the device that read every patch one by one.
    await first.sock.resyncAppState(['regular_low'], false);
    const followed = (await first.auth.keys.get('app-state-sync-version', ['regular_low'])).regular_low as { version: number; hash: Uint8Array };
    expect([after.state.version, Buffer.from(after.state.hash).equals(Buffer.from(followed.hash))]).toEqual([6, true]);
    // One record per index, not a history: jid(3) pinned then unpinned is one record.
    expect(Object.keys(restored.mutationMap)).toHaveLength(4);
  });

  it('links a new device after many changes to the same collections, contact names and labels', async () => {
    const late = await pairWithQr(sandbox, ALICE);
    try {
      await expect(late.waitFor<ContactsUpsert>('contacts.upsert', (u) => u.some((c) => c.id === jid(4) && c.name === 'Contact 4'), 30_000)).resolves.toBeDefined();
      await expect(late.waitFor<LabelEdit>('labels.edit', (l) => l.id === '1' && l.name === 'Lead')).resolves.toBeDefined();
      await expect(late.waitFor<LabelAssociation>('labels.association', (l) => l.type === 'add' && l.association.chatId === jid(1))).resolves.toBeDefined();
      const names = late.events.filter((e) => e.name === 'contacts.upsert').flatMap((e) => e.data as ContactsUpsert);
      // jid(5)'s name was removed in the patch after the snapshot: the device ends without it.
      expect(names.filter((c) => c.id === jid(5) && c.name)).toEqual([]);
      // Archive and pin are in the state too, with the same LT-hash as the device that followed
      // patch by patch (Baileys holds back their chats.update on a first sync until its history
      // sync lists the chat, which the sandbox phone's does not).
      const collections = ['regular_low', 'critical_unblock_low', 'regular'];
      const deadline = Date.now() + 30_000;
      const stateOf = async (session: SandboxSession) => (await session.auth.keys.get('app-state-sync-version', collections)) as Record<string, { version: number; hash: Uint8Array } | undefined>;
      while (Object.values(await stateOf(late)).filter((s) => s?.version === 6).length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await first.sock.resyncAppState(collections as never, false);
      const [mine, theirs] = [await stateOf(late), await stateOf(first)];
      for (const name of collections) {
        expect([name, mine[name]?.version, Buffer.from(mine[name]!.hash).equals(Buffer.from(theirs[name]!.hash))]).toEqual([name, 6, true]);
      }
    } finally {
      await late.end();
    }
  });

  it('makes a tampered snapshot fail loudly in Baileys: a wrong MAC is reported, a wrong record index throws', async () => {
    const baileys = await loadBaileys();
    const { snapshot } = await fromScratch(first, 'critical_unblock_low');
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (...args: unknown[]) => void warnings.push(String(args[args.length - 1])) };
    const macTampered = baileys.proto.SyncdSnapshot.decode(baileys.proto.SyncdSnapshot.encode(snapshot!).finish());
    macTampered.mac = Buffer.from(macTampered.mac!).map((byte, i) => (i === 0 ? byte ^ 0xff : byte));
    await baileys.decodeSyncdSnapshot('critical_unblock_low', macTampered, keyOf(first), undefined, true, logger);
    expect(warnings).toEqual(['LTHash verification failed on snapshot, continuing with partial state']);
    const indexTampered = baileys.proto.SyncdSnapshot.decode(baileys.proto.SyncdSnapshot.encode(snapshot!).finish());
    indexTampered.records[0]!.index!.blob = Buffer.alloc(32, 7);
    await expect(baileys.decodeSyncdSnapshot('critical_unblock_low', indexTampered, keyOf(first), undefined, true, logger)).rejects.toThrow('HMAC index verification failed');
  });
});

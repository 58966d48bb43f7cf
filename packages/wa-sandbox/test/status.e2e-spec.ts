import { WaSandbox } from '../src/index';
import { pairWithQr, type SandboxSession } from '../src/testing';

type Upsert = { messages: Array<{ key: { id?: string | null; remoteJid?: string | null; participant?: string | null }; message?: Record<string, any> | null }> };

describe(`${WaSandbox.name} status updates`, () => {
  let sandbox: WaSandbox;
  let alice: SandboxSession;
  const ALICE = '15550000041';
  const BOB = '15550000042';
  const CAROL = '15550000043';
  const pn = (phone: string) => `${phone}@s.whatsapp.net`;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    for (const phone of [ALICE, BOB, CAROL]) await sandbox.createPhone(phone);
    alice = await pairWithQr(sandbox, ALICE);
  });

  afterAll(async () => {
    await alice?.end();
    await sandbox.stop();
  });

  it('delivers a Baileys status to the listed contacts only, from status@broadcast', async () => {
    const sent = await alice.sock.sendMessage('status@broadcast', { text: 'out of office' }, { statusJidList: [pn(CAROL)], backgroundColor: '#ff0000', font: 2 } as never);
    const got = await sandbox.waitForReceived(CAROL, (m) => m.id === sent?.key.id);
    await expect(Promise.resolve(got)).resolves.toMatchObject({ kind: 'text', text: 'out of office', chat: 'status@broadcast', fromPn: pn(ALICE) });
    await expect(Promise.resolve(sandbox.received(BOB).some((m) => m.id === sent?.key.id))).resolves.toBe(false);
  });

  it('reports a view of a Baileys status as a read receipt from status@broadcast naming the viewer', async () => {
    const sent = await alice.sock.sendMessage('status@broadcast', { text: 'seen?' }, { statusJidList: [pn(CAROL)] } as never);
    await sandbox.waitForReceived(CAROL, (m) => m.id === sent?.key.id);
    await sandbox.viewStatus(CAROL, pn(ALICE), [sent?.key.id ?? '']);
    type Receipt = Array<{ key: { id?: string | null; remoteJid?: string | null }; receipt: { userJid?: string; readTimestamp?: number } }>;
    const receipt = await alice.waitFor<Receipt>('message-receipt.update' as never, (r) => r.some((i) => i.key.id === sent?.key.id && !!i.receipt.readTimestamp));
    const item = receipt.find((i) => i.key.id === sent?.key.id)!;
    await expect(Promise.resolve([item.key.remoteJid, item.receipt.userJid])).resolves.toEqual(['status@broadcast', (await sandbox.listPhones()).find((p) => p.phone === CAROL)?.lid]);
  });

  it("delivers a contact's status to Baileys with its colours", async () => {
    const { id } = await sandbox.postStatus(CAROL, 'new menu today', [ALICE], { backgroundArgb: 0xff00ff00, font: 1 });
    const upsert = await alice.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === id));
    const message = upsert.messages.find((m) => m.key.id === id)!;
    await expect(Promise.resolve({ chat: message.key.remoteJid, text: message.message?.extendedTextMessage?.text, font: message.message?.extendedTextMessage?.font })).resolves.toEqual({
      chat: 'status@broadcast',
      text: 'new menu today',
      font: 1,
    });
  });
});

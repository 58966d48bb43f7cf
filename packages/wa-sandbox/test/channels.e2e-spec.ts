import { WaSandbox } from '../src/index';
import { pairWithQr, type SandboxSession } from '../src/testing';

type Upsert = { messages: Array<{ key: { id?: string | null; remoteJid?: string | null; fromMe?: boolean | null; server_id?: string }; message?: Record<string, any> | null }> };
/** Baileys' newsletter calls, loosely typed: the tests read the raw answers WhatsApp gives. */
type Sock = Record<string, (...args: any[]) => any>;

/** The error code of the ack refusing our message, from `messages.update` or the upsert it was folded into. */
async function refusalOf(session: SandboxSession, id: string): Promise<string | undefined> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    for (const { name, data } of session.events) {
      const items = name === 'messages.update' ? (data as Array<{ key: { id?: string }; update: { messageStubParameters?: string[] } }>).map((i) => ({ id: i.key.id, ...i.update })) : name === 'messages.upsert' ? (data as { messages: Array<{ key: { id?: string }; status?: unknown; messageStubParameters?: string[] }> }).messages.map((m) => ({ id: m.key.id, ...m })) : [];
      const hit = items.find((i) => i.id === id && i.messageStubParameters?.length);
      if (hit) return hit.messageStubParameters?.[0];
    }
    if (Date.now() > deadline) throw new Error(`no refusal of ${id} within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe(`${WaSandbox.name} channels`, () => {
  let sandbox: WaSandbox;
  let owner: SandboxSession;
  let follower: SandboxSession;
  const OWNER = '15550000061';
  const FOLLOWER = '15550000062';
  const PHONE = '15550000063';
  const sock = (s: SandboxSession) => s.sock as unknown as Sock;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    for (const phone of [OWNER, FOLLOWER, PHONE]) await sandbox.createPhone(phone);
    owner = await pairWithQr(sandbox, OWNER);
    follower = await pairWithQr(sandbox, FOLLOWER);
  });

  afterAll(async () => {
    await owner?.end();
    await follower?.end();
    await sandbox.stop();
  });

  it("creates a channel with Baileys, answers its metadata by jid and invite, and delivers the owner's post to a follower in plaintext", async () => {
    const created = await sock(owner).newsletterCreate('Daily menu', 'What we cook today');
    await expect(Promise.resolve(created)).resolves.toMatchObject({ name: 'Daily menu', description: 'What we cook today', subscribers: 0 });
    const byInvite = await sock(follower).newsletterMetadata('invite', created.invite);
    await expect(Promise.resolve(byInvite)).resolves.toMatchObject({ id: created.id, viewer_metadata: { role: 'GUEST' } });

    await sock(follower).newsletterFollow(created.id);
    await sandbox.followChannel(PHONE, created.invite, true);
    const metadata = await sock(follower).newsletterMetadata('jid', created.id);
    await expect(Promise.resolve([metadata.viewer_metadata.role, metadata.thread_metadata.subscribers_count])).resolves.toEqual(['SUBSCRIBER', '2']);

    const sent = await owner.sock.sendMessage(created.id, { text: 'Soup of the day: lentils' });
    const upsert = await follower.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.id === sent?.key.id));
    const got = upsert.messages.find((m) => m.key.id === sent?.key.id)!;
    await expect(Promise.resolve({ chat: got.key.remoteJid, fromMe: got.key.fromMe, text: got.message?.conversation ?? got.message?.extendedTextMessage?.text, serverId: got.key.server_id })).resolves.toEqual({
      chat: created.id,
      fromMe: false,
      text: 'Soup of the day: lentils',
      serverId: '100',
    });
    await expect(sandbox.waitForReceived(PHONE, (m) => m.id === sent?.key.id)).resolves.toMatchObject({ chat: created.id, text: 'Soup of the day: lentils' });

    await sock(follower).newsletterReactMessage(created.id, '100', '👍');
    await sock(follower).newsletterReactMessage(created.id, '100', '❤️');
    const fetched = await sock(follower).newsletterFetchMessages(created.id, 10);
    const message = (fetched.content[0].content[0].content as Array<{ attrs: Record<string, string>; content: Array<{ tag: string; content: any }> }>)[0]!;
    const reactions = message.content.find((c) => c.tag === 'reactions')!.content.map((r: { attrs: Record<string, string> }) => r.attrs);
    await expect(Promise.resolve({ id: message.attrs.id, serverId: message.attrs.server_id, reactions })).resolves.toEqual({ id: sent?.key.id, serverId: '100', reactions: [{ code: '❤️', count: '1' }] });
  });

  it('lets only the owner change and delete a channel, refuses posts from followers, and answers 404 once it is deleted', async () => {
    const { jid } = sandbox.createChannel(PHONE, 'Phone news');
    await sock(follower).newsletterFollow(jid);
    await expect(sock(follower).newsletterUpdateName(jid, 'Taken over')).rejects.toMatchObject({ output: { statusCode: 403 } });
    await expect(sock(follower).newsletterDelete(jid)).rejects.toMatchObject({ output: { statusCode: 403 } });

    const refused = await follower.sock.sendMessage(jid, { text: 'not mine to post' });
    // The refusal is the ack's error; Baileys folds it into the upsert when it lands while events are buffered.
    const refusal = await refusalOf(follower, refused?.key.id ?? '');
    await expect(Promise.resolve(refusal)).resolves.toBe('403');
    await expect(Promise.resolve(sandbox.channel(jid).posts)).resolves.toEqual([]);

    const subscribed = await sock(follower).query({ tag: 'iq', attrs: { id: sock(follower).generateMessageTag(), type: 'get', to: 's.whatsapp.net', xmlns: 'w:mex' }, content: [{ tag: 'query', attrs: { query_id: '6388546374527196' }, content: Buffer.from(JSON.stringify({ variables: {} })) }] });
    const list = JSON.parse(Buffer.from(subscribed.content[0].content).toString()).data.xwa2_newsletter_subscribed.map((n: { id: string }) => n.id);
    await expect(Promise.resolve(list)).resolves.toContain(jid);

    const { serverId } = await sandbox.postToChannel(PHONE, jid, 'from the phone');
    await follower.waitFor<Upsert>('messages.upsert', (u) => u.messages.some((m) => m.key.remoteJid === jid && m.key.server_id === String(serverId)));
    await sock(follower).newsletterUnfollow(jid);
    await expect(Promise.resolve(sandbox.channel(jid).subscribers)).resolves.toEqual([]);

    const own = await sock(owner).newsletterCreate('Short lived');
    await expect(sock(owner).newsletterUnfollow(own.id)).rejects.toMatchObject({ output: { statusCode: 400 } });
    await sock(owner).newsletterUpdateDescription(own.id, 'now with a description');
    await expect(sock(owner).newsletterMetadata('jid', own.id)).resolves.toMatchObject({ thread_metadata: { description: { text: 'now with a description' } }, viewer_metadata: { role: 'OWNER' } });
    await sock(owner).newsletterDelete(own.id);
    await expect(sock(owner).newsletterMetadata('jid', own.id)).rejects.toMatchObject({ output: { statusCode: 404 } });
  });
});

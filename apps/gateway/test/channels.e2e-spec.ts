import { WaSandbox } from '@wa/wa-sandbox';
import { FeatureStack } from './feature-stack';
import { ApiClient, handedOver, type Envelope } from './session-fixture';
import { WebhookReceiver } from './webhook-receiver';
import { HANG_MS } from './deadlines';

/**
 * Channels (WhatsApp newsletters) end to end: the session follows a channel a virtual phone owns
 * (by invite link), gets its posts as events and stored messages, reacts, mutes, and is refused
 * what only the owner may do; then it creates its own channel, posts to it through the normal
 * send path (the phone, a follower, receives the post), renames and deletes it.
 */
describe('channels (gateway + runner + Baileys against the sandbox)', () => {
  const ORG = 'org-channels';
  const US = '4917500000001';
  const PUBLISHER = '4917500000002';
  let stack: FeatureStack;
  let sandbox: WaSandbox;
  let client: ApiClient;
  let hooks: WebhookReceiver;
  let session: string;

  const call = (path: string, method = 'GET', body?: unknown, init: { org?: string; role?: string } = {}): Promise<Envelope> => client.envelope(path, { method, body, ...init });
  const channelPath = (channel: string, rest = '') => `/sessions/${session}/channels/${encodeURIComponent(channel)}${rest}`;
  const outboxStatus = async (outboxId: string, wanted: string): Promise<string> => {
    const deadline = Date.now() + HANG_MS;
    let status = '';
    while (Date.now() < deadline && status !== wanted) {
      status = ((await call(`/sessions/${session}/outbox/${outboxId}`)).body.status as string) ?? '';
      if (status !== wanted) await new Promise((r) => setTimeout(r, 50));
    }
    return status;
  };

  beforeAll(async () => {
    stack = await FeatureStack.start({ org: ORG, events: ['channel.message', 'message.received'], unpaced: true });
    ({ sandbox, client, hooks } = stack);
    await sandbox.createPhone(US, 'Us');
    await sandbox.createPhone(PUBLISHER, 'Publisher');
    session = (await client.linkSession(sandbox, US, 'us')).id;
  });

  afterAll(() => stack?.close());

  it("follows a phone's channel by invite link, gets its posts as events and stored messages, reacts and mutes, and is refused the owner's rights", async () => {
    const theirs = sandbox.createChannel(PUBLISHER, 'Daily menu', 'What we cook today');
    const link = `https://whatsapp.com/channel/${theirs.invite}`;
    const guest = await call(channelPath(theirs.invite));
    expect([guest.status, guest.body]).toEqual([200, expect.objectContaining({ jid: theirs.jid, name: 'Daily menu', description: 'What we cook today', inviteLink: link, role: 'guest', subscribers: 0, muted: false })]);

    // Capabilities and isolation first: a reader may not follow, another org sees no session.
    expect((await call(channelPath(link, '/follow'), 'PUT', undefined, { role: 'viewer' })).status).toBe(403);
    expect((await call(channelPath(link, '/follow'), 'PUT', undefined, { org: 'org-other' })).body.error?.code).toBe('not_found');
    expect((await call(channelPath('not a channel'))).body.error?.code).toBe('validation_error');
    expect((await call(channelPath('120363000000000000@newsletter'))).body.error?.code).toBe('not_found');

    const followed = await call(channelPath(link, '/follow'), 'PUT');
    expect([followed.status, followed.body]).toEqual([200, expect.objectContaining({ jid: theirs.jid, role: 'subscriber', subscribers: 1 })]);
    expect(sandbox.channel(theirs.jid).subscribers).toEqual([US]);
    expect(((await call(`/sessions/${session}/channels`)).body.data ?? []).map((c) => [c.jid, c.role])).toEqual([[theirs.jid, 'subscriber']]);

    const post = await sandbox.postToChannel(PUBLISHER, theirs.jid, 'Soup of the day: lentils');
    const event = await hooks.eventFor(session, 'channel.message', (d) => d.messageId === post.id);
    expect(event.data).toEqual({ channel: theirs.jid, messageId: post.id, serverId: String(post.serverId), type: 'text', text: 'Soup of the day: lentils', timestamp: expect.any(Number) });
    await hooks.eventFor(session, 'message.received', (d) => d.messageId === post.id);
    const stored = (await call(`/sessions/${session}/chats/${encodeURIComponent(theirs.jid)}/messages`)).body.data ?? [];
    expect(stored.map((m) => [m.id, m.sender, m.fromMe, (m.content as { text?: string } | undefined)?.text])).toEqual([[post.id, theirs.jid, false, 'Soup of the day: lentils']]);

    expect((await call(channelPath(theirs.jid, `/messages/${post.serverId}/reaction`), 'PUT', { emoji: '👍' })).status).toBe(204);
    expect(sandbox.channel(theirs.jid).posts).toEqual([expect.objectContaining({ serverId: post.serverId, reactions: { '👍': 1 } })]);
    const posts = await call(channelPath(theirs.jid, '/messages?limit=5'));
    expect(posts.body).toEqual({ data: [{ serverId: String(post.serverId), messageId: post.id, timestamp: expect.any(Number), type: 'text', text: 'Soup of the day: lentils', reactions: { '👍': 1 }, views: 0 }], nextCursor: '' });
    expect((await call(channelPath(theirs.jid, `/messages/${post.serverId}/reaction`), 'DELETE')).status).toBe(204);
    expect(sandbox.channel(theirs.jid).posts[0]?.reactions).toEqual({});

    expect((await call(channelPath(theirs.jid, '/mute'), 'PUT')).body).toMatchObject({ muted: true });
    expect((await call(channelPath(theirs.jid))).body).toMatchObject({ muted: true });
    expect((await call(channelPath(theirs.jid, '/mute'), 'DELETE')).body).toMatchObject({ muted: false });

    // Only the owner (and admins) edit and post, only the owner deletes: WhatsApp's 403.
    const rename = await call(channelPath(theirs.jid), 'PATCH', { name: 'Taken over' });
    expect([rename.status, rename.body.error?.code]).toEqual([403, 'forbidden']);
    expect((await call(channelPath(theirs.jid), 'DELETE')).body.error?.code).toBe('forbidden');
    const refused = await call(`/sessions/${session}/messages`, 'POST', { chat: theirs.jid, type: 'text', text: 'not mine to post' });
    expect(await outboxStatus(refused.body.outboxId as string, 'failed')).toBe('failed');
    expect(sandbox.channel(theirs.jid).posts).toHaveLength(1);

    const unfollowed = await call(channelPath(theirs.jid, '/follow'), 'DELETE');
    expect([unfollowed.status, unfollowed.body.role]).toEqual([200, 'guest']);
    expect((await call(`/sessions/${session}/channels`)).body).toEqual({ data: [], nextCursor: '' });
    expect((await call(channelPath(theirs.jid, '/mute'), 'PUT')).body.error?.code).toBe('forbidden');
  });

  it('creates a channel, posts to it through the normal send path to a following phone, renames it and deletes it', async () => {
    const created = await call(`/sessions/${session}/channels`, 'POST', { name: 'Shop news', description: 'Offers' });
    expect([created.status, created.body]).toEqual([201, expect.objectContaining({ name: 'Shop news', description: 'Offers', role: 'owner', subscribers: 0 })]);
    const jid = created.body.jid as string;
    expect((await call(`/sessions/${session}/channels`, 'POST', { name: '' })).body.error?.code).toBe('validation_error');
    sandbox.followChannel(PUBLISHER, jid, true);

    const sent = await call(`/sessions/${session}/messages`, 'POST', { chat: jid, type: 'text', text: 'Half price today' });
    expect([sent.status, sent.body.status]).toEqual([200, handedOver()]);
    await expect(sandbox.waitForReceived(PUBLISHER, (m) => m.id === sent.body.waMessageId)).resolves.toMatchObject({ chat: jid, text: 'Half price today' });
    const posts = (await call(channelPath(jid, '/messages'))).body.data ?? [];
    expect(posts.map((p) => [p.messageId, p.text])).toEqual([[sent.body.waMessageId, 'Half price today']]);

    const renamed = await call(channelPath(jid), 'PATCH', { name: 'Shop news (Berlin)' });
    expect([renamed.status, renamed.body]).toEqual([200, expect.objectContaining({ name: 'Shop news (Berlin)', description: 'Offers', subscribers: 1 })]);
    expect(sandbox.channel(jid).name).toBe('Shop news (Berlin)');
    expect((await call(channelPath(jid), 'PATCH', {})).body.error?.code).toBe('validation_error');
    expect((await call(channelPath(jid, '/follow'), 'DELETE')).body.error?.code).toBe('validation_error');

    expect((await call(channelPath(jid), 'DELETE')).status).toBe(204);
    expect((await call(channelPath(jid))).body.error?.code).toBe('not_found');
    expect(((await call(`/sessions/${session}/channels`)).body.data ?? []).map((c) => c.jid)).not.toContain(jid);
  });
});

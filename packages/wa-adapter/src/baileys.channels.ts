import type { BaileysModule } from './baileys.loader';
import type { WaChannel, WaChannelMessage, WaChannelOps, WaChannelRole } from './wa-channels.port';

type Socket = ReturnType<BaileysModule['makeWASocket']>;
type BinaryNode = Awaited<ReturnType<Socket['query']>>;

/** whatsmeow's query for the followed channels, which Baileys rc14 does not wrap. */
const SUBSCRIBED_QUERY_ID = '6388546374527196';
const SUBSCRIBED_PATH = 'xwa2_newsletter_subscribed';

interface RawChannel {
  id?: string;
  thread_metadata?: {
    creation_time?: string;
    name?: { text?: string };
    description?: { text?: string };
    invite?: string;
    subscribers_count?: string;
    verification?: string;
  };
  viewer_metadata?: { mute?: string; role?: string };
}

const ROLES: Record<string, WaChannelRole> = { OWNER: 'owner', ADMIN: 'admin', SUBSCRIBER: 'subscriber', GUEST: 'guest' };

function toChannel(raw: RawChannel): WaChannel {
  const thread = raw.thread_metadata ?? {};
  const created = Number(thread.creation_time);
  return {
    jid: raw.id ?? '',
    name: thread.name?.text ?? '',
    description: thread.description?.text ?? '',
    invite: thread.invite ?? '',
    ...(created ? { createdAtMs: created * 1000 } : {}),
    subscribers: Number(thread.subscribers_count ?? 0) || 0,
    verified: thread.verification === 'VERIFIED',
    role: ROLES[String(raw.viewer_metadata?.role ?? '').toUpperCase()] ?? 'guest',
    muted: String(raw.viewer_metadata?.mute ?? '').toUpperCase() === 'ON',
  };
}

const childrenOf = (node: BinaryNode | undefined): BinaryNode[] => (Array.isArray(node?.content) ? node.content : []);
const childOf = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined => childrenOf(node).find((c) => c.tag === tag);

/** Channels (newsletters) on the live socket, with Baileys' `newsletter*` calls. */
export class BaileysChannels implements WaChannelOps {
  constructor(
    private readonly socket: () => Socket,
    private readonly baileys: () => Promise<BaileysModule>,
  ) {}

  async createChannel(name: string, description?: string): Promise<WaChannel> {
    const created = await this.socket().newsletterCreate(name, description);
    // The creation answer lacks the viewer's role; the metadata has it.
    return (await this.channelMetadata({ jid: created.id })) ?? { jid: created.id, name, description: description ?? '', invite: created.invite ?? '', subscribers: 0, verified: false, role: 'owner', muted: false };
  }

  async channelMetadata(key: { jid: string } | { invite: string }): Promise<WaChannel | undefined> {
    const raw = 'jid' in key ? await this.socket().newsletterMetadata('jid', key.jid) : await this.socket().newsletterMetadata('invite', key.invite);
    return raw ? toChannel(raw as unknown as RawChannel) : undefined;
  }

  async followChannel(jid: string, following: boolean): Promise<void> {
    await (following ? this.socket().newsletterFollow(jid) : this.socket().newsletterUnfollow(jid));
  }

  async muteChannel(jid: string, muted: boolean): Promise<void> {
    await (muted ? this.socket().newsletterMute(jid) : this.socket().newsletterUnmute(jid));
  }

  async updateChannel(jid: string, change: { name?: string; description?: string }): Promise<void> {
    await this.socket().newsletterUpdate(jid, { ...(change.name !== undefined ? { name: change.name } : {}), ...(change.description !== undefined ? { description: change.description } : {}) });
  }

  async deleteChannel(jid: string): Promise<void> {
    await this.socket().newsletterDelete(jid);
  }

  async followedChannels(): Promise<WaChannel[]> {
    const sock = this.socket();
    const answer = await sock.query({
      tag: 'iq',
      attrs: { id: sock.generateMessageTag(), type: 'get', to: 's.whatsapp.net', xmlns: 'w:mex' },
      content: [{ tag: 'query', attrs: { query_id: SUBSCRIBED_QUERY_ID }, content: Buffer.from(JSON.stringify({ variables: {} }), 'utf8') }],
    });
    const result = childOf(answer, 'result');
    const body = result?.content instanceof Uint8Array ? JSON.parse(Buffer.from(result.content).toString('utf8')) : undefined;
    const list = (body as { data?: Record<string, RawChannel[]> } | undefined)?.data?.[SUBSCRIBED_PATH];
    return Array.isArray(list) ? list.map(toChannel) : [];
  }

  async channelMessages(jid: string, count: number): Promise<WaChannelMessage[]> {
    const b = await this.baileys();
    const answer = (await this.socket().newsletterFetchMessages(jid, count, undefined as unknown as number, undefined as unknown as number)) as BinaryNode;
    const messages = childOf(childOf(answer, 'message_updates'), 'messages');
    return childrenOf(messages)
      .filter((m) => m.tag === 'message')
      .map((m) => {
        const plaintext = childOf(m, 'plaintext')?.content;
        const content = plaintext instanceof Uint8Array ? b.proto.Message.decode(plaintext) : undefined;
        const text = content?.conversation || content?.extendedTextMessage?.text || content?.imageMessage?.caption || content?.videoMessage?.caption || undefined;
        const reactions: Record<string, number> = {};
        for (const r of childrenOf(childOf(m, 'reactions'))) if (r.attrs.code) reactions[r.attrs.code] = Number(r.attrs.count ?? 0) || 0;
        return {
          serverId: m.attrs.server_id ?? '',
          messageId: m.attrs.id ?? '',
          timestampMs: (Number(m.attrs.t) || 0) * 1000,
          type: m.attrs.type ?? 'text',
          ...(text ? { text } : {}),
          reactions,
          views: Number(childOf(m, 'views_count')?.attrs.count ?? 0) || 0,
        };
      });
  }

  async reactToChannelMessage(jid: string, serverId: string, emoji: string): Promise<void> {
    await this.socket().newsletterReactMessage(jid, serverId, emoji || undefined);
  }
}

import { Injectable } from '@nestjs/common';
import type {
  ChannelCreatePayload,
  ChannelFollowPayload,
  ChannelInfo,
  ChannelKeyPayload,
  ChannelMessageInfo,
  ChannelMessagesPayload,
  ChannelMutePayload,
  ChannelReactPayload,
  ChannelUpdatePayload,
  SessionRef,
} from '@wa/contracts/runtime';
import { AppError } from '@wa/domain';
import type { WaChannel, WaConnection } from '@wa/wa-adapter';
import { SessionManager } from '../sessions/session-manager';

const INVITE_LINK_BASE = 'https://whatsapp.com/channel/';
const JID = /^[0-9]{6,32}@newsletter$/;
const INVITE = /^(?:https:\/\/(?:www\.)?whatsapp\.com\/channel\/)?([0-9A-Za-z]{10,64})$/;

function statusOf(err: unknown): number | undefined {
  return (err as { output?: { statusCode?: number } }).output?.statusCode;
}

/**
 * WhatsApp answers channel queries with GraphQL errors carrying an HTTP-like code: 404 for a
 * channel that does not exist (or was deleted), 403 for what our role does not allow (only the
 * owner and admins edit and post, only the owner deletes), 400 for what it will not do at all.
 */
function fromWhatsApp(err: unknown, channel?: string): never {
  const status = statusOf(err);
  if (status === 404) throw new AppError('not_found', 'channel not found', { channel });
  if (status === 403 || status === 401) throw new AppError('forbidden', 'WhatsApp refused: our role in this channel does not allow this', { channel });
  if (status === 400) throw new AppError('validation_error', `WhatsApp refused: ${(err as Error).message.replace(/^GraphQL server error: /, '')}`, { channel });
  throw err;
}

function toInfo(c: WaChannel): ChannelInfo {
  return {
    jid: c.jid,
    name: c.name,
    description: c.description,
    invite: c.invite,
    inviteLink: c.invite ? `${INVITE_LINK_BASE}${c.invite}` : '',
    ...(c.createdAtMs ? { createdAt: c.createdAtMs } : {}),
    subscribers: c.subscribers,
    verified: c.verified,
    role: c.role,
    muted: c.muted,
  };
}

/** Channels (WhatsApp newsletters), each operation one or two queries to WhatsApp. */
@Injectable()
export class ChannelsService {
  constructor(private readonly sessions: SessionManager) {}

  async list(p: SessionRef): Promise<{ data: ChannelInfo[] }> {
    const connection = await this.connection(p);
    const channels = await connection.followedChannels().catch((e: unknown) => fromWhatsApp(e));
    return { data: channels.map(toInfo).sort((a, b) => (a.jid < b.jid ? -1 : 1)) };
  }

  async get(p: ChannelKeyPayload): Promise<ChannelInfo> {
    return toInfo(await this.metadata(await this.connection(p), p.channel));
  }

  async create(p: ChannelCreatePayload): Promise<ChannelInfo> {
    const connection = await this.connection(p);
    if (typeof p.name !== 'string' || !p.name.trim() || p.name.length > 100) throw new AppError('validation_error', 'name must be 1 to 100 characters');
    return toInfo(await connection.createChannel(p.name, p.description).catch((e: unknown) => fromWhatsApp(e)));
  }

  async update(p: ChannelUpdatePayload): Promise<ChannelInfo> {
    const connection = await this.connection(p);
    const jid = await this.jidOf(connection, p.channel);
    await connection.updateChannel(jid, { ...(p.name !== undefined ? { name: p.name } : {}), ...(p.description !== undefined ? { description: p.description } : {}) }).catch((e: unknown) => fromWhatsApp(e, jid));
    return toInfo(await this.metadata(connection, jid));
  }

  async delete(p: ChannelKeyPayload): Promise<Record<string, never>> {
    const connection = await this.connection(p);
    const jid = await this.jidOf(connection, p.channel);
    await connection.deleteChannel(jid).catch((e: unknown) => fromWhatsApp(e, jid));
    return {};
  }

  async follow(p: ChannelFollowPayload): Promise<ChannelInfo> {
    const connection = await this.connection(p);
    const jid = await this.jidOf(connection, p.channel);
    await connection.followChannel(jid, p.following).catch((e: unknown) => fromWhatsApp(e, jid));
    return toInfo(await this.metadata(connection, jid));
  }

  async mute(p: ChannelMutePayload): Promise<ChannelInfo> {
    const connection = await this.connection(p);
    const jid = await this.jidOf(connection, p.channel);
    await connection.muteChannel(jid, p.muted).catch((e: unknown) => fromWhatsApp(e, jid));
    return toInfo(await this.metadata(connection, jid));
  }

  async messages(p: ChannelMessagesPayload): Promise<{ data: ChannelMessageInfo[] }> {
    const connection = await this.connection(p);
    const jid = await this.jidOf(connection, p.channel);
    const limit = Number.isInteger(p.limit) && p.limit >= 1 && p.limit <= 100 ? p.limit : 20;
    const posts = await connection.channelMessages(jid, limit).catch((e: unknown) => fromWhatsApp(e, jid));
    // Newest first, as the API's other message lists.
    return {
      data: posts
        .map((m) => ({ serverId: m.serverId, messageId: m.messageId, timestamp: m.timestampMs, type: m.type, ...(m.text ? { text: m.text } : {}), reactions: m.reactions, views: m.views }))
        .reverse(),
    };
  }

  async react(p: ChannelReactPayload): Promise<Record<string, never>> {
    const connection = await this.connection(p);
    if (!/^[0-9]{1,20}$/.test(String(p.serverId))) throw new AppError('validation_error', 'serverId must be the number WhatsApp gave the post');
    const jid = (await this.metadata(connection, p.channel)).jid;
    await connection.reactToChannelMessage(jid, p.serverId, p.emoji).catch((e: unknown) => fromWhatsApp(e, jid));
    return {};
  }

  private async connection(p: SessionRef): Promise<WaConnection> {
    await this.sessions.requireSession(p);
    return this.sessions.connected(p);
  }

  private async jidOf(connection: WaConnection, channel: string): Promise<string> {
    return JID.test(channel) ? channel : (await this.metadata(connection, channel)).jid;
  }

  private async metadata(connection: WaConnection, channel: string): Promise<WaChannel> {
    const invite = INVITE.exec(channel)?.[1];
    if (!JID.test(channel) && !invite) throw new AppError('validation_error', 'channel must be a channel jid (…@newsletter), an invite code or an invite link', { channel });
    const found = await connection.channelMetadata(JID.test(channel) ? { jid: channel } : { invite: invite! }).catch((e: unknown) => fromWhatsApp(e, channel));
    if (!found) throw new AppError('not_found', 'channel not found', { channel });
    return found;
  }
}

/** Our role in a channel (WhatsApp newsletter), as WhatsApp's viewer metadata tells it. */
export type WaChannelRole = 'owner' | 'admin' | 'subscriber' | 'guest';

export interface WaChannel {
  jid: string;
  name: string;
  description: string;
  /** The invite code (`https://whatsapp.com/channel/<invite>`). */
  invite: string;
  createdAtMs?: number;
  subscribers: number;
  verified: boolean;
  role: WaChannelRole;
  muted: boolean;
}

/** A post as a channel's message list shows it: WhatsApp's server id, counts, and the content. */
export interface WaChannelMessage {
  serverId: string;
  messageId: string;
  timestampMs: number;
  type: string;
  text?: string;
  /** Reaction counts by emoji. */
  reactions: Record<string, number>;
  views: number;
}

/**
 * Channels through WhatsApp's GraphQL queries (`w:mex`) and `xmlns=newsletter` iqs. WhatsApp's
 * refusals come as errors carrying an HTTP-like status (`output.statusCode`): 400, 403, 404.
 */
export interface WaChannelOps {
  createChannel(name: string, description?: string): Promise<WaChannel>;
  /** Undefined when WhatsApp knows no such channel. */
  channelMetadata(key: { jid: string } | { invite: string }): Promise<WaChannel | undefined>;
  followChannel(jid: string, following: boolean): Promise<void>;
  muteChannel(jid: string, muted: boolean): Promise<void>;
  updateChannel(jid: string, change: { name?: string; description?: string }): Promise<void>;
  deleteChannel(jid: string): Promise<void>;
  /** The channels the account follows, owns or administers. */
  followedChannels(): Promise<WaChannel[]>;
  /** The latest `count` posts (oldest first). */
  channelMessages(jid: string, count: number): Promise<WaChannelMessage[]>;
  /** An empty emoji takes our reaction back. */
  reactToChannelMessage(jid: string, serverId: string, emoji: string): Promise<void>;
}

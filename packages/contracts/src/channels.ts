import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SessionRef } from './rpc';
import { named, Type, type Static } from './schema';
import { RPC_CHANNELS } from './rpc-names';
export { RPC_CHANNELS };

export const CHANNEL_JID_PATTERN = /^[0-9]{6,32}@newsletter$/;
/** A channel named by jid, by invite code, or by its invite link. */
export const CHANNEL_KEY_PATTERN = /^([0-9]{6,32}@newsletter|[0-9A-Za-z]{10,64}|https:\/\/(www\.)?whatsapp\.com\/channel\/[0-9A-Za-z]{10,64})$/;
export const CHANNEL_ROLES = ['owner', 'admin', 'subscriber', 'guest'] as const;

export const ChannelCreate = named(
  'ChannelCreate',
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 100, example: 'Daily menu' }),
      description: Type.Optional(Type.String({ maxLength: 2048, example: 'What we cook today, every morning at 9.' })),
    },
    { additionalProperties: false },
  ),
);
export type ChannelCreateDto = Static<typeof ChannelCreate>;

export const ChannelUpdate = named(
  'ChannelUpdate',
  Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, example: 'Daily menu (Berlin)' })),
      description: Type.Optional(Type.String({ maxLength: 2048, example: 'What we cook today.' })),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
);
export type ChannelUpdateDto = Static<typeof ChannelUpdate>;

export const ChannelReaction = named(
  'ChannelReaction',
  Type.Object({ emoji: Type.String({ minLength: 1, maxLength: 16, example: '👍', description: 'One emoji.' }) }, { additionalProperties: false }),
);
export type ChannelReactionDto = Static<typeof ChannelReaction>;

export const ChannelMessagesQuery = named(
  'ChannelMessagesQuery',
  Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'How many of the latest posts.' })) }, { additionalProperties: false }),
);
export type ChannelMessagesQueryDto = Static<typeof ChannelMessagesQuery>;

export type ChannelRole = (typeof CHANNEL_ROLES)[number];

export interface ChannelInfo {
  jid: string;
  name: string;
  description: string;
  invite: string;
  inviteLink: string;
  createdAt?: number;
  subscribers: number;
  verified: boolean;
  role: ChannelRole;
  muted: boolean;
}

export class ChannelDto implements ChannelInfo {
  @ApiProperty({ example: '120363123456789012@newsletter' })
  jid!: string;

  @ApiProperty({ example: 'Daily menu' })
  name!: string;

  @ApiProperty({ example: 'What we cook today, every morning at 9.' })
  description!: string;

  @ApiProperty({ example: '0029VaZ4fE3Bx9rT2mQ8kP1s', description: 'The invite code.' })
  invite!: string;

  @ApiProperty({ example: 'https://whatsapp.com/channel/0029VaZ4fE3Bx9rT2mQ8kP1s' })
  inviteLink!: string;

  @ApiPropertyOptional({ example: 1767225600000, description: 'Unix ms.' })
  createdAt?: number;

  @ApiProperty({ example: 42, description: 'How many follow it.' })
  subscribers!: number;

  @ApiProperty({ example: false })
  verified!: boolean;

  @ApiProperty({ enum: CHANNEL_ROLES, example: 'subscriber', description: 'Our role: `owner` and `admin` post and edit; only the `owner` deletes.' })
  role!: ChannelRole;

  @ApiProperty({ example: false, description: 'Whether we muted it.' })
  muted!: boolean;
}

export interface ChannelMessageInfo {
  serverId: string;
  messageId: string;
  timestamp: number;
  type: string;
  text?: string;
  reactions: Record<string, number>;
  views: number;
}

export class ChannelMessageDto implements ChannelMessageInfo {
  @ApiProperty({ example: '105', description: "WhatsApp's number of the post in the channel; reactions name it." })
  serverId!: string;

  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  messageId!: string;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms.' })
  timestamp!: number;

  @ApiProperty({ example: 'text' })
  type!: string;

  @ApiPropertyOptional({ example: 'Soup of the day: lentils' })
  text?: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { '👍': 3 }, description: 'Reaction counts by emoji.' })
  reactions!: Record<string, number>;

  @ApiProperty({ example: 120 })
  views!: number;
}

export interface ChannelKeyPayload extends SessionRef {
  /** A jid, an invite code or an invite link. */
  channel: string;
}
export interface ChannelCreatePayload extends SessionRef {
  name: string;
  description?: string;
}
export interface ChannelUpdatePayload extends ChannelKeyPayload {
  name?: string;
  description?: string;
}
export interface ChannelFollowPayload extends ChannelKeyPayload {
  following: boolean;
}
export interface ChannelMutePayload extends ChannelKeyPayload {
  muted: boolean;
}
export interface ChannelMessagesPayload extends ChannelKeyPayload {
  limit: number;
}
export interface ChannelReactPayload extends ChannelKeyPayload {
  serverId: string;
  /** Empty: takes our reaction back. */
  emoji: string;
}

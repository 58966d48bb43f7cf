import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Address } from './message.dto';
import type { PagePayload } from './messaging-rpc';
import type { SessionRef } from './rpc';
import { Nullable, named, StringEnum, Type, type Static } from './schema';

/**
 * Chat organisation: archive, pin, mute, read state, deletion and stars. WhatsApp keeps them in
 * the account's app state, which every device of the account reads, so a change made here shows
 * on the phone and a change made on the phone arrives here (`chat.updated`, `message.starred`).
 */

const closed = { additionalProperties: false } as const;
const flag = (description: string) => StringEnum(['true', 'false'] as const, { description });

export const ChatListQuery = named(
  'ChatListQuery',
  Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Page size.' })),
      cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `nextCursor` of the previous page.' })),
      archived: Type.Optional(flag('Only archived (`true`) or only not archived (`false`) chats.')),
      pinned: Type.Optional(flag('Only pinned (`true`) or only unpinned (`false`) chats.')),
      unread: Type.Optional(flag('Only chats marked unread (`true`) or only the others (`false`).')),
      label: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z_-]+$', example: '3', description: 'Only chats with this WhatsApp Business label.' })),
    },
    closed,
  ),
);
export type ChatListQueryDto = Static<typeof ChatListQuery>;

export interface ChatListPayload extends PagePayload {
  archived?: boolean;
  pinned?: boolean;
  unread?: boolean;
  label?: string;
}

export const ChatModify = named(
  'ChatModify',
  Type.Object(
    {
      archived: Type.Optional(Type.Boolean({ example: true, description: 'Archive (`true`) or unarchive the chat.' })),
      pinned: Type.Optional(Type.Boolean({ example: true, description: 'Pin (`true`) or unpin the chat. WhatsApp pins at most 3 chats.' })),
      mutedUntil: Type.Optional(
        Nullable(Type.Integer({ minimum: -1, example: 1767254400000, description: 'Mute until this Unix ms (`-1`: always); `null` unmutes.' })),
      ),
      unread: Type.Optional(Type.Boolean({ example: false, description: 'Mark the chat unread (`true`) or read (`false`).' })),
    },
    { ...closed, minProperties: 1 },
  ),
);
export type ChatModifyDto = Static<typeof ChatModify>;

export interface ChatModifyPayload extends SessionRef {
  chat: string;
  archived?: boolean;
  pinned?: boolean;
  mutedUntil?: number | null;
  unread?: boolean;
}

/** `chats.delete`, `chats.clear`. */
export interface ChatRefPayload extends SessionRef {
  chat: string;
}

export const MessageStar = named(
  'MessageStar',
  Type.Object(
    {
      starred: Type.Boolean({ example: true, description: 'Star (`true`) or unstar the message.' }),
      chat: Type.Optional(Address({ description: 'The chat of the message (any of its forms), when the same id could exist in several chats.' })),
    },
    closed,
  ),
);
export type MessageStarDto = Static<typeof MessageStar>;

export interface MessageStarPayload extends SessionRef {
  id: string;
  chat?: string;
  starred: boolean;
}

export interface MessageStarResult {
  messageId: string;
  chat: string;
  starred: boolean;
}

/** A chat's organisation as the runner recorded it from the account's app state. */
export interface ChatState {
  chat: string;
  archived: boolean;
  pinned: boolean;
  /** Unix ms the mute ends (-1: always); absent when not muted. */
  mutedUntil?: number;
  unread: boolean;
}

export class ChatStateDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: 'The chat JID.' })
  chat!: string;

  @ApiProperty({ example: true })
  archived!: boolean;

  @ApiProperty({ example: false })
  pinned!: boolean;

  @ApiPropertyOptional({ example: 1767254400000, description: 'Unix ms the mute ends (`-1`: always); absent when not muted.' })
  mutedUntil?: number;

  @ApiProperty({ example: false, description: 'Marked unread.' })
  unread!: boolean;
}

export class MessageStarResultDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  messageId!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  chat!: string;

  @ApiProperty({ example: true })
  starred!: boolean;
}

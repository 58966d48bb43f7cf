import { ApiProperty } from '@nestjs/swagger';
import type { SessionRef } from './rpc';
import { named, Type, type Static } from './schema';
import { RPC_HISTORY, HISTORY_FETCH_MAX } from './rpc-names';
export { RPC_HISTORY, HISTORY_FETCH_MAX };

export const HistoryFetch = named(
  'HistoryFetch',
  Type.Object(
    {
      count: Type.Optional(
        Type.Integer({ minimum: 1, maximum: HISTORY_FETCH_MAX, default: HISTORY_FETCH_MAX, example: 20, description: `How many older messages to ask for, 1-${HISTORY_FETCH_MAX}.` }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type HistoryFetchDto = Static<typeof HistoryFetch>;

export interface HistoryFetchPayload extends SessionRef {
  chat: string;
  count: number;
}

/** The request the phone was sent; its answer comes as a `history.received` event with the same `requestId`. */
export interface HistoryFetchResult {
  requestId: string;
  chat: string;
  count: number;
  /** The oldest stored message of the chat: the phone sends messages older than this one. */
  before: { messageId: string; timestamp: number };
}

export class HistoryAnchorDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  messageId!: string;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms.' })
  timestamp!: number;
}

export class HistoryFetchResultDto {
  @ApiProperty({ example: '3EB0B7E8C1D2A3F4E5D6', description: 'Names the answer: the `requestId` of the `history.received` event.' })
  requestId!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: 'The chat, as asked.' })
  chat!: string;

  @ApiProperty({ example: 20, description: 'How many older messages were asked for.' })
  count!: number;

  @ApiProperty({ type: HistoryAnchorDto, description: 'The oldest stored message of the chat: the phone sends the messages before it.' })
  before!: HistoryAnchorDto;
}

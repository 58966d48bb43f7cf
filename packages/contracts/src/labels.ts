import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SessionRef } from './rpc';
import { named, Type, type Static } from './schema';

/**
 * WhatsApp Business labels: kept in the account's app state like the rest of the chat
 * organisation, so the phone and every linked device share them. Plain WhatsApp accounts have none.
 */

const closed = { additionalProperties: false } as const;
const name = Type.String({ minLength: 1, maxLength: 100, example: 'New customer', description: 'The label name.' });
const color = Type.Integer({ minimum: 0, maximum: 19, example: 1, description: "WhatsApp's label colour index (0-19)." });

export const LabelCreate = named('LabelCreate', Type.Object({ name, color: Type.Optional(color) }, closed));
export type LabelCreateDto = Static<typeof LabelCreate>;

export const LabelUpdate = named('LabelUpdate', Type.Object({ name: Type.Optional(name), color: Type.Optional(color) }, { ...closed, minProperties: 1 }));
export type LabelUpdateDto = Static<typeof LabelUpdate>;

export interface Label {
  id: string;
  name: string;
  color: number;
  predefinedId?: string;
}

export class LabelDto {
  @ApiProperty({ example: '3', description: "The label id (WhatsApp's, per account)." })
  id!: string;

  @ApiProperty({ example: 'New customer' })
  name!: string;

  @ApiProperty({ example: 1, description: "WhatsApp's label colour index (0-19)." })
  color!: number;

  @ApiPropertyOptional({ example: '1', description: "Set on WhatsApp's predefined labels." })
  predefinedId?: string;
}

export interface LabelCreatePayload extends SessionRef {
  name: string;
  color?: number;
}

export interface LabelUpdatePayload extends SessionRef {
  labelId: string;
  name?: string;
  color?: number;
}

export interface LabelRefPayload extends SessionRef {
  labelId: string;
}

/** A label on (or off) a chat, or one message of it when `messageId` is given. */
export interface LabelAssignPayload extends SessionRef {
  labelId: string;
  chat?: string;
  messageId?: string;
  labeled: boolean;
}

export interface LabelAssignResult {
  labelId: string;
  chat: string;
  messageId?: string;
  labeled: boolean;
}

export class LabelAssignResultDto {
  @ApiProperty({ example: '3' })
  labelId!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  chat!: string;

  @ApiPropertyOptional({ example: '3EB0C431C26A1916E07A' })
  messageId?: string;

  @ApiProperty({ example: true })
  labeled!: boolean;
}

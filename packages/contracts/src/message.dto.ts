import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { OUTBOX_STATUSES, type OutboxStatus, SEND_MODES, type SendMode } from './send-result.dto';

/**
 * Bodies of the messaging routes. The hot ones (send, reaction, vote) are validated by a
 * validator the gateway compiles once per body (class-validator costs ~100 us a request there);
 * the others go through the global ValidationPipe with the decorators below. Both produce the
 * same `validation_error` envelope with per-field details.
 */

export const JID_PATTERN = /^[0-9A-Za-z._:-]{1,128}@(s\.whatsapp\.net|g\.us|lid|broadcast|newsletter)$/;
export const SEND_MESSAGE_TYPES = ['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'poll'] as const;
export type SendMessageType = (typeof SEND_MESSAGE_TYPES)[number];
export const PRESENCE_STATES = ['typing', 'recording', 'paused'] as const;
export const POLL_MAX_OPTIONS = 12;

const CHAT = {
  example: '491701234567@s.whatsapp.net',
  description: 'The JID of the chat (e.g. "123...@s.whatsapp.net", "123...@lid" or "123...@g.us").',
};

export class MessageReplyToDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A', description: 'The WhatsApp message id of the quoted message (in the same chat).' })
  id!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: 'The JID of the quoted message\'s author.' })
  sender!: string;
}

abstract class MessageSendBaseDto {
  @ApiProperty(CHAT)
  chat!: string;
}

export class TextMessageSendDto extends MessageSendBaseDto {
  @ApiProperty({ enum: ['text'] })
  type!: 'text';

  @ApiProperty({ example: 'Hello @491709876543', minLength: 1, maxLength: 65536 })
  text!: string;

  @ApiPropertyOptional({ type: [String], example: ['491709876543@s.whatsapp.net'], description: 'JIDs mentioned in the text (write them as `@<number>` in `text`).' })
  mentions?: string[];

  @ApiPropertyOptional({ type: MessageReplyToDto, description: 'Quote a message of the same chat.' })
  replyTo?: MessageReplyToDto;
}

abstract class MediaSendDto extends MessageSendBaseDto {
  @ApiPropertyOptional({ example: 'https://example.com/cat.jpg', description: 'Where the server fetches the media (http/https, public addresses only, size-limited). Give `url` or `base64`, not both.' })
  url?: string;

  @ApiPropertyOptional({ description: 'The media inline, base64-encoded (size-limited by MEDIA_MAX_BYTES). Give `url` or `base64`, not both.' })
  base64?: string;

  @ApiPropertyOptional({ example: 'image/jpeg', description: 'The MIME type; required with `base64`.' })
  mimetype?: string;

  @ApiPropertyOptional({ type: MessageReplyToDto, description: 'Quote a message of the same chat.' })
  replyTo?: MessageReplyToDto;
}

export class ImageMessageSendDto extends MediaSendDto {
  @ApiProperty({ enum: ['image'] })
  type!: 'image';

  @ApiPropertyOptional({ maxLength: 4096 })
  caption?: string;
}

export class VideoMessageSendDto extends MediaSendDto {
  @ApiProperty({ enum: ['video'] })
  type!: 'video';

  @ApiPropertyOptional({ maxLength: 4096 })
  caption?: string;
}

export class AudioMessageSendDto extends MediaSendDto {
  @ApiProperty({ enum: ['audio'] })
  type!: 'audio';

  @ApiPropertyOptional({ default: false, description: 'Send as a voice note (push-to-talk; use audio/ogg; codecs=opus).' })
  voiceNote?: boolean;
}

export class DocumentMessageSendDto extends MediaSendDto {
  @ApiProperty({ enum: ['document'] })
  type!: 'document';

  @ApiPropertyOptional({ example: 'invoice.pdf', maxLength: 255 })
  fileName?: string;

  @ApiPropertyOptional({ maxLength: 4096 })
  caption?: string;
}

export class StickerMessageSendDto extends MediaSendDto {
  @ApiProperty({ enum: ['sticker'] })
  type!: 'sticker';
}

export class LocationMessageSendDto extends MessageSendBaseDto {
  @ApiProperty({ enum: ['location'] })
  type!: 'location';

  @ApiProperty({ example: 52.52, minimum: -90, maximum: 90 })
  latitude!: number;

  @ApiProperty({ example: 13.405, minimum: -180, maximum: 180 })
  longitude!: number;

  @ApiPropertyOptional({ example: 'Office', maxLength: 1000 })
  name?: string;

  @ApiPropertyOptional({ example: 'Alexanderplatz 1, Berlin', maxLength: 1000 })
  address?: string;
}

export class ContactCardDto {
  @ApiProperty({ example: 'Jane Doe', maxLength: 256 })
  displayName!: string;

  @ApiProperty({ example: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nTEL;type=CELL;waid=491701234567:+49 170 1234567\nEND:VCARD', maxLength: 10000 })
  vcard!: string;
}

export class ContactsMessageSendDto extends MessageSendBaseDto {
  @ApiProperty({ enum: ['contacts'] })
  type!: 'contacts';

  @ApiProperty({ type: [ContactCardDto], minItems: 1, maxItems: 50 })
  contacts!: ContactCardDto[];
}

export class PollMessageSendDto extends MessageSendBaseDto {
  @ApiProperty({ enum: ['poll'] })
  type!: 'poll';

  @ApiProperty({ example: 'Lunch?', minLength: 1, maxLength: 255 })
  name!: string;

  @ApiProperty({ type: [String], example: ['Pizza', 'Sushi'], minItems: 2, maxItems: POLL_MAX_OPTIONS, description: '2-12 distinct option texts.' })
  options!: string[];

  @ApiProperty({ example: 1, minimum: 0, maximum: POLL_MAX_OPTIONS, description: 'How many options a voter may select: 1 = single choice, 0 = any number.' })
  selectableCount!: number;
}

export const MESSAGE_SEND_DTOS = [
  TextMessageSendDto,
  ImageMessageSendDto,
  VideoMessageSendDto,
  AudioMessageSendDto,
  DocumentMessageSendDto,
  StickerMessageSendDto,
  LocationMessageSendDto,
  ContactsMessageSendDto,
  PollMessageSendDto,
] as const;

/** The send body: one of the message shapes, chosen by `type`. */
export type MessageSendDto =
  | TextMessageSendDto
  | ImageMessageSendDto
  | VideoMessageSendDto
  | AudioMessageSendDto
  | DocumentMessageSendDto
  | StickerMessageSendDto
  | LocationMessageSendDto
  | ContactsMessageSendDto
  | PollMessageSendDto;

/** The OpenAPI schema of the send body, a `oneOf` discriminated by `type`; use with ApiExtraModels(...MESSAGE_SEND_DTOS). */
export function messageSendSchema(): Record<string, unknown> {
  const mapping: Record<string, string> = {};
  SEND_MESSAGE_TYPES.forEach((t, i) => (mapping[t] = getSchemaPath(MESSAGE_SEND_DTOS[i])));
  return { oneOf: MESSAGE_SEND_DTOS.map((d) => ({ $ref: getSchemaPath(d) })), discriminator: { propertyName: 'type', mapping } };
}

export class MessageReactionDto {
  @ApiProperty(CHAT)
  chat!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: "The JID of the message's author (your own JID for your messages). Identifies the message together with `mid`." })
  sender!: string;

  @ApiProperty({ example: '👍', description: 'One emoji. Ignored by DELETE, which sends an empty reaction.' })
  emoji!: string;
}

export class MessageReactionRemoveDto {
  @ApiProperty(CHAT)
  chat!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: "The JID of the message's author. Identifies the message together with `mid`." })
  sender!: string;

  @ApiPropertyOptional({ description: 'Ignored: removing sends an empty reaction.' })
  emoji?: string;
}

export class PollVoteDto {
  @ApiProperty({ example: '123456789012345@lid', description: 'The JID of the chat the poll lives in (e.g. "123...@s.whatsapp.net" or "123...@g.us").' })
  chat!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: "The JID of the poll's creator/sender. Identifies the poll message together with mid." })
  sender!: string;

  @ApiProperty({
    type: [String],
    example: ['Pizza'],
    description:
      'The full set of poll option texts you want selected. This replaces your previous vote entirely — send every option you want marked, not just the new ones. Send an empty array to clear your vote. For single-choice polls supply exactly one option.',
  })
  options!: string[];
}

export class MessageEditDto {
  @ApiProperty(CHAT)
  @IsString()
  @Matches(JID_PATTERN, { message: 'chat must be a JID like 491701234567@s.whatsapp.net' })
  chat!: string;

  @ApiProperty({ example: 'Corrected text', minLength: 1, maxLength: 65536, description: 'The new text of your message.' })
  @IsString()
  @Length(1, 65536)
  text!: string;
}

export class MessageDeleteDto {
  @ApiProperty(CHAT)
  @IsString()
  @Matches(JID_PATTERN, { message: 'chat must be a JID like 491701234567@s.whatsapp.net' })
  chat!: string;
}

export class ChatPresenceDto {
  @ApiProperty({ enum: PRESENCE_STATES, description: '`typing`, `recording` (a voice note) or `paused` (stopped typing).' })
  @IsIn(PRESENCE_STATES)
  presence!: (typeof PRESENCE_STATES)[number];
}

export class ChatReadDto {
  @ApiPropertyOptional({ type: [String], example: ['3EB0C431C26A1916E07A'], description: 'Mark only these messages read; omitted or empty = every received message of the chat.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  messageIds?: string[];
}

export class GroupCreateDto {
  @ApiProperty({ example: 'Project team', minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  subject!: string;

  @ApiProperty({ type: [String], example: ['491709876543@s.whatsapp.net'], minItems: 1, maxItems: 256, description: 'JIDs to add.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(256)
  @Matches(JID_PATTERN, { each: true, message: 'each participant must be a JID' })
  participants!: string[];
}

export class GroupParticipantsDto {
  @ApiProperty({ enum: ['add', 'remove'] })
  @IsIn(['add', 'remove'])
  action!: 'add' | 'remove';

  @ApiProperty({ type: [String], example: ['491709876543@s.whatsapp.net'], minItems: 1, maxItems: 256 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(256)
  @Matches(JID_PATTERN, { each: true, message: 'each participant must be a JID' })
  participants!: string[];
}

export class GroupParticipantResultDto {
  @ApiProperty({ example: '491709876543@s.whatsapp.net' })
  jid!: string;

  @ApiProperty({ example: '200', description: "WhatsApp's per-participant answer (200 = done)." })
  status!: string;
}

export class GroupParticipantsResultDto {
  @ApiProperty({ type: [GroupParticipantResultDto] })
  results!: GroupParticipantResultDto[];
}

export class OutboxEntryDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' })
  id!: string;

  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8', description: 'The session the entry belongs to.' })
  sessionId!: string;

  @ApiProperty({ enum: ['send', 'react', 'vote', 'edit', 'revoke'], description: 'What the entry asks WhatsApp to do.' })
  kind!: string;

  @ApiProperty(CHAT)
  chat!: string;

  @ApiProperty({ example: '3EB0C431C26A1916E07A', description: 'The WhatsApp message id, fixed at acceptance and reused on every attempt.' })
  waMessageId!: string;

  @ApiProperty({ enum: OUTBOX_STATUSES, description: '`queued` -> `sending` -> `sent` -> `delivered` -> `read`, or `failed` (see `error`). Never moves backwards.' })
  status!: OutboxStatus;

  @ApiProperty({ nullable: true, type: String, example: null, description: 'Why the entry failed, or the last transient error while it waits for a retry.' })
  error!: string | null;

  @ApiProperty({ enum: SEND_MODES, description: 'How the request that created the entry was answered.' })
  mode!: SendMode;

  @ApiProperty({ example: 1, description: 'How many times the entry was handed to a runner.' })
  attempts!: number;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms of acceptance.' })
  createdAt!: number;

  @ApiProperty({ example: 1767225600420, description: 'Unix ms of the last change.' })
  updatedAt!: number;
}

export class ChatSummaryDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  jid!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net', description: 'The phone-number form, when known.' })
  pn?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid', description: 'The LID form, when known.' })
  lid?: string;

  @ApiPropertyOptional({ example: 'Jane' })
  name?: string;

  @ApiProperty()
  isGroup!: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms of the latest message.' })
  lastMessageAt!: number;

  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  lastMessageId!: string;
}

export class PollTallyEntryDto {
  @ApiProperty({ example: 'Pizza' })
  option!: string;

  @ApiProperty({ example: 2 })
  votes!: number;

  @ApiProperty({ type: [String], example: ['491709876543@s.whatsapp.net'] })
  voters!: string[];
}

export class PollStateDto {
  @ApiProperty({ example: 'Lunch?' })
  name!: string;

  @ApiProperty({ type: [String], example: ['Pizza', 'Sushi'] })
  options!: string[];

  @ApiProperty({ example: 1, description: '1 = single choice, 0 = any number.' })
  selectableCount!: number;

  @ApiProperty({ type: [PollTallyEntryDto], description: "Each voter's latest selection, counted once." })
  tally!: PollTallyEntryDto[];
}

export class StoredMessageDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  id!: string;

  @ApiProperty(CHAT)
  chat!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  sender!: string;

  @ApiProperty()
  fromMe!: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms WhatsApp assigned.' })
  timestamp!: number;

  @ApiProperty({ example: 'text', description: 'text, image, video, audio, document, sticker, location, contacts, poll, reaction, ...' })
  type!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { text: 'Hello' }, description: 'The decoded content; its fields depend on `type`.' })
  content!: Record<string, unknown>;

  @ApiPropertyOptional({ enum: ['sent', 'delivered', 'read', 'failed'], description: 'For your own messages: the latest status known.' })
  status?: 'sent' | 'delivered' | 'read' | 'failed';

  @ApiPropertyOptional({ type: PollStateDto, description: 'For polls: options and the current tally.' })
  poll?: PollStateDto;

  @ApiPropertyOptional({ example: 1767225700000, description: 'Unix ms of the latest edit; `content` then shows the edited text.' })
  editedAt?: number;

  @ApiPropertyOptional({ example: 1767225800000, description: 'Unix ms at which the message was deleted for everyone; `content` is then empty.' })
  deletedAt?: number;
}

export class ContactSummaryDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  jid!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net' })
  pn?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid' })
  lid?: string;

  @ApiPropertyOptional({ example: 'Jane' })
  name?: string;
}

export class ContactExistsDto {
  @ApiProperty({ example: '491701234567' })
  phone!: string;

  @ApiProperty({ description: 'Whether the number has a WhatsApp account.' })
  exists!: boolean;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net' })
  jid?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid' })
  lid?: string;
}

export class GroupParticipantDto {
  @ApiProperty({ example: '123456789012345@lid' })
  jid!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net' })
  pn?: string;

  @ApiPropertyOptional({ enum: ['admin', 'superadmin'] })
  admin?: 'admin' | 'superadmin';
}

export class GroupSummaryDto {
  @ApiProperty({ example: '120363041234567890@g.us' })
  jid!: string;

  @ApiProperty({ example: 'Project team' })
  subject!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net' })
  owner?: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiPropertyOptional({ example: 1767225600000, description: 'Unix ms.' })
  createdAt?: number;

  @ApiProperty({ type: [GroupParticipantDto] })
  participants!: GroupParticipantDto[];
}

export class MessageGetQueryDto {
  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net', description: 'The chat of the message, when the same id could exist in several chats.' })
  @IsOptional()
  @IsString()
  @Matches(JID_PATTERN, { message: 'chat must be a JID like 491701234567@s.whatsapp.net' })
  chat?: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ContactIdsDto } from './contacts.dto';
import { Discriminated, named, StringEnum, Type, type Static } from './schema';
import { OUTBOX_STATUSES, type OutboxStatus, SEND_MODES, type SendMode } from './send-result.dto';
import { MESSAGE_TYPE_DESCRIPTION, STORED_CONTENT_DESCRIPTION, StoredMessageContentDto } from './message-content.dto';

/**
 * Bodies of the messaging routes, as JSON Schema (see schema.ts): the gateway compiles each
 * once into a validator and publishes the same object in the OpenAPI document.
 */

export const JID_PATTERN = /^[0-9A-Za-z._:-]{1,128}@(s\.whatsapp\.net|g\.us|lid|broadcast|newsletter)$/;
export const SEND_MESSAGE_TYPES = ['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'poll'] as const;
export type SendMessageType = (typeof SEND_MESSAGE_TYPES)[number];
export const PRESENCE_STATES = ['typing', 'recording', 'paused'] as const;
export const POLL_MAX_OPTIONS = 12;

const CHAT_DESCRIPTION =
  'The chat: a JID (e.g. "123...@s.whatsapp.net", "123...@lid" or "123...@g.us") or a phone number; a contact\'s phone-number JID, LID and number all name its one chat.';

/** A WhatsApp address: `<user>@s.whatsapp.net`, `@lid`, `@g.us`, `@broadcast` or `@newsletter`. */
export function Jid(options: Record<string, unknown> = {}) {
  return Type.String({ maxLength: 180, pattern: JID_PATTERN.source, example: '491701234567@s.whatsapp.net', ...options });
}

/** A chat or contact as callers name it: any JID form, or an international phone number (digits, optional `+`). */
export const ADDRESS_PATTERN = new RegExp(`^(\\+?[0-9]{6,15}|${JID_PATTERN.source.slice(1, -1)})$`);

/**
 * A chat or person: a JID (a contact's phone-number or LID form, both naming the same chat) or an
 * international phone number, which stands for `<number>@s.whatsapp.net`.
 */
export function Address(options: Record<string, unknown> = {}) {
  return Type.String({ maxLength: 180, pattern: ADDRESS_PATTERN.source, example: '491701234567@s.whatsapp.net', ...options });
}

const closed = { additionalProperties: false } as const;
const chat = Address({ description: CHAT_DESCRIPTION });

export const MessageReplyTo = named(
  'MessageReplyTo',
  Type.Object(
    {
      id: Type.String({ minLength: 1, maxLength: 128, example: '3EB0C431C26A1916E07A', description: 'The WhatsApp message id of the quoted message (in the same chat).' }),
      sender: Address({ description: "The quoted message's author (JID or phone number)." }),
    },
    closed,
  ),
);
const replyTo = Type.Optional(MessageReplyTo);
const caption = Type.Optional(Type.String({ maxLength: 4096 }));
const kind = <T extends SendMessageType>(type: T) => Type.Literal(type);
const kind2 = <T extends string>(type: T) => Type.Literal(type);

export const TextMessageSend = named(
  'TextMessageSend',
  Type.Object(
    {
      chat,
      type: kind('text'),
      text: Type.String({ minLength: 1, maxLength: 65536, example: 'Hello @491709876543' }),
      mentions: Type.Optional(
        Type.Array(Jid(), { maxItems: 1024, example: ['491709876543@s.whatsapp.net'], description: 'JIDs mentioned in the text (write them as `@<number>` in `text`).' }),
      ),
      mentionAll: Type.Optional(
        Type.Boolean({ description: 'Groups only: mention every participant (each is notified as if named; the text need not name them).' }),
      ),
      replyTo,
    },
    closed,
  ),
);

/** Where a media file comes from: fetched from `url`, or inline as `base64` with its `mimetype`. */
export const mediaSourceFields = {
  url: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      example: 'https://example.com/cat.jpg',
      description: 'Where the server fetches the media (http/https, public addresses only, size-limited). Give `url` or `base64`, not both.',
    }),
  ),
  base64: Type.Optional(Type.String({ minLength: 1, description: 'The media inline, base64-encoded (size-limited by MEDIA_MAX_BYTES). Give `url` or `base64`, not both.' })),
  mimetype: Type.Optional(
    Type.String({
      minLength: 3,
      maxLength: 255,
      pattern: '^[\\w.+-]+/[\\w.+-]+(\\s*;\\s*[\\w.+-]+=[\\w.+-]+)*$',
      example: 'image/jpeg',
      description: 'The MIME type (type/subtype, optional parameters); required with `base64`.',
    }),
  ),
};

const mediaFields = {
  chat,
  ...mediaSourceFields,
  replyTo,
};

const captionMentions = Type.Optional(
  Type.Array(Jid(), { maxItems: 1024, example: ['491709876543@s.whatsapp.net'], description: 'JIDs mentioned in the caption (write them as `@<number>` in `caption`).' }),
);
const seconds = (description: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, example: 7, description }));

export const ImageMessageSend = named('ImageMessageSend', Type.Object({ ...mediaFields, type: kind('image'), caption, mentions: captionMentions }, closed));
export const VideoMessageSend = named(
  'VideoMessageSend',
  Type.Object(
    {
      ...mediaFields,
      type: kind('video'),
      caption,
      mentions: captionMentions,
      seconds: seconds('The duration shown before the video is downloaded.'),
      gifPlayback: Type.Optional(Type.Boolean({ default: false, description: 'Play as a GIF: looped, muted, no controls (send a short mp4).' })),
    },
    closed,
  ),
);
export const AudioMessageSend = named(
  'AudioMessageSend',
  Type.Object(
    {
      ...mediaFields,
      type: kind('audio'),
      voiceNote: Type.Optional(Type.Boolean({ default: false, description: 'Send as a voice note (push-to-talk; use audio/ogg; codecs=opus).' })),
      seconds: seconds('The duration WhatsApp shows. Give it: the server does not decode audio to measure it.'),
      waveform: Type.Optional(
        Type.String({
          minLength: 4,
          maxLength: 344,
          pattern: '^[A-Za-z0-9+/]*={0,2}$',
          example: 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==',
          description: 'A voice note\'s waveform as WhatsApp draws it: base64 of up to 256 bytes (WhatsApp uses 64, each 0-100).',
        }),
      ),
    },
    closed,
  ),
);
export const DocumentMessageSend = named(
  'DocumentMessageSend',
  Type.Object({ ...mediaFields, type: kind('document'), fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 255, example: 'invoice.pdf' })), caption, mentions: captionMentions }, closed),
);
export const StickerMessageSend = named('StickerMessageSend', Type.Object({ ...mediaFields, type: kind('sticker') }, closed));

export const LocationMessageSend = named(
  'LocationMessageSend',
  Type.Object(
    {
      chat,
      type: kind('location'),
      latitude: Type.Number({ minimum: -90, maximum: 90, example: 52.52 }),
      longitude: Type.Number({ minimum: -180, maximum: 180, example: 13.405 }),
      name: Type.Optional(Type.String({ maxLength: 1000, example: 'Office' })),
      address: Type.Optional(Type.String({ maxLength: 1000, example: 'Alexanderplatz 1, Berlin' })),
    },
    closed,
  ),
);

export const ContactCard = named(
  'ContactCard',
  Type.Object(
    {
      displayName: Type.String({ minLength: 1, maxLength: 256, example: 'Jane Doe' }),
      vcard: Type.String({ minLength: 1, maxLength: 10000, example: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nTEL;type=CELL;waid=491701234567:+49 170 1234567\nEND:VCARD' }),
    },
    closed,
  ),
);

export const ContactsMessageSend = named(
  'ContactsMessageSend',
  Type.Object({ chat, type: kind('contacts'), contacts: Type.Array(ContactCard, { minItems: 1, maxItems: 50 }) }, closed),
);

export const PollMessageSend = named(
  'PollMessageSend',
  Type.Object(
    {
      chat,
      type: kind('poll'),
      name: Type.String({ minLength: 1, maxLength: 255, example: 'Lunch?' }),
      options: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        minItems: 2,
        maxItems: POLL_MAX_OPTIONS,
        uniqueItems: true,
        example: ['Pizza', 'Sushi'],
        description: '2-12 distinct option texts.',
      }),
      selectableCount: Type.Integer({
        minimum: 0,
        maximum: POLL_MAX_OPTIONS,
        example: 1,
        description: 'How many options a voter may select: 1 = single choice, 0 = any number; at most the number of options.',
      }),
    },
    closed,
  ),
);

/** Forwards a stored message (sent or received by this session) as WhatsApp does: marked forwarded, with its forwarding score raised. */
export const ForwardMessageSend = named(
  'ForwardMessageSend',
  Type.Object(
    {
      chat,
      type: kind2('forward'),
      messageId: Type.String({ minLength: 1, maxLength: 128, example: '3EB0C431C26A1916E07A', description: 'The WhatsApp id of the stored message to forward.' }),
      fromChat: Address({ description: 'The chat the message to forward is in (JID or phone number).' }),
    },
    closed,
  ),
);

/** The send body: one of the message shapes, chosen by `type`. */
export const MessageSend = named(
  'MessageSend',
  Discriminated('type', [
    TextMessageSend,
    ImageMessageSend,
    VideoMessageSend,
    AudioMessageSend,
    DocumentMessageSend,
    StickerMessageSend,
    LocationMessageSend,
    ContactsMessageSend,
    PollMessageSend,
    ForwardMessageSend,
  ]),
);
export type MessageSendDto = Static<typeof MessageSend>;

export const MessageReaction = named(
  'MessageReaction',
  Type.Object(
    {
      chat,
      sender: Address({ description: "The message's author, JID or phone number (your own JID for your messages). Identifies the message together with `mid`." }),
      emoji: Type.String({ minLength: 1, maxLength: 32, example: '👍', description: 'One emoji.' }),
    },
    closed,
  ),
);
export type MessageReactionDto = Static<typeof MessageReaction>;

export const MessageReactionRemove = named(
  'MessageReactionRemove',
  Type.Object(
    {
      chat,
      sender: Address({ description: "The message's author (JID or phone number). Identifies the message together with `mid`." }),
      emoji: Type.Optional(Type.String({ maxLength: 32, description: 'Ignored: removing sends an empty reaction.' })),
    },
    closed,
  ),
);
export type MessageReactionRemoveDto = Static<typeof MessageReactionRemove>;

export const PollVote = named(
  'PollVote',
  Type.Object(
    {
      chat: Address({ example: '123456789012345@lid', description: 'The chat the poll lives in (e.g. "123...@s.whatsapp.net", "123...@lid", "123...@g.us" or a phone number).' }),
      sender: Address({ description: "The poll's creator/sender (JID or phone number). Identifies the poll message together with mid." }),
      options: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
        maxItems: POLL_MAX_OPTIONS,
        uniqueItems: true,
        example: ['Pizza'],
        description:
          'The full set of poll option texts you want selected. This replaces your previous vote entirely — send every option you want marked, not just the new ones. Send an empty array to clear your vote. For single-choice polls supply exactly one option.',
      }),
    },
    closed,
  ),
);
export type PollVoteDto = Static<typeof PollVote>;

export const MessageEdit = named(
  'MessageEdit',
  Type.Object({ chat, text: Type.String({ minLength: 1, maxLength: 65536, example: 'Corrected text', description: 'The new text of your message.' }) }, closed),
);
export type MessageEditDto = Static<typeof MessageEdit>;

export const MessageDelete = named('MessageDelete', Type.Object({ chat }, closed));
export type MessageDeleteDto = Static<typeof MessageDelete>;

export const ChatPresence = named(
  'ChatPresence',
  Type.Object({ presence: StringEnum(PRESENCE_STATES, { description: '`typing`, `recording` (a voice note) or `paused` (stopped typing).' }) }, closed),
);
export type ChatPresenceDto = Static<typeof ChatPresence>;

export const ChatRead = named(
  'ChatRead',
  Type.Object(
    {
      messageIds: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
          maxItems: 1000,
          example: ['3EB0C431C26A1916E07A'],
          description: 'Mark only these messages read; omitted or empty = every received message of the chat.',
        }),
      ),
    },
    closed,
  ),
);
export type ChatReadDto = Static<typeof ChatRead>;

export const GroupCreate = named(
  'GroupCreate',
  Type.Object(
    {
      subject: Type.String({ minLength: 1, maxLength: 100, example: 'Project team' }),
      participants: Type.Array(Jid(), { minItems: 1, maxItems: 256, example: ['491709876543@s.whatsapp.net'], description: 'JIDs to add.' }),
      picture: Type.Optional(
        Type.Object(
          {
            url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'Where the server fetches the image (the same rules as media messages).' })),
            base64: Type.Optional(Type.String({ minLength: 1, description: 'The image inline, base64-encoded.' })),
          },
          { ...closed, description: 'A group picture to set right after creation: `url` or `base64`, any image the server can read. The answer says in `picture` whether it was set.' },
        ),
      ),
    },
    closed,
  ),
);
export type GroupCreateDto = Static<typeof GroupCreate>;

export const GroupParticipants = named(
  'GroupParticipants',
  Type.Object(
    {
      action: StringEnum(['add', 'remove', 'promote', 'demote'] as const, {
        example: 'add',
        description: '`add`/`remove` change who is in the group; `promote`/`demote` make participants admins or take it back. WhatsApp allows them to admins only (members may add when the group lets them).',
      }),
      participants: Type.Array(Jid(), { minItems: 1, maxItems: 256, example: ['491709876543@s.whatsapp.net'] }),
    },
    closed,
  ),
);
export type GroupParticipantsDto = Static<typeof GroupParticipants>;

export const GroupUpdate = named(
  'GroupUpdate',
  Type.Object(
    {
      subject: Type.Optional(Type.String({ minLength: 1, maxLength: 100, example: 'Project team (2026)', description: 'The new subject.' })),
      description: Type.Optional(Type.String({ maxLength: 2048, example: 'Weekly sync on Mondays', description: 'The new description; an empty string removes it.' })),
    },
    { ...closed, minProperties: 1 },
  ),
);
export type GroupUpdateDto = Static<typeof GroupUpdate>;

export const GroupSettings = named(
  'GroupSettings',
  Type.Object(
    {
      announcement: Type.Optional(Type.Boolean({ example: true, description: 'Only admins may send messages.' })),
      locked: Type.Optional(Type.Boolean({ example: false, description: "Only admins may change the group's subject, description and settings." })),
    },
    { ...closed, minProperties: 1 },
  ),
);
export type GroupSettingsDto = Static<typeof GroupSettings>;

/** What WhatsApp's invite codes look like (base62, 22 characters today); anything else is a 400. */
export const INVITE_CODE_PATTERN = /^[0-9A-Za-z_-]{6,64}$/;

export class GroupInviteDto {
  @ApiProperty({ example: 'F5kVqQe1ZxH2Jr8pLm3nTb', description: 'The invite code.' })
  code!: string;

  @ApiProperty({ example: 'https://chat.whatsapp.com/F5kVqQe1ZxH2Jr8pLm3nTb', description: 'The invite link to share.' })
  link!: string;
}

export const MessageGetQuery = named(
  'MessageGetQuery',
  Type.Object({ chat: Type.Optional(Address({ description: 'The chat of the message (any of its forms), when the same id could exist in several chats.' })) }, closed),
);
export type MessageGetQueryDto = Static<typeof MessageGetQuery>;

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

  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: CHAT_DESCRIPTION })
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

  @ApiProperty({ example: false, description: 'Archived (from the account\'s app state, shared with the phone).' })
  archived!: boolean;

  @ApiProperty({ example: true, description: 'Pinned.' })
  pinned!: boolean;

  @ApiPropertyOptional({ example: 1767254400000, description: 'Unix ms the mute ends (`-1`: always); absent when not muted.' })
  mutedUntil?: number;

  @ApiProperty({ example: false, description: 'Marked unread.' })
  unread!: boolean;

  @ApiProperty({ type: [String], example: ['3'], description: 'Ids of the WhatsApp Business labels on the chat.' })
  labels!: string[];
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

  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: CHAT_DESCRIPTION })
  chat!: string;

  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  sender!: string;

  @ApiPropertyOptional({ type: ContactIdsDto, description: "The chat's one id (`chat`) with its phone-number and LID forms, where known." })
  chatIds?: ContactIdsDto;

  @ApiPropertyOptional({ type: ContactIdsDto, description: "The sender's one id (`sender`) with its phone-number and LID forms, where known." })
  senderIds?: ContactIdsDto;

  @ApiProperty()
  fromMe!: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms WhatsApp assigned.' })
  timestamp!: number;

  @ApiProperty({
    example: 'text',
    description: `${MESSAGE_TYPE_DESCRIPTION} Messages this session sent that change another one are stored too: \`reaction\`, \`edit\`, \`revoke\`, \`vote\`.`,
  })
  type!: string;

  @ApiProperty({ type: StoredMessageContentDto, description: STORED_CONTENT_DESCRIPTION })
  content!: StoredMessageContentDto;

  @ApiPropertyOptional({ enum: ['sent', 'delivered', 'read', 'failed'], description: 'For your own messages: the latest status known.' })
  status?: 'sent' | 'delivered' | 'read' | 'failed';

  @ApiPropertyOptional({ type: PollStateDto, description: 'For polls: options and the current tally.' })
  poll?: PollStateDto;

  @ApiPropertyOptional({ example: 1767225700000, description: 'Unix ms of the latest edit; `content` then shows the edited text.' })
  editedAt?: number;

  @ApiPropertyOptional({ example: 1767225800000, description: 'Unix ms at which the message was deleted for everyone; `content` is then empty.' })
  deletedAt?: number;

  @ApiPropertyOptional({ type: [String], example: ['3'], description: 'Ids of the WhatsApp Business labels on the message, when it has any.' })
  labels?: string[];
}

export class MemberReceiptDto {
  @ApiProperty({ type: ContactIdsDto, description: 'The group member (or status viewer) whose receipt this is, in the form `message.status` events name it as `recipient`.' })
  member!: ContactIdsDto;

  @ApiProperty({ enum: ['delivered', 'read'], description: '`read` also stands for a voice note or video played. A member who read a message with delivery receipts off has a `read` row only.' })
  status!: 'delivered' | 'read';

  @ApiProperty({ example: 1767225660000, description: 'Unix ms of the receipt, as WhatsApp stamped it (to the second).' })
  at!: number;
}

export class ContactSummaryDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  jid!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net' })
  pn?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid' })
  lid?: string;

  @ApiPropertyOptional({ example: 'Jane Doe (Bakery)', description: 'The name the account keeps for the contact: saved through `PUT .../contacts/{jid}/name`, on the phone or on another linked device. Absent when none is saved.' })
  name?: string;

  @ApiPropertyOptional({ example: 'Jane', description: 'The name the contact gave themselves (their push name), as last seen on a message of theirs.' })
  pushName?: string;
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

  @ApiProperty({ example: false, description: 'Only admins may send messages.' })
  announcement!: boolean;

  @ApiProperty({ example: false, description: "Only admins may change the group's info." })
  locked!: boolean;

  @ApiProperty({ type: [GroupParticipantDto] })
  participants!: GroupParticipantDto[];
}

import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { EVENT_TYPES, PRESENCE_UPDATE_STATES, GROUP_PARTICIPANT_ACTIONS, type GroupParticipantAction, GROUP_JOIN_REQUEST_ACTIONS, type GroupJoinRequestAction, COMMUNITY_UPDATE_ACTIONS, type CommunityUpdateAction, SESSION_FAILURE_REASONS, SESSION_STATUSES, type EventType, type SessionStatus } from './events';
import { MESSAGE_TYPE_DESCRIPTION, RECEIVED_CONTENT_DESCRIPTION, ReceivedMessageContentDto } from './message-content.dto';

/**
 * OpenAPI schemas of the event model in `events.ts`: the body of every webhook delivery and of
 * every SSE `data:` line. The interfaces stay the producers' contract; these classes exist so
 * the document describes each event type's payload exactly.
 */

export class JidPairDto {
  @ApiProperty({
    example: '491701234567@s.whatsapp.net',
    description: "The one id of the contact (its phone-number JID when known, else its LID) or of the group; chats, messages and routes use the same.",
  })
  jid!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net', description: 'Phone-number form, when known.' })
  pn?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid', description: 'LID form, when known.' })
  lid?: string;
}

export class EventSessionMeDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  jid!: string;

  @ApiPropertyOptional({ example: '123456789012345@lid' })
  lid?: string;

  @ApiPropertyOptional({ example: 'Support desk' })
  pushName?: string;
}

export class SessionStatusEventDataDto {
  @ApiProperty({ enum: SESSION_STATUSES })
  status!: SessionStatus;

  @ApiPropertyOptional({ description: `Why the session stopped or failed (${SESSION_FAILURE_REASONS.join(', ')}, or a free-form reason).`, example: 'banned' })
  reason?: string;

  @ApiPropertyOptional({ type: EventSessionMeDto, description: 'The linked account, once known.' })
  me?: EventSessionMeDto;
}

export class SessionQrEventDataDto {
  @ApiProperty({ description: 'The raw QR string to render; scan it with WhatsApp > Linked devices.' })
  qr!: string;

  @ApiProperty({ example: 1767225620000, description: 'Unix ms after which this QR is no longer accepted.' })
  expiresAt!: number;
}

export class MessageEventBaseDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A', description: 'WhatsApp message id.' })
  messageId!: string;

  @ApiProperty({ type: JidPairDto })
  chat!: JidPairDto;

  @ApiProperty({ type: JidPairDto })
  sender!: JidPairDto;

  @ApiProperty({ description: 'True when the message was sent by this session.' })
  fromMe!: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms of the message.' })
  timestamp!: number;
}

export class MessageReceivedEventDataDto extends MessageEventBaseDto {
  @ApiProperty({ example: 'location', description: MESSAGE_TYPE_DESCRIPTION })
  type!: string;

  @ApiProperty({ type: ReceivedMessageContentDto, description: RECEIVED_CONTENT_DESCRIPTION })
  content!: ReceivedMessageContentDto;
}

export class MessageStatusEventDataDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  messageId!: string;

  @ApiProperty({ type: JidPairDto })
  chat!: JidPairDto;

  @ApiPropertyOptional({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8', description: 'The outbox entry that sent the message, when it was sent through this API.' })
  outboxId?: string;

  @ApiProperty({ enum: ['sent', 'delivered', 'read', 'failed'] })
  status!: 'sent' | 'delivered' | 'read' | 'failed';

  @ApiPropertyOptional({ description: "For `failed`: WhatsApp's error code or the gateway's reason." })
  error?: string;

  @ApiPropertyOptional({ type: JidPairDto, description: 'In groups: the member whose receipt this is.' })
  recipient?: JidPairDto;
}

export class MessageReactionEventDataDto extends MessageEventBaseDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07B', description: 'The message reacted to.' })
  targetMessageId!: string;

  @ApiProperty({ example: '👍', description: 'Empty when the reaction was removed.' })
  emoji!: string;
}

export class MessageEditedEventDataDto extends MessageEventBaseDto {
  @ApiProperty({ description: 'The message that was edited.' })
  targetMessageId!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { text: 'hello (edited)' }, description: 'The new content.' })
  content!: Record<string, unknown>;
}

export class MessageDeletedEventDataDto extends MessageEventBaseDto {
  @ApiProperty({ description: 'The message that was deleted for everyone.' })
  targetMessageId!: string;
}

export class PollVoteEventDataDto extends MessageEventBaseDto {
  @ApiProperty({ description: 'The poll message voted on.' })
  pollMessageId!: string;

  @ApiProperty({ type: JidPairDto })
  voter!: JidPairDto;

  @ApiProperty({ type: [String], example: ['Tuesday'], description: "The voter's complete current selection (decrypted); empty when the vote was cleared." })
  selectedOptions!: string[];
}

export class GroupUpdatedEventDataDto {
  @ApiProperty({ example: '120363041234567890@g.us', description: 'The group JID.' })
  group!: string;

  @ApiPropertyOptional({ type: JidPairDto, description: 'Who made the change, when WhatsApp named them.' })
  author?: JidPairDto;

  @ApiPropertyOptional({ example: 'Project team (2026)', description: 'The new subject.' })
  subject?: string;

  @ApiPropertyOptional({ example: 'Weekly sync on Mondays', description: 'The new description; empty when it was removed.' })
  description?: string;

  @ApiPropertyOptional({ example: true, description: 'Whether only admins may send messages now.' })
  announcement?: boolean;

  @ApiPropertyOptional({ example: false, description: "Whether only admins may change the group's info now." })
  locked?: boolean;

  @ApiPropertyOptional({ enum: ['set', 'removed'], example: 'set', description: 'The group picture was set (or replaced) or removed; read the new one with `GET .../groups/{group}/picture`.' })
  picture?: 'set' | 'removed';

  @ApiPropertyOptional({ example: '1767225600123', description: "WhatsApp's id of the new picture." })
  pictureId?: string;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class GroupParticipantsEventDataDto {
  @ApiProperty({ example: '120363041234567890@g.us', description: 'The group JID.' })
  group!: string;

  @ApiProperty({ enum: GROUP_PARTICIPANT_ACTIONS, example: 'promoted' })
  action!: GroupParticipantAction;

  @ApiProperty({ type: [JidPairDto], description: 'The participants the change is about.' })
  participants!: JidPairDto[];

  @ApiPropertyOptional({ type: JidPairDto, description: 'Who made the change (for `left`: who left), when WhatsApp named them.' })
  author?: JidPairDto;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class ContactBlockEventDataDto {
  @ApiProperty({ type: JidPairDto, description: 'The contact blocked or unblocked.' })
  contact!: JidPairDto;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class ContactUpdatedEventDataDto {
  @ApiProperty({ type: JidPairDto, description: 'The contact whose saved name changed.' })
  contact!: JidPairDto;

  @ApiProperty({ type: String, nullable: true, example: 'Jane Doe (Bakery)', description: 'The saved name now; `null`: the saved name was removed.' })
  name!: string | null;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class PresenceUpdateEventDataDto {
  @ApiProperty({ type: JidPairDto, description: 'The chat: the contact itself, or the group a chat state is about.' })
  chat!: JidPairDto;

  @ApiProperty({ type: JidPairDto, description: 'Whose presence it is.' })
  contact!: JidPairDto;

  @ApiProperty({ enum: PRESENCE_UPDATE_STATES, example: 'composing' })
  presence!: string;

  @ApiPropertyOptional({ example: 1767225600000, description: "With `unavailable`: Unix ms when the contact was last online, when the contact's privacy lets you know." })
  lastSeen?: number;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when it was seen.' })
  timestamp!: number;
}

export class CallReceivedEventDataDto {
  @ApiProperty({ example: 'A1B2C3D4E5F60718293A4B5C6D7E8F90', description: 'Reject it with `POST .../calls/{callId}/reject`.' })
  callId!: string;

  @ApiProperty({ type: JidPairDto, description: 'The caller.' })
  from!: JidPairDto;

  @ApiProperty({ example: false, description: 'A video call (else voice).' })
  video!: boolean;

  @ApiProperty({ example: false, description: 'A group call.' })
  group!: boolean;

  @ApiPropertyOptional({ example: '120363041234567890@g.us' })
  groupJid?: string;

  @ApiProperty({ example: false, description: "Rejected at once by the session's call settings." })
  autoRejected!: boolean;

  @ApiProperty({ example: false, description: 'Offered while the session was offline.' })
  offline!: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms of the offer.' })
  timestamp!: number;
}

export class ChatUpdatedEventDataDto {
  @ApiProperty({ type: JidPairDto, description: 'The chat.' })
  chat!: JidPairDto;

  @ApiPropertyOptional({ example: true })
  archived?: boolean;

  @ApiPropertyOptional({ example: true })
  pinned?: boolean;

  @ApiPropertyOptional({ type: Number, example: 1767254400000, nullable: true, description: 'Unix ms the mute ends (`-1`: always); `null`: unmuted.' })
  mutedUntil?: number | null;

  @ApiPropertyOptional({ example: false, description: 'Marked unread (`true`) or read (`false`).' })
  unread?: boolean;

  @ApiPropertyOptional({ example: true, description: 'The chat was deleted.' })
  deleted?: boolean;

  @ApiPropertyOptional({ example: true, description: 'The chat was emptied of its messages.' })
  cleared?: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class MessageStarredEventDataDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  messageId!: string;

  @ApiProperty({ type: JidPairDto })
  chat!: JidPairDto;

  @ApiProperty({ example: false })
  fromMe!: boolean;

  @ApiProperty({ example: true })
  starred!: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class LabelUpdatedEventDataDto {
  @ApiProperty({ example: '3' })
  labelId!: string;

  @ApiPropertyOptional({ example: 'New customer' })
  name?: string;

  @ApiPropertyOptional({ example: 1, description: "WhatsApp's label colour index (0-19)." })
  color?: number;

  @ApiPropertyOptional({ example: true, description: 'The label was deleted.' })
  deleted?: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class LabelAssociationEventDataDto {
  @ApiProperty({ example: '3' })
  labelId!: string;

  @ApiProperty({ type: JidPairDto })
  chat!: JidPairDto;

  @ApiPropertyOptional({ example: '3EB0C431C26A1916E07A', description: 'Set when the label is on one message of the chat.' })
  messageId?: string;

  @ApiProperty({ example: true, description: 'Put on (`true`) or taken off.' })
  labeled!: boolean;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when the change was seen.' })
  timestamp!: number;
}

export class StatusReceivedEventDataDto {
  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  messageId!: string;

  @ApiProperty({ type: JidPairDto, description: 'Who posted it.' })
  sender!: JidPairDto;

  @ApiProperty({ example: 'text', description: 'The message type (text, image, video, ...).' })
  type!: string;

  @ApiPropertyOptional({ example: 'New menu today' })
  text?: string;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms.' })
  timestamp!: number;
}

export class GroupJoinedEventDataDto {
  @ApiProperty({ example: '120363041234567890@g.us', description: 'The group JID.' })
  group!: string;

  @ApiPropertyOptional({ type: JidPairDto, description: 'Who added the account, when WhatsApp named them.' })
  author?: JidPairDto;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when it was seen.' })
  timestamp!: number;
}

export class GroupJoinRequestEventDataDto {
  @ApiProperty({ example: '120363041234567890@g.us', description: 'The group JID.' })
  group!: string;

  @ApiProperty({ enum: GROUP_JOIN_REQUEST_ACTIONS, example: 'requested', description: '`requested`: a new request waits for an admin; `cancelled`: the requester withdrew it; `rejected`: an admin turned it down. An approved request is a `group.participants` event with `action: added`.' })
  action!: GroupJoinRequestAction;

  @ApiProperty({ type: JidPairDto, description: 'Who asked to join.' })
  requester!: JidPairDto;

  @ApiPropertyOptional({ example: 'invite_link', description: 'How they asked, when WhatsApp said.' })
  method?: string;

  @ApiPropertyOptional({ type: JidPairDto, description: 'The admin who rejected the request.' })
  author?: JidPairDto;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when it was seen.' })
  timestamp!: number;
}

export class CommunityGroupRefDto {
  @ApiProperty({ example: '120363041234567890@g.us', description: 'The group linked or unlinked.' })
  jid!: string;

  @ApiPropertyOptional({ example: 'Building B', description: 'Its subject, as WhatsApp named it.' })
  subject?: string;
}

export class CommunityUpdatedEventDataDto {
  @ApiProperty({ example: '120363049876543210@g.us', description: 'The community (its parent group JID).' })
  community!: string;

  @ApiProperty({ enum: COMMUNITY_UPDATE_ACTIONS, example: 'linked', description: '`linked`: the group joined the community (its members became community members); `unlinked`: it left.' })
  action!: CommunityUpdateAction;

  @ApiProperty({ type: CommunityGroupRefDto })
  group!: CommunityGroupRefDto;

  @ApiPropertyOptional({ example: 'unlink_group', description: 'Why a group left: `unlink_group` (an admin unlinked it) or `delete_parent` (the community was deleted).' })
  reason?: string;

  @ApiPropertyOptional({ type: JidPairDto, description: 'The admin who linked or unlinked it.' })
  author?: JidPairDto;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms when it was seen.' })
  timestamp!: number;
}

export class ChannelMessageEventDataDto {
  @ApiProperty({ example: '120363123456789012@newsletter' })
  channel!: string;

  @ApiProperty({ example: '3EB0C431C26A1916E07A' })
  messageId!: string;

  @ApiPropertyOptional({ example: '105', description: "WhatsApp's number of the post in the channel; reactions name it." })
  serverId?: string;

  @ApiProperty({ example: 'text', description: 'The message type (text, image, video, ...).' })
  type!: string;

  @ApiPropertyOptional({ example: 'Soup of the day: lentils' })
  text?: string;

  @ApiProperty({ example: 1767225600000, description: 'Unix ms.' })
  timestamp!: number;
}

export class HistoryReceivedEventDataDto {
  @ApiPropertyOptional({ example: '3EB0B7E8C1D2A3F4E5D6', description: 'The `requestId` that `POST .../chats/{chat}/history` answered.' })
  requestId?: string;

  @ApiProperty({ type: JidPairDto, description: 'The chat.' })
  chat!: JidPairDto;

  @ApiProperty({ example: 20, description: 'How many messages the phone sent; fewer than asked when the chat has no older ones.' })
  count!: number;

  @ApiProperty({ example: 20, description: 'How many of them were new to the stored messages.' })
  stored!: number;

  @ApiPropertyOptional({ example: 1767225600000, description: 'Unix ms of the oldest message sent.' })
  oldest?: number;

  @ApiPropertyOptional({ example: 1767229200000, description: 'Unix ms of the newest message sent.' })
  newest?: number;

  @ApiProperty({ example: 1767232800000, description: 'Unix ms when the answer arrived.' })
  timestamp!: number;
}

export class WebhookDisabledEventDataDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' })
  webhookId!: string;

  @ApiProperty({ example: 'gone', description: '`gone` (the endpoint answered 410) or `failing` (the retry schedule was exhausted).' })
  reason!: string;
}

export class WebhookPingEventDataDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' })
  webhookId!: string;
}

type Constructor = new () => object;

const EVENT_DATA_DTOS: Record<EventType, Constructor> = {
  'message.received': MessageReceivedEventDataDto,
  'message.status': MessageStatusEventDataDto,
  'message.reaction': MessageReactionEventDataDto,
  'message.edited': MessageEditedEventDataDto,
  'message.deleted': MessageDeletedEventDataDto,
  'poll.vote': PollVoteEventDataDto,
  'group.updated': GroupUpdatedEventDataDto,
  'group.participants': GroupParticipantsEventDataDto,
  'contact.blocked': ContactBlockEventDataDto,
  'contact.unblocked': ContactBlockEventDataDto,
  'contact.updated': ContactUpdatedEventDataDto,
  'presence.update': PresenceUpdateEventDataDto,
  'call.received': CallReceivedEventDataDto,
  'chat.updated': ChatUpdatedEventDataDto,
  'message.starred': MessageStarredEventDataDto,
  'label.updated': LabelUpdatedEventDataDto,
  'label.association': LabelAssociationEventDataDto,
  'status.received': StatusReceivedEventDataDto,
  'channel.message': ChannelMessageEventDataDto,
  'history.received': HistoryReceivedEventDataDto,
  'group.joined': GroupJoinedEventDataDto,
  'group.join_request': GroupJoinRequestEventDataDto,
  'community.updated': CommunityUpdatedEventDataDto,
  'session.status': SessionStatusEventDataDto,
  'session.qr': SessionQrEventDataDto,
  'webhook.disabled': WebhookDisabledEventDataDto,
  'webhook.ping': WebhookPingEventDataDto,
};

const ORG_LEVEL_TYPES: readonly EventType[] = ['webhook.disabled', 'webhook.ping'];

/** What each event says happened; the schema description of its envelope. */
const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  'message.received': 'A message arrived in a chat of the session (or was sent from the linked phone).',
  'message.status': 'A message of yours changed status: sent, delivered, read, or failed (with `error`).',
  'message.reaction': 'Someone reacted to a message, or removed their reaction (empty `emoji`).',
  'message.edited': 'A message was edited; `data` carries the new text.',
  'message.deleted': 'A message was deleted for everyone.',
  'poll.vote': 'Someone voted on a poll; `data` carries their current selection.',
  'group.updated': "A group's subject, description, settings (`announcement`, `locked`) or picture changed; `data` carries what changed and who changed it.",
  'group.participants': 'Participants of a group were added, removed, promoted or demoted, or left.',
  'contact.blocked': 'The account blocked a contact (through the API, on another linked device or on the phone): their messages no longer arrive.',
  'contact.unblocked': 'The account unblocked a contact.',
  'contact.updated': 'The name the account keeps for a contact was saved, changed or removed, through the API, on the phone or on another linked device (WhatsApp keeps it in the account\'s app state).',
  'group.joined': 'The account was added to a group (by a member, or its join request was approved); the group is readable from now on.',
  'group.join_request': 'Someone asked to join a group the account is an admin of (joining needs approval there), withdrew the request, or an admin rejected it; approve or reject with `POST .../groups/{group}/requests`.',
  'community.updated': 'A group was linked to a community the account is in (its members joined the community and its announcement group) or unlinked from it; `data` names the community, the group and the admin.',
  'call.received': 'Someone calls the account: voice or video, 1:1 or group; reject it, or let the session reject calls automatically.',
  'presence.update': 'A contact you subscribed to came online or went offline (with the last-seen time their privacy allows), or a contact is typing, recording or paused in a chat.',
  'chat.updated': 'A chat was archived, pinned, muted, marked read or unread, deleted or cleared, through the API or on another device of the account (the phone); `data` carries what changed.',
  'message.starred': 'A message was starred or unstarred, through the API or on another device of the account.',
  'label.updated': 'A WhatsApp Business label was created, renamed, recoloured or deleted, through the API or on another device of the account.',
  'label.association': 'A WhatsApp Business label was put on or taken off a chat or a message, through the API or on another device of the account.',
  'status.received': 'A contact posted a status update the account may see (it is also stored in the `status@broadcast` chat).',
  'channel.message': 'A post arrived in a channel the account follows (it is also stored, as a `message.received` in the channel\'s chat).',
  'history.received': "Older messages of a chat arrived from the account's phone, as asked with `POST .../chats/{chat}/history`; they are stored and paged like the others, and none of them becomes a `message.received`.",
  'session.status': 'The session changed state (connected, qr, logged_out, failed, ...), with the reason and the linked account when known.',
  'session.qr': 'A new QR code is waiting to be scanned, with when it expires.',
  'webhook.disabled': 'A webhook endpoint was disabled (it answered 410, or its retry schedule ran out). Organization-level.',
  'webhook.ping': 'A test event sent by `POST /api/v1/webhooks/{id}/test` to that endpoint only. Organization-level.',
};

/** `message.received` -> `MessageReceivedEventDto`. */
function envelopeName(type: EventType): string {
  return type.split(/[._]/).map((part) => part[0].toUpperCase() + part.slice(1)).join('') + 'EventDto';
}

/**
 * One envelope class per event type, so each schema pins `type` to a single value and `data` to
 * its payload: clients generated from the document get a discriminated union.
 */
function envelopeDto(type: EventType): Constructor {
  const orgLevel = ORG_LEVEL_TYPES.includes(type);
  const cls = class {};
  Object.defineProperty(cls, 'name', { value: envelopeName(type) });
  ApiSchema({ description: `\`${type}\`: ${EVENT_DESCRIPTIONS[type]}` })(cls);
  const prop = (name: string, options: Parameters<typeof ApiProperty>[0]): void => ApiProperty(options)(cls.prototype, name);
  prop('id', { type: String, example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8', description: 'Event id (ULID). Also the `webhook-id` header, the same on every retry: use it to drop duplicates.' });
  prop('type', { type: String, enum: [type], example: type });
  prop('timestamp', { type: Number, example: 1767225600000, description: 'Unix ms when it happened.' });
  prop('orgId', { type: String, example: 'acme' });
  prop('sessionId', orgLevel
    ? { type: 'string', nullable: true, example: null, description: 'Always null: this is an organization-level event.' }
    : { type: 'string', example: '01HZX3K9Q2T4W6Y8A0C2E4G6J9', description: 'The session it happened on.' });
  prop('sequence', orgLevel
    ? { type: 'integer', example: 0, description: 'Always 0 for organization-level events.' }
    : { type: 'integer', example: 42, description: 'Per-session sequence number, gap-free, starting at 1: a gap means a missed event.' });
  prop('data', { type: () => EVENT_DATA_DTOS[type] });
  return cls;
}

/** Envelope schemas by event type, in `EVENT_TYPES` order. */
export const EVENT_ENVELOPE_DTOS: Record<EventType, Constructor> = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, envelopeDto(type)]),
) as Record<EventType, Constructor>;

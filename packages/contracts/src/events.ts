/**
 * Events the gateway records and delivers (webhooks, the SSE stream). Producers (the sessions
 * and messaging features, the runner through `RPC.gatewayEvents`) hand them to the gateway's
 * events feature, which stores them before any delivery and numbers them per session.
 * Type names are public API: never rename one.
 */
export const EVENT_TYPES = [
  'message.received',
  'message.status',
  'message.reaction',
  'message.edited',
  'message.deleted',
  'poll.vote',
  'group.updated',
  'group.participants',
  'contact.blocked',
  'contact.unblocked',
  'contact.updated',
  'presence.update',
  'call.received',
  'chat.updated',
  'message.starred',
  'label.updated',
  'label.association',
  'status.received',
  'channel.message',
  'history.received',
  'group.joined',
  'group.join_request',
  'community.updated',
  'session.status',
  'session.qr',
  'webhook.disabled',
  'webhook.ping',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const SESSION_STATUSES = ['stopped', 'starting', 'qr', 'pairing', 'connected', 'reconnecting', 'logged_out', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const SESSION_FAILURE_REASONS = ['banned', 'version_rejected', 'replaced', 'too_many_restarts', 'server_untrusted', 'qr_timeout'] as const;
export type SessionFailureReason = (typeof SESSION_FAILURE_REASONS)[number];

/** A JID in both of its forms where known: phone-number (`...@s.whatsapp.net`) and LID (`...@lid`). */
export interface JidPair {
  jid: string;
  pn?: string;
  lid?: string;
}

/** Both forms of an address: `pn` for phone-number jids, `lid` for linked identities. */
export function jidPair(jid: string, alternate?: string): JidPair {
  const pair: JidPair = { jid };
  for (const j of [jid, alternate]) {
    if (!j) continue;
    if (j.endsWith('@lid')) pair.lid = j;
    else if (j.endsWith('@s.whatsapp.net')) pair.pn = j;
  }
  return pair;
}

export interface SessionStatusEventData {
  status: SessionStatus;
  reason?: SessionFailureReason | string;
  me?: { jid: string; lid?: string; pushName?: string };
}

export interface SessionQrEventData {
  qr: string;
  /** Unix ms when this QR string stops being offered (the next one replaces it, or the session gives up). */
  expiresAt: number;
}

export interface MessageEventBase {
  messageId: string;
  chat: JidPair;
  sender: JidPair;
  fromMe: boolean;
  timestamp: number;
}

export interface MessageReceivedEventData extends MessageEventBase {
  type: string;
  /** The message content normalised for API consumers (text, caption, poll, location, ...). */
  content: Record<string, unknown>;
}

export interface MessageStatusEventData {
  messageId: string;
  chat: JidPair;
  outboxId?: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** For `failed`: WhatsApp's error code or our reason. */
  error?: string;
  recipient?: JidPair;
}

export interface MessageReactionEventData extends MessageEventBase {
  targetMessageId: string;
  /** Empty when the reaction was removed. */
  emoji: string;
}

export interface MessageEditedEventData extends MessageEventBase {
  targetMessageId: string;
  content: Record<string, unknown>;
}

export interface MessageDeletedEventData extends MessageEventBase {
  targetMessageId: string;
}

export interface PollVoteEventData extends MessageEventBase {
  pollMessageId: string;
  voter: JidPair;
  /** The complete current selection of this voter; empty when the vote was cleared. */
  selectedOptions: string[];
}

/** What changed in a group's settings or info; only the fields that changed are present. */
export interface GroupUpdatedEventData {
  group: string;
  /** Who made the change, when WhatsApp named them. */
  author?: JidPair;
  subject?: string;
  /** Empty string when the description was removed. */
  description?: string;
  /** Only admins may send messages. */
  announcement?: boolean;
  /** Only admins may change the group's info. */
  locked?: boolean;
  /** The group's picture was set (or replaced) or removed. */
  picture?: 'set' | 'removed';
  /** WhatsApp's id of the new picture. */
  pictureId?: string;
  timestamp: number;
}

export const GROUP_PARTICIPANT_ACTIONS = ['added', 'removed', 'promoted', 'demoted', 'left'] as const;
export type GroupParticipantAction = (typeof GROUP_PARTICIPANT_ACTIONS)[number];

export interface GroupParticipantsEventData {
  group: string;
  action: GroupParticipantAction;
  participants: JidPair[];
  /** Who made the change (for `left`: the participant who left), when WhatsApp named them. */
  author?: JidPair;
  timestamp: number;
}

/** Our account blocked or unblocked a contact (from the API, another linked device or the phone). */
export interface ContactBlockEventData {
  contact: JidPair;
  timestamp: number;
}

/** The name the account keeps for a contact was saved (`name`) or removed (null), here or on another device. */
export interface ContactUpdatedEventData {
  contact: JidPair;
  name: string | null;
  timestamp: number;
}

export const PRESENCE_UPDATE_STATES = ['available', 'unavailable', 'composing', 'recording', 'paused'] as const;

/** A contact's presence (to subscribers) or chat state in a chat, as WhatsApp forwarded it. */
export interface PresenceUpdateEventData {
  /** The chat: the contact itself, or the group the chat state is about. */
  chat: JidPair;
  contact: JidPair;
  presence: (typeof PRESENCE_UPDATE_STATES)[number];
  /** With `unavailable`: Unix ms when the contact was last online, when their privacy lets us know. */
  lastSeen?: number;
  timestamp: number;
}

/** Someone calls the account (every linked device rings). */
export interface CallReceivedEventData {
  callId: string;
  from: JidPair;
  video: boolean;
  group: boolean;
  /** The group a group call belongs to, when WhatsApp named it. */
  groupJid?: string;
  /** Rejected at once by the session's call settings. */
  autoRejected: boolean;
  /** Offered while the session was offline (the call may have ended since). */
  offline: boolean;
  timestamp: number;
}

/** A chat's organisation changed, here or on another device of the account; only what changed is present. */
export interface ChatUpdatedEventData {
  chat: JidPair;
  archived?: boolean;
  pinned?: boolean;
  /** Unix ms the mute ends (-1: always); null: unmuted. */
  mutedUntil?: number | null;
  unread?: boolean;
  /** The chat was deleted (or, with `cleared`, emptied) on this device or another. */
  deleted?: boolean;
  cleared?: boolean;
  timestamp: number;
}

export interface MessageStarredEventData {
  messageId: string;
  chat: JidPair;
  fromMe: boolean;
  starred: boolean;
  timestamp: number;
}

/** A WhatsApp Business label was created, changed or (`deleted`) removed, here or on another device. */
export interface LabelUpdatedEventData {
  labelId: string;
  name?: string;
  color?: number;
  deleted?: boolean;
  timestamp: number;
}

/** A label was put on (`labeled`) or taken off a chat, or one message of it. */
export interface LabelAssociationEventData {
  labelId: string;
  chat: JidPair;
  messageId?: string;
  labeled: boolean;
  timestamp: number;
}

/** A contact posted a status update the account may see. */
export interface StatusReceivedEventData {
  messageId: string;
  sender: JidPair;
  type: string;
  text?: string;
  timestamp: number;
}

/** Our account was added to a group (by an admin, or through an invite or an approved request). */
export interface GroupJoinedEventData {
  group: string;
  /** Who added us, when WhatsApp named them. */
  author?: JidPair;
  timestamp: number;
}

export const GROUP_JOIN_REQUEST_ACTIONS = ['requested', 'cancelled', 'rejected'] as const;
export type GroupJoinRequestAction = (typeof GROUP_JOIN_REQUEST_ACTIONS)[number];

/** Someone asked to join a group the account administers, withdrew the request, or an admin turned it down. */
export interface GroupJoinRequestEventData {
  group: string;
  action: GroupJoinRequestAction;
  requester: JidPair;
  /** How they asked (`invite_link`, ...), when WhatsApp said. */
  method?: string;
  /** The admin who rejected the request. */
  author?: JidPair;
  timestamp: number;
}

/** A post in a channel the account follows (or one of its own posts, made on another device). */
export interface ChannelMessageEventData {
  channel: string;
  messageId: string;
  serverId?: string;
  type: string;
  text?: string;
  timestamp: number;
}

export const COMMUNITY_UPDATE_ACTIONS = ['linked', 'unlinked'] as const;
export type CommunityUpdateAction = (typeof COMMUNITY_UPDATE_ACTIONS)[number];

/** A group was linked to a community the account is in, or unlinked from it. */
export interface CommunityUpdatedEventData {
  community: string;
  action: CommunityUpdateAction;
  group: { jid: string; subject?: string };
  /** Why a group left: `unlink_group` (an admin unlinked it) or `delete_parent` (the community was deleted). */
  reason?: string;
  /** The admin who linked or unlinked it. */
  author?: JidPair;
  timestamp: number;
}

/**
 * Older messages of a chat arrived from the account's phone, as asked with `POST .../chats/{chat}/history`.
 * The messages are stored (paged by `GET .../chats/{chat}/messages`); none becomes a `message.received`.
 */
export interface HistoryReceivedEventData {
  /** The `requestId` the request answered; absent when the phone did not name it. */
  requestId?: string;
  chat: JidPair;
  /** How many messages the phone sent (fewer than asked: the chat has no older ones). */
  count: number;
  /** How many of them were new to the store (the others were stored already). */
  stored: number;
  /** Unix ms of the oldest and newest message sent; absent when none was. */
  oldest?: number;
  newest?: number;
  timestamp: number;
}

export interface EventDataByType {
  'message.received': MessageReceivedEventData;
  'message.status': MessageStatusEventData;
  'message.reaction': MessageReactionEventData;
  'message.edited': MessageEditedEventData;
  'message.deleted': MessageDeletedEventData;
  'poll.vote': PollVoteEventData;
  'group.updated': GroupUpdatedEventData;
  'group.participants': GroupParticipantsEventData;
  'contact.blocked': ContactBlockEventData;
  'contact.unblocked': ContactBlockEventData;
  'contact.updated': ContactUpdatedEventData;
  'presence.update': PresenceUpdateEventData;
  'call.received': CallReceivedEventData;
  'chat.updated': ChatUpdatedEventData;
  'message.starred': MessageStarredEventData;
  'label.updated': LabelUpdatedEventData;
  'label.association': LabelAssociationEventData;
  'status.received': StatusReceivedEventData;
  'channel.message': ChannelMessageEventData;
  'history.received': HistoryReceivedEventData;
  'group.joined': GroupJoinedEventData;
  'group.join_request': GroupJoinRequestEventData;
  'community.updated': CommunityUpdatedEventData;
  'session.status': SessionStatusEventData;
  'session.qr': SessionQrEventData;
  'webhook.disabled': { webhookId: string; reason: string };
  'webhook.ping': { webhookId: string };
}

/** What a producer hands to the events feature. */
export interface EventInput<T extends EventType = EventType> {
  orgId: string;
  /** Null for org-level events (`webhook.*`). */
  sessionId: string | null;
  type: T;
  data: EventDataByType[T];
  /** Unix ms when it happened (not when it was recorded). */
  occurredAt: number;
  /**
   * The producer's own id for this event (e.g. the runner's event row id); recording the same
   * source id twice records one event, so producers may retry freely.
   */
  sourceId?: string;
}

/** What receivers get: the body of a webhook delivery and of an SSE `data:` line. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  timestamp: number;
  orgId: string;
  sessionId: string | null;
  /** Per-session sequence number, gap-free, starting at 1; 0 for org-level events. */
  sequence: number;
  data: EventDataByType[T];
}

/**
 * Messaging between the gateway (which owns the outbox) and the runner (which owns the
 * WhatsApp connection and the message store). Wire names in RPC_MESSAGING are public between
 * deployed versions: never rename one.
 */
import type { SessionRef } from './rpc';

export const RPC_MESSAGING = {
  /** Gateway -> runner: perform one outbox entry with its pre-assigned WhatsApp message id. */
  execute: 'messages.execute',
  /** Gateway -> runner: facts about a stored message, to validate a reaction/vote/edit/delete before accepting it. */
  lookup: 'messages.lookup',
  /** Gateway -> runner: mark messages of a chat read. */
  markRead: 'chats.read',
  /** Gateway -> runner: typing / recording / paused in a chat. */
  presence: 'chats.presence',
  chats: 'chats.list',
  chatMessages: 'chats.messages',
  message: 'messages.get',
  /** Group members' receipts of one of our messages. */
  messageReceipts: 'messages.receipts',
  contacts: 'contacts.list',
  contactExists: 'contacts.exists',
  /** One contact, and the name the account keeps for it (saved through app state). */
  contact: 'contacts.get',
  contactName: 'contacts.name',
  groups: 'groups.list',
  group: 'groups.get',
  groupCreate: 'groups.create',
  groupParticipants: 'groups.participants',
  /** Subject and/or description. */
  groupUpdate: 'groups.update',
  /** `announcement` and/or `locked`. */
  groupSettings: 'groups.settings',
  groupInvite: 'groups.invite',
  groupInviteRevoke: 'groups.invite.revoke',
  groupLeave: 'groups.leave',
  /** The group an invite code leads to, without joining. */
  groupInviteInfo: 'groups.invites.info',
  groupInviteJoin: 'groups.invites.join',
  /** Chat organisation through the account's app state (chat-organisation.ts). */
  chatModify: 'chats.modify',
  chatDelete: 'chats.delete',
  chatClear: 'chats.clear',
  messageStar: 'messages.star',
  /** WhatsApp Business labels (labels.ts). */
  labels: 'labels.list',
  labelCreate: 'labels.create',
  labelUpdate: 'labels.update',
  labelDelete: 'labels.delete',
  labelAssign: 'labels.assign',
  /** Status updates (statuses.ts). */
  statusPost: 'statuses.post',
} as const;

/** Identifies a message as WhatsApp does; `fromMe` is derived by the runner from `sender`. */
export interface MessageTarget {
  /** The message id (`mid`). */
  id: string;
  /** The chat JID the message lives in. */
  chat: string;
  /** The JID of the message's author (our own JID for our messages). */
  sender: string;
}

export type MediaSource = { url: string } | { base64: string };

export type OutgoingContent =
  | { type: 'text'; text: string; mentions?: string[]; mentionAll?: boolean }
  | { type: 'image'; media: MediaSource; mimetype?: string; caption?: string; mentions?: string[] }
  | { type: 'video'; media: MediaSource; mimetype?: string; caption?: string; mentions?: string[]; seconds?: number; gifPlayback?: boolean }
  /** `waveform`: base64. */
  | { type: 'audio'; media: MediaSource; mimetype?: string; voiceNote?: boolean; seconds?: number; waveform?: string }
  | { type: 'document'; media: MediaSource; mimetype: string; fileName?: string; caption?: string; mentions?: string[] }
  | { type: 'sticker'; media: MediaSource }
  | { type: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  | { type: 'contacts'; contacts: { displayName: string; vcard: string }[] }
  | { type: 'poll'; name: string; options: string[]; selectableCount: number }
  /** A stored message forwarded (forwarded flag, forwarding score) to `chat`. */
  | { type: 'forward'; messageId: string; fromChat: string };

/** What one outbox entry asks WhatsApp to do. */
export type OutboxAction =
  | { kind: 'send'; chat: string; content: OutgoingContent; replyTo?: MessageTarget }
  | { kind: 'react'; target: MessageTarget; emoji: string }
  | { kind: 'vote'; target: MessageTarget; options: string[] }
  | { kind: 'edit'; target: MessageTarget; text: string }
  | { kind: 'revoke'; target: MessageTarget };

export interface ExecutePayload extends SessionRef {
  outboxId: string;
  waMessageId: string;
  action: OutboxAction;
  /** Set on a retry after a crash or takeover: the runner must not send a second copy if this id already went out. */
  attempt: number;
  /**
   * The session's pacing, enforced by the runner that owns the session (so it holds however many
   * gateways dispatch): at least `minIntervalMs` +/- `jitterMs` between two sends of one session.
   * A send whose turn is more than `maxWaitMs` away is refused with `rate_limited` and
   * `details.retryAfterMs`, and the gateway hands it over again then.
   */
  pacing?: { minIntervalMs: number; jitterMs: number; maxWaitMs: number };
  /**
   * Whether the answer waits (up to the runner's `SEND_ACK_WAIT_MS`) for WhatsApp's server ack,
   * to report `sent`: a sync request does; an async entry's status follows from its events, and
   * the next entry of its chat need not wait for the ack (the socket keeps the order). Absent:
   * it waits.
   */
  awaitAck?: boolean;
}

export interface ExecuteResult {
  waMessageId: string;
  /** `sent` once WhatsApp's server acknowledged it within the runner's wait; `sending` if the ack is still due. */
  status: 'sending' | 'sent';
  /** Unix ms WhatsApp assigned to the message. */
  timestamp: number;
}

export interface LookupPayload extends SessionRef {
  target: MessageTarget;
}

export interface LookupResult {
  exists: boolean;
  fromMe: boolean;
  type?: string;
  /** For polls: the option texts and how many may be selected (0 = any number). */
  poll?: { name: string; options: string[]; selectableCount: number };
}

export interface MarkReadPayload extends SessionRef {
  chat: string;
  /** Specific message ids; empty = everything received in the chat so far. */
  messageIds?: string[];
}

export interface MarkReadResult {
  /** How many received messages got a read receipt now (already-read ones are not sent again). */
  read: number;
}

export interface PresencePayload extends SessionRef {
  chat: string;
  presence: 'typing' | 'recording' | 'paused';
}

export interface PresenceResult {
  sent: true;
}

export interface PagePayload extends SessionRef {
  limit: number;
  cursor?: string;
}

export interface ChatSummary {
  jid: string;
  pn?: string;
  lid?: string;
  name?: string;
  isGroup: boolean;
  lastMessageAt: number;
  lastMessageId: string;
  /** From the account's app state (chat-organisation.ts). */
  archived?: boolean;
  pinned?: boolean;
  mutedUntil?: number;
  unread?: boolean;
  /** Ids of the WhatsApp Business labels on the chat. */
  labels?: string[];
}

export interface StoredMessage {
  id: string;
  /** The chat's one id: a contact's phone-number JID when known, else its LID; or the group. */
  chat: string;
  sender: string;
  /** `chat` with the phone-number and LID forms known for it. */
  chatIds?: { jid: string; pn?: string; lid?: string };
  senderIds?: { jid: string; pn?: string; lid?: string };
  fromMe: boolean;
  timestamp: number;
  type: string;
  content: Record<string, unknown>;
  /** Latest delivery status we know of our own messages. */
  status?: 'sent' | 'delivered' | 'read' | 'failed';
  /** When the text (or caption) was last edited; `content` shows the edited text. */
  editedAt?: number;
  /** When the message was deleted for everyone; `content` is then empty. */
  deletedAt?: number;
  /** Ids of the WhatsApp Business labels on the message, when it has any. */
  labels?: string[];
  /** For polls: the current tally, each voter's latest selection counted once. */
  poll?: {
    name: string;
    options: string[];
    selectableCount: number;
    tally: { option: string; votes: number; voters: string[] }[];
  };
}

export interface ChatMessagesPayload extends PagePayload {
  chat: string;
}

export interface MessageGetPayload extends SessionRef {
  id: string;
  chat?: string;
}

/** `messages.receipts`: the message by id. */
export interface MessageReceiptsPayload extends SessionRef {
  id: string;
}

/** One member's receipt of one of our messages (a group's, or a status post's viewer). */
export interface MemberReceipt {
  member: { jid: string; pn?: string; lid?: string };
  status: 'delivered' | 'read';
  /** Unix ms WhatsApp stamped on the receipt. */
  at: number;
}

export interface Page<T> {
  data: T[];
  nextCursor: string;
}

export interface ContactSummary {
  jid: string;
  pn?: string;
  lid?: string;
  /** The name the account keeps for the contact (saved here or on the phone). */
  name?: string;
  /** The name the contact gave themselves. */
  pushName?: string;
}

export interface ContactExistsPayload extends SessionRef {
  phone: string;
}

export interface ContactExistsResult {
  phone: string;
  exists: boolean;
  jid?: string;
  lid?: string;
}

export interface GroupSummary {
  jid: string;
  subject: string;
  owner?: string;
  description?: string;
  createdAt?: number;
  /** Only admins may send messages. */
  announcement: boolean;
  /** Only admins may change the group's info. */
  locked: boolean;
  participants: { jid: string; pn?: string; admin?: 'admin' | 'superadmin' }[];
}

/** `groups.list` takes a plain SessionRef: WhatsApp returns every group at once, so there is no cursor. */
export interface GroupListResult {
  data: GroupSummary[];
}

export interface GroupGetPayload extends SessionRef {
  group: string;
}

export interface GroupCreatePayload extends SessionRef {
  subject: string;
  participants: string[];
}

export type GroupParticipantsAction = 'add' | 'remove' | 'promote' | 'demote';

export interface GroupParticipantsPayload extends SessionRef {
  group: string;
  action: GroupParticipantsAction;
  participants: string[];
}

export interface GroupParticipantsResult {
  results: { jid: string; status: string }[];
}

/** At least one of the two; an empty `description` removes it. */
export interface GroupUpdatePayload extends SessionRef {
  group: string;
  subject?: string;
  description?: string;
}

export interface GroupSettingsPayload extends SessionRef {
  group: string;
  announcement?: boolean;
  locked?: boolean;
}

/** `groups.invite`, `groups.invite.revoke`, `groups.leave`. */
export interface GroupInvitePayload extends SessionRef {
  group: string;
}

/** `groups.invites.info`, `groups.invites.join`. */
export interface GroupInviteCodePayload extends SessionRef {
  code: string;
}

export interface GroupInviteResult {
  code: string;
  link: string;
}

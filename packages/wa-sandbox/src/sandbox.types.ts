/** JSON shapes shared by the `WaSandbox` methods and the HTTP control API. */

export interface SandboxOptions {
  /** How many QR refs the server hands out per pairing attempt (the client ends with 408 after). */
  qrRefCount?: number;
  /** Delay before a virtual phone's automatic delivery receipt, so it lands as `messages.update`. */
  deliveryReceiptDelayMs?: number;
  /** Whether virtual phones send delivery receipts by themselves. */
  autoDeliveryReceipts?: boolean;
  /** Pre-keys each virtual phone generates for others to start Signal sessions with it. */
  phonePreKeyCount?: number;
  /** How the server authenticates itself in the noise handshake at first ('genuine'). */
  serverIdentity?: ServerIdentity;
  /** Largest file the media server accepts (its media_conn `maxContentLengthBytes`); 100 MiB by default. */
  mediaMaxBytes?: number;
  /**
   * Every how many patches the server compacts an app-state collection into a snapshot (50 by
   * default); a device syncing from scratch gets the snapshot and the patches after it.
   */
  appStateSnapshotEvery?: number;
}

/**
 * What the server presents in the noise handshake. `genuine` is a correct chain from the sandbox
 * root certifying the static key in use; every other value impersonates a server a client must
 * refuse: `replayed_chain` (the genuine chain, another static key), `expired_leaf` and
 * `expired_intermediate` (a validity window that has passed), `foreign_root` (signed by a root
 * nobody trusts), `forged_signature` (a leaf not signed by the intermediate).
 */
export type ServerIdentity =
  | 'genuine'
  | 'replayed_chain'
  | 'expired_leaf'
  | 'expired_intermediate'
  | 'foreign_root'
  | 'forged_signature';

export const SERVER_IDENTITIES: readonly ServerIdentity[] = [
  'genuine',
  'replayed_chain',
  'expired_leaf',
  'expired_intermediate',
  'foreign_root',
  'forged_signature',
];

/**
 * One client connection as the server saw it. `clientFinish` stays `none` while the client has not
 * completed the handshake, which is all a client that refused the server ever does; `registration`
 * means the server then offered QR refs (pair-device), `login` that a linked device logged in.
 */
export interface HandshakeRecord {
  serverIdentity: ServerIdentity;
  clientFinish: 'none' | 'registration' | 'login';
  at: number;
}

export interface StartOptions {
  port?: number;
  /** Only loopback is accepted: the sandbox has no authentication. */
  host?: '127.0.0.1';
}

export interface PhoneInfo {
  phone: string;
  jid: string;
  lid: string;
  name: string;
}

export type OutgoingMessage =
  /** `quotedId`: a message this phone sent or received, shown as replied to; `mentions`: jids. */
  | { type: 'text'; text: string; quotedId?: string; mentions?: string[] }
  | { type: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  | { type: 'contact'; displayName: string; vcard: string }
  /** Several cards in one message; `displayName` is the summary line. */
  | { type: 'contacts'; displayName?: string; contacts: { displayName: string; vcard: string }[] }
  | { type: 'poll'; name: string; options: string[]; selectableCount?: number }
  | { type: 'vote'; pollId: string; options: string[] }
  | { type: 'reaction'; targetId: string; emoji: string }
  | { type: 'edit'; targetId: string; text: string }
  | { type: 'revoke'; targetId: string }
  | OutgoingMediaMessage;

/**
 * A file a phone sends: encrypted and uploaded to the sandbox media server as WhatsApp does.
 * `data` is base64 of the plaintext; `waveform` base64 of the voice-note waveform (64 bytes).
 */
export interface OutgoingMediaMessage {
  type: 'image' | 'video' | 'audio' | 'document' | 'sticker';
  data: string;
  mimetype?: string;
  caption?: string;
  fileName?: string;
  ptt?: boolean;
  seconds?: number;
  waveform?: string;
  gifPlayback?: boolean;
  isAnimated?: boolean;
  quotedId?: string;
  mentions?: string[];
}

export type ReceivedKind =
  | 'text'
  | 'location'
  | 'contact'
  | 'poll'
  | 'vote'
  | 'reaction'
  | 'edit'
  | 'revoke'
  | 'protocol'
  | 'image'
  | 'video'
  | 'audio'
  | 'document'
  | 'sticker'
  | 'other';

export interface ReceivedMessage {
  id: string;
  kind: ReceivedKind;
  /** Sender device jid as routed (LID form). */
  from: string;
  /** Sender account in both addressings. */
  fromPn: string;
  fromLid: string;
  /** Chat the message belongs to from the phone's point of view (a user jid or a group jid). */
  chat: string;
  /** True when one of the phone's own companions sent it to someone else (device-sent copy). */
  fromOwnDevice: boolean;
  timestamp: number;
  /** When the server handed it to the phone (milliseconds, the sandbox's clock), for measuring delivery. */
  receivedAt: number;
  /**
   * How the copy the phone decrypted came: `pkmsg` starts a Signal session (from one of the
   * phone's pre-keys), `msg` goes on a session the two devices have, `skmsg` on a group sender key;
   * a channel post is `plaintext`.
   */
  encryption: 'pkmsg' | 'msg' | 'skmsg' | 'plaintext';
  text?: string;
  /** Jids a text message mentions (its `mentionedJid`). */
  mentions?: string[];
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contact?: { displayName: string; vcard: string };
  poll?: { name: string; options: string[]; selectableCount: number };
  vote?: { pollId: string; selectedOptions: string[] };
  reaction?: { targetId: string; emoji: string; removed: boolean };
  edit?: { targetId: string; text: string };
  revoke?: { targetId: string };
  media?: ReceivedMedia;
  /** Set on a forwarded message: WhatsApp's forwarding score (how often it was forwarded). */
  forwarded?: { score: number };
}

/**
 * A media message as the receiving phone saw it after downloading, checking and decrypting the
 * file. `verified` is true only when the ciphertext hash, the MAC and the plaintext hash all
 * matched; otherwise `problem` says which check failed (or `not_found`/`expired`/`missing_keys`).
 */
export interface ReceivedMedia {
  type: 'image' | 'video' | 'audio' | 'document' | 'sticker';
  mimetype: string;
  /** As the message claims it. */
  fileLength: number;
  verified: boolean;
  problem?: 'enc_sha256_mismatch' | 'mac_mismatch' | 'undecryptable' | 'sha256_mismatch' | 'not_found' | 'expired' | 'missing_keys';
  /** Of the decrypted bytes (hex), when verified. */
  sha256?: string;
  size?: number;
  caption?: string;
  fileName?: string;
  ptt?: boolean;
  seconds?: number;
  /** Base64. */
  waveform?: string;
  gifPlayback?: boolean;
  isAnimated?: boolean;
  quotedId?: string;
  mentions?: string[];
  directPath?: string;
}

export type ReceiptType = 'delivered' | 'read';

export type PresenceState = 'composing' | 'paused' | 'recording' | 'available' | 'unavailable';

export interface ReceivedPresence {
  from: string;
  state: PresenceState;
  at: number;
}

export type FaultKind =
  | 'device_removed'
  | 'replaced'
  | 'restart_required'
  | 'timed_out'
  | 'connection_closed'
  | 'service_unavailable'
  | 'banned'
  | 'version_rejected'
  | 'drop';

export const FAULT_KINDS: readonly FaultKind[] = [
  'device_removed',
  'replaced',
  'restart_required',
  'timed_out',
  'connection_closed',
  'service_unavailable',
  'banned',
  'version_rejected',
  'drop',
];

export interface DeviceInfo {
  jid: string;
  lid: string;
  phone: string;
  platform: string;
  connected: boolean;
  /** How many times this device logged in (a new connection with its credentials). */
  logins: number;
}

/** A message or receipt the server still waits for a linked device to acknowledge. */
export interface PendingStanza {
  /** The device, in phone-number form. */
  device: string;
  tag: 'message' | 'receipt';
  id: string;
  from: string;
  /** In a group: the author of the message, or the member whose receipt it is. */
  participant?: string;
  /** A receipt's type (`read`; none for a delivery). */
  type?: string;
}

export interface LoggedOutDevice {
  jid: string;
  lid: string;
  phone: string;
  reason: 'user_initiated' | 'device_removed';
  at: number;
}

export interface GroupInfo {
  jid: string;
  subject: string;
  /** LIDs of the members. */
  participants: string[];
  /** LIDs of the admins (the creator first, while an admin). */
  admins: string[];
  description?: string;
  announce: boolean;
  restrict: boolean;
  inviteCode: string;
  /** The id of the group's picture, while it has one. */
  pictureId?: string;
  /** The group is a community (its parent group), with its announcement group. */
  community?: boolean;
  announcementGroup?: string;
  /** The community the group is linked to. */
  linkedParent?: string;
  /** The group is its community's announcement group. */
  defaultSubGroup?: boolean;
}

export class SandboxError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** An account's profile as the sandbox's server keeps it. */
export interface ProfileInfo {
  phone: string;
  /** The push name, as last announced in a `<presence name>`. */
  name: string;
  about?: string;
  pictureId?: string;
  privacy: Record<string, string>;
  /** The address book: phones that "contacts" in a privacy setting means. */
  contacts: string[];
}

/** A call a virtual phone placed, as the server saw it end. */
export interface CallInfo {
  callId: string;
  from: string;
  to: string;
  video: boolean;
  group: boolean;
  status: 'ringing' | 'rejected' | 'terminated';
  /** The device of the callee that rejected it. */
  rejectedBy?: string;
}

/**
 * A change the virtual phone makes to its chat organisation, written to the account's app state
 * as WhatsApp's phone app does. `mute.until` is the end in Unix milliseconds (-1: always), null
 * to unmute. Labels exist on WhatsApp Business accounts only.
 */
export type PhoneChatAction =
  | { type: 'archive'; chat: string; archived: boolean }
  | { type: 'pin'; chat: string; pinned: boolean }
  | { type: 'mute'; chat: string; until: number | null }
  | { type: 'markRead'; chat: string; read: boolean }
  | { type: 'star'; chat: string; messageId: string; fromMe: boolean; starred: boolean }
  | { type: 'delete'; chat: string }
  | { type: 'clear'; chat: string }
  | { type: 'contact'; jid: string; fullName: string | null }
  | { type: 'labelEdit'; labelId: string; name: string; color: number; deleted?: boolean }
  | { type: 'labelChat'; labelId: string; chat: string; labeled: boolean }
  | { type: 'labelMessage'; labelId: string; chat: string; messageId: string; labeled: boolean };

export const PHONE_CHAT_ACTIONS: readonly PhoneChatAction['type'][] = [
  'archive', 'pin', 'mute', 'markRead', 'star', 'delete', 'clear', 'contact', 'labelEdit', 'labelChat', 'labelMessage',
];

/** One entry of a collection as the phone decoded it: the mutation index and its `SyncActionValue`. */
export interface AppStateEntry {
  index: string[];
  value: Record<string, unknown>;
}

/** An account's app state as its phone reads it, per collection, and any patch it could not verify. */
export interface AppStateView {
  collections: Record<'critical_block' | 'critical_unblock_low' | 'regular_high' | 'regular' | 'regular_low', { version: number; entries: AppStateEntry[] }>;
  failures: string[];
}

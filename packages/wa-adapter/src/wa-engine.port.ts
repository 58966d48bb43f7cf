import type { WaCall, WaCallOps } from './wa-calls.port';
import type { WaGroupPolicyOps } from './wa-group-policies.port';
import type { WaGroupAdminOps, WaJoinRequestUpdate } from './wa-group-admin.port';
import type { WaCommunityOps, WaCommunityUpdate } from './wa-communities.port';
import type { WaBlocklistUpdate, WaContactsOps } from './wa-contacts.port';
import type { WaChannelOps } from './wa-channels.port';
import type { WaPresenceOps, WaPresenceUpdate } from './wa-presence.port';
import type { WaProfileOps } from './wa-profile.port';
import type { WaChatChange, WaChatUpdate, WaContactName, WaContactNameChange, WaLabel, WaLabelAssociation, WaLastMessage, WaStarUpdate } from './wa-chat.port';
/**
 * The WhatsApp engine as the session runner sees it. Nothing here names Baileys: the runner
 * depends on these types only, so the engine can be swapped (or faked in the runner's unit tests)
 * without touching it.
 */

/** Identifies one message. `participant` is the author inside a group and absent in 1:1 chats. */
export interface WaMessageKey {
  chatJid: string;
  id: string;
  fromMe: boolean;
  participant?: string;
}

export interface WaMe {
  /** Phone-number jid without device part, e.g. `491701234567@s.whatsapp.net`. */
  jid: string;
  /** Our linked identity (`…@lid`), known once the server has told us. */
  lid?: string;
  pushName?: string;
}

/**
 * `server_untrusted`: the server failed to prove in the noise handshake that it is WhatsApp (or the
 * server trusted through `WA_ROOT_PUBLIC_KEY`); the session stopped before pairing or login.
 * `qr_timeout`: nobody scanned any of the QR codes offered (`qrMaxRefreshes`); a new start offers new ones.
 */
export type WaFailureReason = 'banned' | 'version_rejected' | 'replaced' | 'too_many_restarts' | 'server_untrusted' | 'qr_timeout';

export type WaStatus =
  | { state: 'starting' }
  /** `expiresAt` (Unix ms): when the client replaces this QR with the next one, or gives up. */
  | { state: 'qr'; qr: string; expiresAt: number }
  | { state: 'pairing'; code: string }
  | { state: 'connected'; me: WaMe }
  | { state: 'reconnecting'; attempt: number; delayMs: number; code?: number }
  | { state: 'logged_out' }
  | { state: 'failed'; reason: WaFailureReason; message: string }
  | { state: 'stopped' };

export type WaMessageType =
  | 'text'
  | 'image'
  | 'video'
  | 'audio'
  | 'document'
  | 'sticker'
  | 'location'
  /** One or more contact cards (vCards). */
  | 'contacts'
  | 'poll'
  | 'unknown';

export interface WaIncomingMessage {
  key: WaMessageKey;
  /** The phone-number or LID twin of the chat/author, when the server sent it. */
  chatJidAlt?: string;
  participantAlt?: string;
  pushName?: string;
  timestampMs: number;
  type: WaMessageType;
  text?: string;
  /** For polls: the option texts, needed later to map vote hashes back. */
  pollOptions?: string[];
  quotedId?: string;
  /** A channel post's server id (WhatsApp numbers each channel's posts; reactions name it). */
  serverId?: string;
  /** `proto.WebMessageInfo` bytes: what the message store keeps for retries, edits and votes. */
  raw: Uint8Array;
}

/** Ordered as WhatsApp orders them; a later status never goes back to an earlier one. */
export type WaDeliveryStatus = 'error' | 'pending' | 'server_ack' | 'delivered' | 'read' | 'played';

export interface WaMessageStatusUpdate {
  key: WaMessageKey;
  status: WaDeliveryStatus;
  /** Set for group receipts: which member the receipt is from. */
  recipient?: string;
  timestampMs: number;
}

export interface WaReaction {
  /** The reaction message itself. */
  key: WaMessageKey;
  target: WaMessageKey;
  /** Empty string = the reaction was removed. */
  emoji: string;
  timestampMs: number;
  /** `proto.WebMessageInfo` bytes of the reaction message: stored, so a redelivered copy is known. */
  raw: Uint8Array;
}

export interface WaEdit {
  key: WaMessageKey;
  target: WaMessageKey;
  text?: string;
  timestampMs: number;
  raw: Uint8Array;
}

export interface WaRevoke {
  key: WaMessageKey;
  target: WaMessageKey;
  timestampMs: number;
  raw: Uint8Array;
}

export interface WaPollVote {
  key: WaMessageKey;
  poll: WaMessageKey;
  voterJid: string;
  /** Texts of the selected options; an empty list means the voter cleared the vote. */
  selectedOptions: string[];
  timestampMs: number;
  raw: Uint8Array;
}

/** A status update: styled text, or an image or video message. */
export type WaStatusContent = { text: string; backgroundColor?: string; font?: number } | Extract<WaOutgoingContent, { type: 'image' | 'video' }>;

/** What a received message is, as the receipt sink gets it before WhatsApp is told of its delivery. */
export type WaReceived =
  | { kind: 'message'; message: WaIncomingMessage }
  | { kind: 'reaction'; reaction: WaReaction }
  | { kind: 'edit'; edit: WaEdit }
  | { kind: 'revoke'; revoke: WaRevoke }
  | { kind: 'pollVote'; vote: WaPollVote };

export interface WaLidMapping {
  lid: string;
  pn: string;
}

/**
 * A message WhatsApp delivered that could not be read: `decrypt_failed` when decryption threw (no
 * session or keys out of step; a retry receipt asks the sender to try again), `no_content` when
 * the node carried nothing to decrypt.
 */
export interface WaUndecryptable {
  key: WaMessageKey;
  reason: 'decrypt_failed' | 'no_content';
}

/** A change to a group's info or settings as a `w:gp2` notification told it; only changed fields are set. */
export interface WaGroupUpdate {
  groupJid: string;
  author?: string;
  authorPn?: string;
  subject?: string;
  /** Empty string: the description was removed. */
  description?: string;
  announce?: boolean;
  restrict?: boolean;
  /** The picture was set (or replaced), with its new id, or removed. */
  picture?: 'set' | 'removed';
  pictureId?: string;
  timestampMs: number;
}

export type WaGroupParticipantsAction = 'add' | 'remove' | 'promote' | 'demote' | 'leave';

export interface WaGroupParticipantsUpdate {
  groupJid: string;
  author?: string;
  authorPn?: string;
  action: WaGroupParticipantsAction;
  participants: { jid: string; phoneJid?: string }[];
  timestampMs: number;
}

/**
 * Older messages of a chat our phone sent because we asked (`fetchHistory`): WhatsApp's ON_DEMAND
 * history sync. Only content messages; `requestId` is the id `fetchHistory` answered.
 */
export interface WaHistoryBatch {
  requestId?: string;
  /** The chat as the phone named it (its LID form for a contact whose LID it knows). */
  chatJid?: string;
  /** The chat's phone-number or LID twin, when the phone named it. */
  chatJidAlt?: string;
  /** Oldest first. */
  messages: WaIncomingMessage[];
}

export interface WaConnectionEvents {
  status: (status: WaStatus) => void;
  /** Every stored-worthy message, received or sent from another device of ours. */
  message: (message: WaIncomingMessage) => void;
  messageStatus: (update: WaMessageStatusUpdate) => void;
  reaction: (reaction: WaReaction) => void;
  edit: (edit: WaEdit) => void;
  revoke: (revoke: WaRevoke) => void;
  pollVote: (vote: WaPollVote) => void;
  lidMapping: (mapping: WaLidMapping) => void;
  undecryptable: (message: WaUndecryptable) => void;
  groupUpdate: (update: WaGroupUpdate) => void;
  groupParticipants: (update: WaGroupParticipantsUpdate) => void;
  joinRequest: (update: WaJoinRequestUpdate) => void;
  /** A group was linked to or unlinked from a community the account is in. */
  community: (update: WaCommunityUpdate) => void;
  blocklist: (update: WaBlocklistUpdate) => void;
  presence: (update: WaPresenceUpdate) => void;
  call: (call: WaCall) => void;
  /** Archive, pin, mute, read state or deletion of a chat, from this device or another of the account. */
  chatUpdate: (update: WaChatUpdate) => void;
  messageStar: (update: WaStarUpdate) => void;
  labelEdit: (label: WaLabel & { timestampMs: number }) => void;
  labelAssociation: (association: WaLabelAssociation) => void;
  /** Older messages of a chat that `fetchHistory` asked our phone for. */
  history: (batch: WaHistoryBatch) => void;
  /** A contact's saved name set or removed, from this device or another of the account. */
  contactName: (update: WaContactName) => void;
  /** Failures that happen inside event handling, where no caller is waiting for a rejection. */
  error: (error: Error) => void;
}

/** `file`: a local file Baileys reads as a stream (large media are never held in memory). */
export type WaMedia = { data: Uint8Array } | { url: string } | { file: string };

export type WaOutgoingContent =
  | { type: 'text'; text: string; mentions?: string[] }
  | { type: 'image'; media: WaMedia; mimetype?: string; caption?: string; mentions?: string[] }
  | { type: 'video'; media: WaMedia; mimetype?: string; caption?: string; mentions?: string[]; seconds?: number; gifPlayback?: boolean }
  | { type: 'audio'; media: WaMedia; mimetype?: string; voiceNote?: boolean; seconds?: number; waveform?: Uint8Array }
  | { type: 'document'; media: WaMedia; mimetype: string; fileName?: string; caption?: string; mentions?: string[] }
  | { type: 'sticker'; media: WaMedia }
  | { type: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  | { type: 'contact'; displayName: string; vcard: string }
  /** Several cards in one message; `displayName` is the summary line WhatsApp shows. */
  | { type: 'contacts'; displayName?: string; contacts: { displayName: string; vcard: string }[] }
  | { type: 'poll'; name: string; options: string[]; selectableCount: number };

export interface WaSendOptions {
  /** Generated by the outbox at insert time, so a retried send cannot create a duplicate. */
  messageId: string;
  quoted?: WaMessageKey;
}

export interface WaSendResult {
  key: WaMessageKey;
  timestampMs: number;
  raw: Uint8Array;
}

export type WaPresence = 'available' | 'unavailable' | 'composing' | 'recording' | 'paused';

export interface WaContactCheck {
  exists: boolean;
  jid?: string;
  lid?: string;
}

export interface WaGroupParticipant {
  jid: string;
  phoneJid?: string;
  admin?: 'admin' | 'superadmin';
}

export interface WaGroupMetadata {
  jid: string;
  subject: string;
  owner?: string;
  description?: string;
  createdAtMs?: number;
  addressingMode?: 'lid' | 'pn';
  /** Only admins may send messages. */
  announce: boolean;
  /** Only admins may change the group's info. */
  restrict: boolean;
  participants: WaGroupParticipant[];
}

export interface WaParticipantResult {
  jid: string;
  /** WhatsApp's per-participant status code, `200` on success (e.g. `403` = privacy settings). */
  status: string;
}

export interface WaConnection extends WaProfileOps, WaContactsOps, WaPresenceOps, WaCallOps, WaGroupPolicyOps, WaGroupAdminOps, WaChannelOps, WaCommunityOps {
  readonly sessionId: string;
  /** The latest status; events report every change. */
  readonly status: WaStatus;
  /** The latest raw QR string while waiting for a scan (render it with `renderQrPng`). */
  readonly qr: string | undefined;

  on<E extends keyof WaConnectionEvents>(event: E, listener: WaConnectionEvents[E]): () => void;
  /**
   * Stores what a received message is (a message, reaction, edit, deletion or poll vote) before
   * WhatsApp gets its delivery receipt (undefined: none). When the sink rejects, no receipt goes
   * and WhatsApp delivers it again at the next login; it is still emitted as its event either
   * way, so the sink and the listeners must both tell a second copy from a first.
   */
  setReceiptSink(sink: ((received: WaReceived) => Promise<void>) | undefined): void;
  /**
   * Stores the statuses a receipt (delivered, read, played) tells before WhatsApp gets its ack
   * (undefined: none). When the sink rejects, no ack goes and WhatsApp delivers the receipt again
   * at the next login; the statuses are still emitted as `messageStatus` either way, so applying
   * one twice must change nothing.
   */
  setStatusSink(sink: ((updates: WaMessageStatusUpdate[]) => Promise<void>) | undefined): void;
  /**
   * Resolves true once the live socket has received the server's offline backlog (what piled up
   * while no socket was logged in, ended by WhatsApp's end-of-offline marker) and every stanza of
   * it went through the sinks above; false when that did not happen within `timeoutMs` (a
   * server that never sends the marker, or a socket that closed first).
   */
  backlogProcessed(timeoutMs: number): Promise<boolean>;

  /** Opens the socket; reconnects on its own per the disconnect policy until `stop`. */
  start(): Promise<void>;
  /** Closes the socket and keeps the credentials (the session resumes on the next `start`). */
  stop(): Promise<void>;
  /** Unlinks the device at WhatsApp and wipes the credentials. */
  logout(): Promise<void>;
  /** Links by phone number instead of QR; resolves to the 8-character code to type on the phone. */
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** Stops the socket and releases every per-session cache; the object is unusable afterwards. */
  dispose(): Promise<void>;

  /** Resolves when the stanza is written; server and error acks arrive as `messageStatus`. */
  sendMessage(chatJid: string, content: WaOutgoingContent, options: WaSendOptions): Promise<WaSendResult>;
  /** An empty emoji removes our reaction. */
  react(target: WaMessageKey, emoji: string, options: WaSendOptions): Promise<WaSendResult>;
  /** Replaces our earlier selection on the poll; an empty list clears it. */
  vote(poll: WaMessageKey, selectedOptions: string[], options: WaSendOptions): Promise<WaSendResult>;
  edit(target: WaMessageKey, text: string, options: WaSendOptions): Promise<WaSendResult>;
  revoke(target: WaMessageKey, options: WaSendOptions): Promise<WaSendResult>;
  read(keys: WaMessageKey[]): Promise<void>;
  /** Without `chatJid` sets our global presence; with it, typing/recording state in that chat. */
  sendPresence(presence: WaPresence, chatJid?: string): Promise<void>;
  onWhatsApp(phoneNumber: string): Promise<WaContactCheck>;
  /**
   * Asks our phone for up to `count` messages of the anchor's chat older than the anchor (a
   * message we have, with its timestamp); answers the request id. The phone's answer arrives
   * later as a `history` event carrying that id, or never (a phone that is offline).
   */
  fetchHistory(anchor: WaMessageKey, anchorTimestampMs: number, count: number): Promise<string>;

  createGroup(subject: string, participants: string[]): Promise<WaGroupMetadata>;
  groupMetadata(groupJid: string): Promise<WaGroupMetadata>;
  /** Every group we are a participant of. */
  listGroups(): Promise<WaGroupMetadata[]>;
  updateGroupParticipants(
    groupJid: string,
    participants: string[],
    action: 'add' | 'remove' | 'promote' | 'demote',
  ): Promise<WaParticipantResult[]>;
  updateGroupSubject(groupJid: string, subject: string): Promise<void>;
  /** An empty description removes it. */
  updateGroupDescription(groupJid: string, description: string): Promise<void>;
  updateGroupSetting(groupJid: string, setting: 'announcement' | 'not_announcement' | 'locked' | 'unlocked'): Promise<void>;
  groupInviteCode(groupJid: string): Promise<string>;
  /** Revokes the current invite code and answers the new one. */
  revokeGroupInvite(groupJid: string): Promise<string>;
  /** The group an invite code leads to, without joining it. */
  groupInviteInfo(code: string): Promise<WaGroupMetadata>;
  leaveGroup(groupJid: string): Promise<void>;
  /**
   * Asks our phone to upload a stored media message again (WhatsApp's copy expired): the
   * `mediaretry` receipt/notification exchange. Answers the message's raw bytes with the new
   * direct path; rejects when the phone could not (it no longer has the file, for one).
   */
  reuploadMedia(raw: Uint8Array): Promise<Uint8Array>;
  /** Writes one change to the account's app state, which every device of the account then reads. */
  modifyChat(chatJid: string, change: WaChatChange, lastMessage?: WaLastMessage): Promise<void>;
  starMessage(key: WaMessageKey, starred: boolean): Promise<void>;
  /** Sends a stored message on as forwarded (Baileys raises its forwarding score; our own messages keep theirs). */
  forwardMessage(chatJid: string, source: WaMessageKey, options: WaSendOptions): Promise<WaSendResult>;
  /** Whether the linked account is a WhatsApp Business one (its phone's platform, told at pairing). */
  isBusiness(): boolean;
  /** Posts a status (text, or an image or video) to `status@broadcast` for the given contacts (Baileys' `statusJidList`). */
  sendStatus(content: WaStatusContent, recipients: string[], options: WaSendOptions): Promise<WaSendResult>;
  /** Creates, edits or (with `deleted`) removes a label in the account's app state. */
  editLabel(label: WaLabel): Promise<void>;
  labelChat(chatJid: string, labelId: string, labeled: boolean): Promise<void>;
  labelMessage(chatJid: string, messageId: string, labelId: string, labeled: boolean): Promise<void>;
  /** Saves (or with null removes) the name we keep for a contact, in the account's app state. */
  setContactName(jid: string, name: WaContactNameChange | null): Promise<void>;
}

/**
 * Looks up a stored message by key and returns its raw `WebMessageInfo` bytes. Backed by the
 * runner's message store: the engine needs old messages to answer retry receipts, to edit or
 * revoke, and to encrypt and decrypt poll votes.
 */
export interface WaMessageLookup {
  findRaw(sessionId: string, key: WaMessageKey): Promise<Uint8Array | undefined>;
}

export interface WaEngine {
  /** One connection object per session; it lives across reconnects until disposed. */
  connection(sessionId: string): WaConnection;
  /** Whether stored credentials are a completed login (a session that can start without a QR). */
  isLoggedIn(sessionId: string): Promise<boolean>;
  /** A WhatsApp message id for the outbox to store before the send happens. */
  generateMessageId(ownJid?: string): string;
  /** Disposes every connection. */
  dispose(): Promise<void>;
}

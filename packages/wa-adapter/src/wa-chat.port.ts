import type { WaMessageKey } from './wa-engine.port';

/**
 * One change to a chat's organisation, kept by WhatsApp in the account's app state (encrypted
 * patches every device of the account reads). `mutedUntil`: Unix ms, -1 for always, null unmutes.
 */
export type WaChatChange =
  | { archived: boolean }
  | { pinned: boolean }
  | { mutedUntil: number | null }
  | { unread: boolean }
  | { deleted: true }
  | { cleared: true };

/** The newest message of the chat, which WhatsApp's archive, read, delete and clear actions name. */
export interface WaLastMessage {
  key: WaMessageKey;
  timestampMs: number;
}

/** A chat's organisation as an app-state patch from any device of the account changed it. */
export interface WaChatUpdate {
  chatJid: string;
  archived?: boolean;
  /** Unix ms when it was pinned; null: unpinned. */
  pinnedAt?: number | null;
  /** Unix ms the mute ends (-1: always); null: unmuted. */
  mutedUntil?: number | null;
  /** Marked unread (true) or read (false) as a whole. */
  unread?: boolean;
  deleted?: boolean;
  timestampMs: number;
}

export interface WaStarUpdate {
  key: WaMessageKey;
  starred: boolean;
  timestampMs: number;
}

/** A WhatsApp Business label as app state keeps it (`labelEditAction`); `deleted` removes it. */
export interface WaLabel {
  id: string;
  name?: string;
  /** WhatsApp's colour index (0-19). */
  color?: number;
  deleted?: boolean;
  predefinedId?: string;
}

/** A label put on (or taken off) a chat, or a message of a chat when `messageId` is set. */
export interface WaLabelAssociation {
  labelId: string;
  chatJid: string;
  messageId?: string;
  labeled: boolean;
  timestampMs: number;
}

/** The name we keep for a contact in the account's app state (`contactAction`), as WhatsApp's clients set it. */
export interface WaContactNameChange {
  fullName: string;
  /** The short form WhatsApp shows where space is scarce; the first word of `fullName` when not given. */
  firstName?: string;
}

/** A contact's saved name as an app-state patch from any device of the account set (`name`) or removed (null) it. */
export interface WaContactName {
  jid: string;
  name: string | null;
  /** The other form of the contact's address, when the patch carries it. */
  lid?: string;
  pn?: string;
  timestampMs: number;
}

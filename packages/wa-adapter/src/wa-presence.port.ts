/** A contact's presence or chat state, as WhatsApp forwarded it to us. */
export interface WaPresenceUpdate {
  /** The chat: the contact for 1:1 chat states and presence, the group for group chat states. */
  chatJid: string;
  /** Whose presence it is. */
  participant: string;
  presence: 'available' | 'unavailable' | 'composing' | 'recording' | 'paused';
  /** With `unavailable`, when the contact was last online, if their privacy lets us know. */
  lastSeenMs?: number;
}

export interface WaPresenceOps {
  /** Asks WhatsApp to forward the contact's presence to us (it answers with the current one). */
  subscribePresence(jid: string): Promise<void>;
}

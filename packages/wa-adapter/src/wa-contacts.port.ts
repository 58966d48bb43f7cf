/** One number of a batch check: whether it has WhatsApp, and its addresses when it has. */
export interface WaNumberCheck {
  phone: string;
  exists: boolean;
  jid?: string;
  lid?: string;
}

/** What a WhatsApp Business account shows in its profile. */
export interface WaBusinessProfile {
  description?: string;
  category?: string;
  email?: string;
  website?: string;
  address?: string;
}

/** Our blocklist changed (from this device, another of ours, or the phone). */
export interface WaBlocklistUpdate {
  jids: string[];
  blocked: boolean;
}

export interface WaContactsOps {
  /** Numbers as digits (international, no `+`); answers one entry per number, in order. */
  checkNumbers(phones: string[]): Promise<WaNumberCheck[]>;
  /**
   * The phone-number jid Baileys' LID mapping store holds for a LID (learned from messages, usync
   * answers and app state), or undefined: WhatsApp has no query that reveals it.
   */
  phoneOfLid(lid: string): Promise<string | undefined>;
  /** Undefined for a personal account (or an unknown number). */
  businessProfile(jid: string): Promise<WaBusinessProfile | undefined>;
  /** The blocked contacts as WhatsApp lists them (LIDs today). */
  blocklist(): Promise<string[]>;
  setBlocked(jid: string, blocked: boolean): Promise<void>;
}

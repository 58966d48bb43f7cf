/**
 * Our account's profile and privacy, and what WhatsApp shows us of a contact's profile. The
 * privacy categories and values are WhatsApp's own (`xmlns=privacy`): `last`, `online`,
 * `profile`, `status`, `groupadd`, `readreceipts`, `calladd`.
 */
export type WaPrivacyCategory = 'last' | 'online' | 'profile' | 'status' | 'groupadd' | 'readreceipts' | 'calladd';

export interface WaOwnProfile {
  /** The push name contacts see. */
  name?: string;
  about?: string;
  pictureUrl?: string;
}

/** A contact's about text; `hidden` when their privacy settings keep it from us. */
export interface WaAbout {
  about?: string;
  setAtMs?: number;
  hidden: boolean;
}

export interface WaProfileOps {
  ownProfile(): Promise<WaOwnProfile>;
  /** Sets the push name (synced to our other devices through app state, announced to the server by presence). */
  updateProfileName(name: string): Promise<void>;
  updateProfileAbout(about: string): Promise<void>;
  /** Any image Baileys' image library reads; WhatsApp gets a 640x640 JPEG. */
  updateProfilePicture(image: Buffer): Promise<void>;
  removeProfilePicture(): Promise<void>;
  privacySettings(): Promise<Partial<Record<WaPrivacyCategory, string>>>;
  updatePrivacy(category: WaPrivacyCategory, value: string): Promise<void>;
  /** Undefined when the contact has no picture or hides it from us (WhatsApp answers 404 / 401). */
  profilePictureUrl(jid: string): Promise<string | undefined>;
  about(jid: string): Promise<WaAbout>;
}

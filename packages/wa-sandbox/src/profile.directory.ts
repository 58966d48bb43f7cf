import { createHash } from 'node:crypto';
import type { BinaryNode } from './baileys.loader';
import { SandboxError } from './sandbox.types';

/** WhatsApp's privacy categories (the `name` of a `<category>` in `xmlns=privacy`) and the values each takes. */
export const PRIVACY_VALUES = {
  last: ['all', 'contacts', 'contact_blacklist', 'none'],
  online: ['all', 'match_last_seen'],
  profile: ['all', 'contacts', 'contact_blacklist', 'none'],
  status: ['all', 'contacts', 'contact_blacklist', 'none'],
  groupadd: ['all', 'contacts', 'contact_blacklist'],
  readreceipts: ['all', 'none'],
  calladd: ['all', 'known'],
} as const;
export type PrivacyCategory = keyof typeof PRIVACY_VALUES;
export type PrivacySettings = { [K in PrivacyCategory]: (typeof PRIVACY_VALUES)[K][number] };

/** A new account's settings, as WhatsApp ships them. */
const DEFAULT_PRIVACY: PrivacySettings = {
  last: 'all',
  online: 'all',
  profile: 'all',
  status: 'all',
  groupadd: 'all',
  readreceipts: 'all',
  calladd: 'all',
};

export interface ProfileState {
  about?: { text: string; at: number };
  picture?: { id: string; jpeg: Buffer };
  privacy: PrivacySettings;
  /** The account's address book, by phone number: who "contacts" in a privacy setting means. */
  contacts: Set<string>;
  /** Set for a WhatsApp Business account. */
  business?: BusinessProfile;
}

/** What a WhatsApp Business account shows in its profile. */
export interface BusinessProfile {
  description?: string;
  category?: string;
  email?: string;
  website?: string;
  address?: string;
}

/** What a virtual phone's owner sets from the control API. */
export interface ProfileChange {
  about?: string;
  /** A JPEG, base64; `null` removes the picture. */
  picture?: string | null;
  privacy?: Partial<PrivacySettings>;
  contacts?: string[];
  /** Makes the account a business account with this profile; `null` makes it a personal one again. */
  business?: BusinessProfile | null;
}

/** Answers as the sandbox's server gives them to an iq: content of a `result`, or an `<error>`. */
export type IqAnswer = { content?: BinaryNode[] } | { error: { code: number; text: string } };

const child = (node: BinaryNode | undefined, tag: string): BinaryNode | undefined =>
  Array.isArray(node?.content) ? node.content.find((item) => item.tag === tag) : undefined;
const bytes = (node: BinaryNode | undefined): Buffer | undefined =>
  node?.content instanceof Uint8Array ? Buffer.from(node.content) : typeof node?.content === 'string' ? Buffer.from(node.content) : undefined;
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

export function isPrivacyCategory(name: string): name is PrivacyCategory {
  return Object.prototype.hasOwnProperty.call(PRIVACY_VALUES, name);
}

export function isPrivacyValue(category: PrivacyCategory, value: string): boolean {
  return (PRIVACY_VALUES[category] as readonly string[]).includes(value);
}

/**
 * Every account's profile (about text, picture), privacy settings and address book, and the
 * answers WhatsApp's server gives from them: `xmlns=privacy` get/set, `xmlns=status` set,
 * `xmlns=w:profile:picture` get/set, and the usync `status` protocol. What another account sees
 * follows the owner's privacy, as on WhatsApp: `contacts` shows only to phones in the owner's
 * address book, `none` to nobody; the owner always sees their own.
 */
export class ProfileDirectory {
  private readonly profiles = new Map<string, ProfileState>();

  /** `pictureUrl(id)`: where the server serves a picture (WhatsApp's pps.whatsapp.net). */
  constructor(private readonly pictureUrl: (phone: string, id: string) => string) {}

  of(phone: string): ProfileState {
    let profile = this.profiles.get(phone);
    if (!profile) {
      profile = { privacy: { ...DEFAULT_PRIVACY }, contacts: new Set() };
      this.profiles.set(phone, profile);
    }
    return profile;
  }

  change(phone: string, change: ProfileChange): void {
    const profile = this.of(phone);
    if (change.privacy) {
      for (const [name, value] of Object.entries(change.privacy)) {
        if (!isPrivacyCategory(name) || typeof value !== 'string' || !isPrivacyValue(name, value)) throw new SandboxError(400, `privacy ${name} cannot be ${String(value)}`);
      }
      Object.assign(profile.privacy, change.privacy);
    }
    if (change.about !== undefined) profile.about = { text: change.about, at: Math.floor(Date.now() / 1000) };
    if (change.picture === null) profile.picture = undefined;
    else if (change.picture !== undefined) this.setPicture(profile, Buffer.from(change.picture, 'base64'));
    if (change.contacts) for (const contact of change.contacts) profile.contacts.add(contact);
    if (change.business === null) profile.business = undefined;
    else if (change.business) profile.business = { ...change.business };
  }

  /**
   * `xmlns=w:biz` `<business_profile><profile jid/>`: the business profile of each asked account
   * that is a business; personal accounts (and unknown numbers) get no `<profile>`.
   */
  businessIq(node: BinaryNode, phoneOf: (jid: string) => string | undefined): IqAnswer {
    const asked = Array.isArray(child(node, 'business_profile')?.content) ? (child(node, 'business_profile')!.content as BinaryNode[]) : [];
    const profiles: BinaryNode[] = [];
    for (const item of asked) {
      const jid = item.attrs.jid ?? '';
      const phone = phoneOf(jid);
      const business = phone ? this.of(phone).business : undefined;
      if (!business) continue;
      const text = (tag: string, value: string | undefined): BinaryNode[] => (value ? [{ tag, attrs: {}, content: Buffer.from(value, 'utf8') }] : []);
      profiles.push({
        tag: 'profile',
        attrs: { jid },
        content: [
          ...text('description', business.description),
          ...text('address', business.address),
          ...text('email', business.email),
          ...text('website', business.website),
          ...(business.category ? [{ tag: 'categories', attrs: {}, content: [{ tag: 'category', attrs: { id: '1' }, content: Buffer.from(business.category, 'utf8') }] }] : []),
        ],
      });
    }
    return { content: [{ tag: 'business_profile', attrs: { v: '244' }, content: profiles }] };
  }

  /** Whether `viewer` may see what `category` guards of `owner`'s profile. */
  visible(owner: string, viewer: string, category: 'last' | 'profile' | 'status'): boolean {
    if (owner === viewer) return true;
    const profile = this.of(owner);
    switch (profile.privacy[category]) {
      case 'all':
        return true;
      case 'contacts':
      case 'contact_blacklist':
        return profile.contacts.has(viewer);
      default:
        return false;
    }
  }

  /** Whether `viewer` sees `owner` online: `match_last_seen` follows the last-seen setting. */
  onlineVisible(owner: string, viewer: string): boolean {
    if (this.of(owner).privacy.online === 'all') return true;
    return this.visible(owner, viewer, 'last');
  }

  /**
   * Keeps the picture of an owner the directory holds no profile for, such as a group (by the
   * digits of its JID), served like any other; `undefined` removes it. Answers the new id.
   */
  storePicture(owner: string, jpeg: Buffer | undefined): string | undefined {
    const profile = this.of(owner);
    if (!jpeg) {
      profile.picture = undefined;
      return undefined;
    }
    return this.setPicture(profile, jpeg);
  }

  pictureUrlOf(owner: string, id: string): string {
    return this.pictureUrl(owner, id);
  }

  picture(phone: string, id: string): Buffer | undefined {
    const picture = this.of(phone).picture;
    return picture?.id === id ? picture.jpeg : undefined;
  }

  privacyIq(phone: string, node: BinaryNode): IqAnswer {
    const profile = this.of(phone);
    if (node.attrs.type === 'set') {
      const categories = Array.isArray(child(node, 'privacy')?.content) ? (child(node, 'privacy')!.content as BinaryNode[]) : [];
      for (const category of categories) {
        const { name = '', value = '' } = category.attrs;
        if (!isPrivacyCategory(name) || !isPrivacyValue(name, value)) return { error: { code: 400, text: 'bad-request' } };
      }
      for (const category of categories) (profile.privacy as Record<string, string>)[category.attrs.name!] = category.attrs.value!;
      return { content: [{ tag: 'privacy', attrs: {}, content: categories.map((c) => ({ tag: 'category', attrs: { name: c.attrs.name!, value: c.attrs.value! } })) }] };
    }
    return {
      content: [
        {
          tag: 'privacy',
          attrs: {},
          content: Object.entries(profile.privacy).map(([name, value]) => ({ tag: 'category', attrs: { name, value } })),
        },
      ],
    };
  }

  /** `xmlns=status` set: the about text, as UTF-8 bytes. */
  statusIq(phone: string, node: BinaryNode): IqAnswer {
    const text = bytes(child(node, 'status'))?.toString('utf8');
    if (text === undefined || text.length > 139) return { error: { code: 400, text: 'bad-request' } };
    this.of(phone).about = { text, at: Math.floor(Date.now() / 1000) };
    return {};
  }

  /**
   * `xmlns=w:profile:picture`. A set without `target` changes our own picture (with a JPEG
   * `<picture>`) or removes it (without); a group `target` is the group registry's to answer.
   * A get names whose picture by `target`: 404 when there is none, 401 when privacy hides it.
   */
  pictureIq(phone: string, node: BinaryNode, target: string | undefined): IqAnswer {
    if (node.attrs.type === 'set') {
      if (target !== undefined && target !== phone) return { error: { code: 401, text: 'not-authorized' } };
      const profile = this.of(phone);
      const jpeg = bytes(child(node, 'picture'));
      if (!jpeg) {
        profile.picture = undefined;
        return {};
      }
      if (!jpeg.subarray(0, 3).equals(JPEG_MAGIC)) return { error: { code: 406, text: 'not-acceptable' } };
      const id = this.setPicture(profile, jpeg);
      return { content: [{ tag: 'picture', attrs: { id } }] };
    }
    if (target === undefined) return { error: { code: 404, text: 'item-not-found' } };
    const picture = this.of(target).picture;
    if (!picture) return { error: { code: 404, text: 'item-not-found' } };
    if (!this.visible(target, phone, 'profile')) return { error: { code: 401, text: 'not-authorized' } };
    const type = child(node, 'picture')?.attrs.type ?? 'preview';
    const url = this.pictureUrl(target, picture.id);
    return { content: [{ tag: 'picture', attrs: { id: picture.id, type, url, direct_path: new URL(url).pathname } }] };
  }

  /** The usync `status` protocol's answer for `owner` as `viewer` asks: code 401 when privacy hides it. */
  statusNode(owner: string, viewer: string): BinaryNode {
    const about = this.of(owner).about;
    if (!this.visible(owner, viewer, 'status')) return { tag: 'status', attrs: { code: '401', t: '0' } };
    if (!about) return { tag: 'status', attrs: { t: '0' } };
    return { tag: 'status', attrs: { t: String(about.at) }, content: Buffer.from(about.text, 'utf8') };
  }

  private setPicture(profile: ProfileState, jpeg: Buffer): string {
    // WhatsApp's picture ids are decimal and change with every new picture.
    const id = String(BigInt('0x' + createHash('sha256').update(jpeg).digest('hex').slice(0, 12)) + BigInt(Date.now()));
    profile.picture = { id, jpeg };
    return id;
  }
}

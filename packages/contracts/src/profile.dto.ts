import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Address } from './message.dto';
import type { SessionRef } from './rpc';
import { named, StringEnum, Type, type Static } from './schema';
import { PRIVACY_SETTINGS, RPC_PROFILE, type PrivacySettingName, type PrivacySettings } from './rpc-names';
export { PRIVACY_SETTINGS, RPC_PROFILE, type PrivacySettingName, type PrivacySettings };


const closed = { additionalProperties: false } as const;
const VALUE_HELP =
  '`all`: everyone; `contacts`: only people in your address book; `contact_blacklist`: your contacts except those you excluded on the phone; `none`: nobody.';

export const ProfileUpdate = named(
  'ProfileUpdate',
  Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 25, example: 'Acme Support', description: 'The push name contacts see (WhatsApp allows 25 characters).' })),
      about: Type.Optional(Type.String({ minLength: 1, maxLength: 139, example: 'Available 9-17 CET', description: 'The about text (WhatsApp allows 139 characters).' })),
    },
    { ...closed, minProperties: 1 },
  ),
);
export type ProfileUpdateDto = Static<typeof ProfileUpdate>;

export const ProfilePictureSet = named(
  'ProfilePictureSet',
  Type.Object(
    {
      url: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 2048,
          example: 'https://example.com/logo.jpg',
          description: 'Where the server fetches the image (http/https, public addresses only, size-limited, the same rules as media messages). Give `url` or `base64`, not both.',
        }),
      ),
      base64: Type.Optional(Type.String({ minLength: 1, description: 'The image inline, base64-encoded (size-limited by MEDIA_MAX_BYTES). Give `url` or `base64`, not both.' })),
    },
    closed,
  ),
);
export type ProfilePictureSetDto = Static<typeof ProfilePictureSet>;

const privacyProperty = <K extends PrivacySettingName>(name: K, description: string) =>
  Type.Optional(StringEnum([...PRIVACY_SETTINGS[name].values] as string[], { description, example: PRIVACY_SETTINGS[name].values[0] }));

export const PrivacyUpdate = named(
  'PrivacyUpdate',
  Type.Object(
    {
      lastSeen: privacyProperty('lastSeen', `Who sees when you were last online. ${VALUE_HELP}`),
      online: privacyProperty('online', 'Who sees when you are online: `all`, or `match_last_seen` (the same people as last seen).'),
      profilePicture: privacyProperty('profilePicture', `Who sees your profile picture. ${VALUE_HELP}`),
      about: privacyProperty('about', `Who sees your about text. ${VALUE_HELP}`),
      groupsAdd: privacyProperty('groupsAdd', 'Who may add you to groups (the others must send you an invite): `all`, `contacts`, `contact_blacklist`.'),
      readReceipts: privacyProperty('readReceipts', 'Whether you send (and get) read receipts: `all` or `none`.'),
      calls: privacyProperty('calls', 'Who may call you: `all`, or `known` (calls from unknown numbers are silenced).'),
    },
    { ...closed, minProperties: 1 },
  ),
);
export type PrivacyUpdateDto = Static<typeof PrivacyUpdate>;

export const CONTACT_JID_PARAM = Address({ description: 'The contact (URL-encoded): `<number>@s.whatsapp.net`, `<id>@lid` or the phone number.' });

export class ProfileDto {
  @ApiPropertyOptional({ example: 'Acme Support', description: 'The push name contacts see.' })
  name?: string;

  @ApiPropertyOptional({ example: 'Available 9-17 CET', description: 'The about text; absent when none is set.' })
  about?: string;

  @ApiPropertyOptional({ example: 'https://pps.whatsapp.net/v/t61.24694-24/123_456.jpg', description: 'Where the profile picture can be downloaded (WhatsApp expires these links); absent when none is set.' })
  pictureUrl?: string;
}

export class PrivacySettingsDto {
  @ApiPropertyOptional({ enum: PRIVACY_SETTINGS.lastSeen.values, example: 'contacts' })
  lastSeen?: string;
  @ApiPropertyOptional({ enum: PRIVACY_SETTINGS.online.values, example: 'all' })
  online?: string;
  @ApiPropertyOptional({ enum: PRIVACY_SETTINGS.profilePicture.values, example: 'all' })
  profilePicture?: string;
  @ApiPropertyOptional({ enum: PRIVACY_SETTINGS.about.values, example: 'contacts' })
  about?: string;
  @ApiPropertyOptional({ enum: PRIVACY_SETTINGS.groupsAdd.values, example: 'contacts' })
  groupsAdd?: string;
  @ApiPropertyOptional({ enum: PRIVACY_SETTINGS.readReceipts.values, example: 'all' })
  readReceipts?: string;
  @ApiPropertyOptional({ enum: PRIVACY_SETTINGS.calls.values, example: 'all' })
  calls?: string;
}

export class ContactPictureDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  jid!: string;

  @ApiProperty({ type: String, nullable: true, example: 'https://pps.whatsapp.net/v/t61.24694-24/123_456.jpg', description: "The full-size picture's download link; `null` when the contact has none or their privacy settings hide it from you." })
  url!: string | null;
}

export class ContactAboutDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  jid!: string;

  @ApiProperty({ type: String, nullable: true, example: 'Hey there! I am using WhatsApp.', description: 'The about text; `null` when there is none or it is hidden from you.' })
  about!: string | null;

  @ApiPropertyOptional({ example: 1767225600000, description: 'Unix ms when it was set.' })
  setAt?: number;

  @ApiProperty({ example: false, description: "Whether the contact's privacy settings hide their about text from you." })
  hidden!: boolean;
}

export type ProfileUpdatePayload = SessionRef & ProfileUpdateDto;
/** The picture's bytes travel as base64 or are fetched by the runner under the media address rules. */
export type ProfilePictureSetPayload = SessionRef & ({ url: string } | { base64: string });
export type PrivacyUpdatePayload = SessionRef & { settings: PrivacySettings };
export interface ContactProfilePayload extends SessionRef {
  jid: string;
}
export interface ProfileResult {
  name?: string;
  about?: string;
  pictureUrl?: string;
}
export interface ContactPictureResult {
  jid: string;
  url: string | null;
}
export interface ContactAboutResult {
  jid: string;
  about: string | null;
  setAt?: number;
  hidden: boolean;
}

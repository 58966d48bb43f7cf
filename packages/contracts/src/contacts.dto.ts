import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SessionRef } from './rpc';
import { named, Type, type Static } from './schema';
import { RPC_CONTACTS, CONTACT_NAME_MAX } from './rpc-names';
export { RPC_CONTACTS, CONTACT_NAME_MAX };

/** The name we keep for a contact, saved in the account's app state as WhatsApp's clients save it. */
export const ContactNameSet = named(
  'ContactNameSet',
  Type.Object(
    {
      fullName: Type.String({ minLength: 1, maxLength: CONTACT_NAME_MAX, pattern: '\\S', example: 'Jane Doe (Bakery)', description: 'The name every device of the account shows for the contact.' }),
      firstName: Type.Optional(
        Type.String({ minLength: 1, maxLength: CONTACT_NAME_MAX, pattern: '\\S', example: 'Jane', description: 'The short form shown where space is scarce; the first word of `fullName` when left out.' }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type ContactNameSetDto = Static<typeof ContactNameSet>;

/** How many numbers one check may carry (WhatsApp's usync takes batches; keep a request small). */
export const CONTACTS_CHECK_MAX = 50;

export const ContactsCheck = named(
  'ContactsCheck',
  Type.Object(
    {
      phones: Type.Array(Type.String({ pattern: '^[0-9]{6,15}$', example: '491701234567', description: 'International format, digits only, without +.' }), {
        minItems: 1,
        maxItems: CONTACTS_CHECK_MAX,
        uniqueItems: true,
        description: `The numbers to check, at most ${CONTACTS_CHECK_MAX}.`,
      }),
    },
    { additionalProperties: false },
  ),
);
export type ContactsCheckDto = Static<typeof ContactsCheck>;

export class BusinessProfileDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net' })
  jid!: string;

  @ApiPropertyOptional({ example: 'Fresh bread every morning.' })
  description?: string;

  @ApiPropertyOptional({ example: 'Bakery' })
  category?: string;

  @ApiPropertyOptional({ example: 'hello@bakery.example' })
  email?: string;

  @ApiPropertyOptional({ example: 'https://bakery.example' })
  website?: string;

  @ApiPropertyOptional({ example: 'Hauptstr. 1, Berlin' })
  address?: string;
}

export class ContactIdsDto {
  @ApiProperty({
    example: '491701234567@s.whatsapp.net',
    description: "The contact's one id in this gateway: its phone-number JID when known, else its LID. Chats, messages and events name the contact by it.",
  })
  jid!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net', description: 'Phone-number form, when known.' })
  pn?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid', description: 'LID form, when known.' })
  lid?: string;
}

export class BlockedContactDto {
  @ApiProperty({ example: '123456789012345@lid', description: 'The contact as WhatsApp lists it.' })
  jid!: string;

  @ApiPropertyOptional({ example: '491701234567@s.whatsapp.net', description: 'Phone-number form, when known.' })
  pn?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid', description: 'LID form, when known.' })
  lid?: string;
}

export interface ContactsCheckPayload extends SessionRef {
  phones: string[];
}
export interface ContactsCheckResult {
  data: { phone: string; exists: boolean; jid?: string; lid?: string }[];
}
export interface ContactJidPayload extends SessionRef {
  jid: string;
}
/** `name: null` removes the saved name. */
export interface ContactNamePayload extends SessionRef {
  jid: string;
  name: { fullName: string; firstName?: string } | null;
}
export interface BlockPayload extends SessionRef {
  jid: string;
  blocked: boolean;
}
export interface BusinessProfileResult {
  jid: string;
  description?: string;
  category?: string;
  email?: string;
  website?: string;
  address?: string;
}
export interface BlocklistResult {
  data: { jid: string; pn?: string; lid?: string }[];
  nextCursor: '';
}
export interface ContactIdsResult {
  jid: string;
  pn?: string;
  lid?: string;
}

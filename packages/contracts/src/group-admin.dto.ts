import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorBodyDto } from './error-envelope.dto';
import { GroupSummaryDto, Jid } from './message.dto';
import type { SessionRef } from './rpc';
import { named, StringEnum, Type, type Static } from './schema';
import { RPC_GROUP_ADMIN } from './rpc-names';
export { RPC_GROUP_ADMIN };

const closed = { additionalProperties: false } as const;

export const GroupPictureSet = named(
  'GroupPictureSet',
  Type.Object(
    {
      url: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 2048,
          example: 'https://example.com/team.jpg',
          description: 'Where the server fetches the image (http/https, public addresses only, size-limited, the same rules as media messages). Give `url` or `base64`, not both.',
        }),
      ),
      base64: Type.Optional(Type.String({ minLength: 1, description: 'The image inline, base64-encoded (size-limited by MEDIA_MAX_BYTES). Give `url` or `base64`, not both.' })),
    },
    closed,
  ),
);
export type GroupPictureSetDto = Static<typeof GroupPictureSet>;

export class GroupPictureDto {
  @ApiProperty({ example: '120363041234567890@g.us' })
  group!: string;

  @ApiProperty({ type: String, nullable: true, example: 'https://pps.whatsapp.net/v/t61.24694-24/123_456.jpg', description: 'Where the picture can be downloaded (WhatsApp expires these links); `null` when the group has none.' })
  url!: string | null;

  @ApiPropertyOptional({ example: '1767225600123', description: "WhatsApp's id of the current picture; it changes with every new one." })
  id?: string;
}

export interface GroupPictureResult {
  group: string;
  url: string | null;
  id?: string;
}

/** What became of the picture asked for with `POST .../groups`. */
export class GroupCreatePictureDto {
  @ApiProperty({ example: true, description: 'Whether the picture was set. When it was not, the group exists all the same; set the picture again with `PUT .../groups/{group}/picture`.' })
  set!: boolean;

  @ApiPropertyOptional({ type: ErrorBodyDto, description: 'Why the picture was not set (the error `PUT .../picture` would have answered).' })
  error?: ErrorBodyDto;
}

export class GroupCreatedDto extends GroupSummaryDto {
  @ApiPropertyOptional({ type: GroupCreatePictureDto, description: 'Present when a `picture` was given: whether it was set.' })
  picture?: GroupCreatePictureDto;
}

export interface GroupPicturePayload extends SessionRef {
  group: string;
}
export type GroupPictureSetPayload = GroupPicturePayload & ({ url: string } | { base64: string });

export const JOIN_REQUEST_ACTIONS = ['approve', 'reject'] as const;

export const GroupJoinRequestsUpdate = named(
  'GroupJoinRequestsUpdate',
  Type.Object(
    {
      action: StringEnum(JOIN_REQUEST_ACTIONS, { example: 'approve', description: '`approve` adds the requesters to the group; `reject` turns them down.' }),
      participants: Type.Array(Jid(), { minItems: 1, maxItems: 256, example: ['491709876543@s.whatsapp.net'], description: 'The requesters (as listed, or by phone-number JID).' }),
    },
    closed,
  ),
);
export type GroupJoinRequestsUpdateDto = Static<typeof GroupJoinRequestsUpdate>;

export class GroupJoinRequestDto {
  @ApiProperty({ example: '123456789012345@lid', description: 'Who asked to join.' })
  jid!: string;

  @ApiPropertyOptional({ example: '491709876543@s.whatsapp.net', description: 'Their phone-number JID, when known.' })
  pn?: string;

  @ApiPropertyOptional({ example: 1767225600000, description: 'Unix ms when they asked.' })
  requestedAt?: number;

  @ApiPropertyOptional({ example: 'invite_link', description: 'How they asked (`invite_link`, ...), as WhatsApp says.' })
  method?: string;
}

export interface GroupJoinRequest {
  jid: string;
  pn?: string;
  requestedAt?: number;
  method?: string;
}

export interface GroupJoinRequestsPayload extends SessionRef {
  group: string;
}
export interface GroupJoinRequestsUpdatePayload extends GroupJoinRequestsPayload {
  action: (typeof JOIN_REQUEST_ACTIONS)[number];
  participants: string[];
}

/** A join by invite code: the group joined, or a request waiting for an admin. */
export class GroupJoinPendingDto {
  @ApiProperty({ example: '120363041234567890@g.us', description: 'The group asked to join.' })
  jid!: string;

  @ApiProperty({ example: true, description: 'The group needs an admin to approve joins: a request was filed and waits for them.' })
  pending!: boolean;
}

export interface GroupJoinPending {
  jid: string;
  pending: true;
}

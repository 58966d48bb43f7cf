import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SessionRef } from './rpc';
import { named, Type, type Static } from './schema';
import { RPC_COMMUNITIES } from './rpc-names';
export { RPC_COMMUNITIES };

const closed = { additionalProperties: false } as const;

export const CommunityCreate = named(
  'CommunityCreate',
  Type.Object(
    {
      subject: Type.String({ minLength: 1, maxLength: 100, example: 'Riverside neighbours', description: "The community's name; its announcement group gets it too." }),
      description: Type.Optional(Type.String({ maxLength: 2048, example: 'Everything about the Riverside blocks', description: "The community's description." })),
    },
    closed,
  ),
);
export type CommunityCreateDto = Static<typeof CommunityCreate>;

export class CommunityLinkedGroupDto {
  @ApiProperty({ example: '120363041234567890@g.us' })
  jid!: string;

  @ApiProperty({ example: 'Building B' })
  subject!: string;

  @ApiProperty({ example: false, description: "The community's announcement group (only admins post there; every community member is in it)." })
  announcement!: boolean;

  @ApiPropertyOptional({ example: 12, description: 'How many members it has, as WhatsApp says.' })
  size?: number;

  @ApiPropertyOptional({ example: 1767225600000, description: 'Unix ms.' })
  createdAt?: number;
}

export interface CommunityLinkedGroup {
  jid: string;
  subject: string;
  announcement: boolean;
  size?: number;
  createdAt?: number;
}

export class CommunitySummaryDto {
  @ApiProperty({ example: '120363049876543210@g.us', description: "The community's JID (its parent group). Nobody posts there: send to `announcementGroup` or a linked group." })
  jid!: string;

  @ApiProperty({ example: 'Riverside neighbours' })
  subject!: string;

  @ApiPropertyOptional({ example: 'Everything about the Riverside blocks' })
  description?: string;

  @ApiPropertyOptional({ example: '123456789012345@lid', description: 'Who created it.' })
  owner?: string;

  @ApiPropertyOptional({ example: 1767225600000, description: 'Unix ms.' })
  createdAt?: number;

  @ApiPropertyOptional({ example: '120363041111111111@g.us', description: 'The announcement group: send to it with `POST .../messages` (admins only).' })
  announcementGroup?: string;
}

export class CommunityDto extends CommunitySummaryDto {
  @ApiProperty({ type: [CommunityLinkedGroupDto], description: 'Every group linked to the community, the announcement group included (marked `announcement: true`).' })
  linkedGroups!: CommunityLinkedGroupDto[];
}

export interface CommunitySummary {
  jid: string;
  subject: string;
  description?: string;
  owner?: string;
  createdAt?: number;
  announcementGroup?: string;
}

export interface Community extends CommunitySummary {
  linkedGroups: CommunityLinkedGroup[];
}

export interface CommunityCreatePayload extends SessionRef {
  subject: string;
  description?: string;
}
export interface CommunityPayload extends SessionRef {
  community: string;
}
export interface CommunityGroupPayload extends CommunityPayload {
  group: string;
}

import { ApiProperty } from '@nestjs/swagger';
import type { SessionRef } from './rpc';
import { named, StringEnum, Type, type Static } from './schema';
import { RPC_GROUP_POLICIES } from './rpc-names';
export { RPC_GROUP_POLICIES };

/** The timers WhatsApp offers: off, 24 hours, 7 days, 90 days. */
export const DISAPPEARING_SECONDS = [0, 86400, 604800, 7776000] as const;
export const MEMBER_ADD_MODES = ['admins', 'all_members'] as const;

export const GroupPoliciesUpdate = named(
  'GroupPoliciesUpdate',
  Type.Object(
    {
      memberAddMode: Type.Optional(StringEnum(MEMBER_ADD_MODES, { example: 'all_members', description: 'Who may add members: only `admins`, or `all_members`.' })),
      joinApproval: Type.Optional(Type.Boolean({ example: true, description: 'Joining by invite link needs an admin to approve the request.' })),
      disappearingSeconds: Type.Optional(
        Type.Unsafe<number>({ type: 'integer', enum: [...DISAPPEARING_SECONDS], example: 604800, description: 'Disappearing messages: `0` (off), `86400` (24 h), `604800` (7 days), `7776000` (90 days).' }),
      ),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
);
export type GroupPoliciesUpdateDto = Static<typeof GroupPoliciesUpdate>;

export class GroupPoliciesDto {
  @ApiProperty({ enum: MEMBER_ADD_MODES, example: 'admins' })
  memberAddMode!: (typeof MEMBER_ADD_MODES)[number];

  @ApiProperty({ example: false })
  joinApproval!: boolean;

  @ApiProperty({ enum: DISAPPEARING_SECONDS, example: 0 })
  disappearingSeconds!: number;
}

export interface GroupPoliciesResult {
  memberAddMode: (typeof MEMBER_ADD_MODES)[number];
  joinApproval: boolean;
  disappearingSeconds: number;
}
export interface GroupPoliciesGetPayload extends SessionRef {
  group: string;
}
export type GroupPoliciesSetPayload = GroupPoliciesGetPayload & GroupPoliciesUpdateDto;

import type { SessionRef } from './rpc';
import { named, StringEnum, Type, type Static } from './schema';
import { RPC_PRESENCE } from './rpc-names';
export { RPC_PRESENCE };

export const PresenceSet = named(
  'PresenceSet',
  Type.Object(
    {
      presence: StringEnum(['available', 'unavailable'] as const, {
        example: 'available',
        description: '`available`: the account shows as online to those allowed to see it; `unavailable`: offline, with the last-seen time from now.',
      }),
    },
    { additionalProperties: false },
  ),
);
export type PresenceSetDto = Static<typeof PresenceSet>;

export interface PresenceSetPayload extends SessionRef {
  presence: 'available' | 'unavailable';
}
export interface PresenceSubscribePayload extends SessionRef {
  jid: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SessionRef } from './rpc';
import { named, Nullable, Type, type Static } from './schema';
import { RPC_CALLS } from './rpc-names';
export { RPC_CALLS };

export const CALL_ID_PATTERN = /^[0-9A-Za-z]{8,64}$/;

export const CallSettings = named(
  'CallSettings',
  Type.Object(
    {
      autoReject: Type.Boolean({ example: true, description: 'Reject every incoming call at once (the `call.received` event still comes, with `autoRejected: true`).' }),
      rejectMessage: Type.Optional(
        Nullable(
          Type.String({
            minLength: 1,
            maxLength: 1000,
            example: 'Sorry, this number cannot take calls. Please write a message.',
            description: 'Sent to the caller as a text message after an automatic rejection; `null` or absent: none.',
          }),
        ),
      ),
    },
    { additionalProperties: false },
  ),
);
export type CallSettingsBody = Static<typeof CallSettings>;

export class CallSettingsDto {
  @ApiProperty({ example: true, description: 'Whether incoming calls are rejected automatically.' })
  autoReject!: boolean;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'Sorry, this number cannot take calls. Please write a message.', description: 'The text sent to the caller after an automatic rejection.' })
  rejectMessage?: string | null;
}

export interface CallSettingsResult {
  autoReject: boolean;
  rejectMessage: string | null;
}
export interface CallSettingsPayload extends SessionRef {
  autoReject: boolean;
  rejectMessage: string | null;
}
export interface CallRejectPayload extends SessionRef {
  callId: string;
}

import { ApiProperty } from '@nestjs/swagger';

export const SEND_MODES = ['sync', 'async'] as const;
export type SendMode = (typeof SEND_MODES)[number];

export const OUTBOX_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'read', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** What every WhatsApp-side write (send, react, vote, edit, delete, ...) answers. */
export class SendResultDto {
  @ApiProperty({ enum: SEND_MODES, description: '`sync`: the gateway waited until the message was handed to WhatsApp; `async` (`Prefer: respond-async`): accepted into the outbox only.' })
  mode!: SendMode;

  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8', description: 'Id of the outbox entry; read its progress at `GET /api/v1/sessions/{id}/outbox/{outboxId}`.' })
  outboxId!: string;

  @ApiProperty({ description: 'True when this answer was replayed for a repeated `Idempotency-Key` and nothing was sent again.' })
  replayed!: boolean;

  @ApiProperty({ enum: OUTBOX_STATUSES, description: 'Status of the entry when the answer was made; later updated from acks and receipts.' })
  status!: OutboxStatus;

  @ApiProperty({ example: 1767225600000, description: 'Unix time in milliseconds at which the request was accepted.' })
  timestamp!: number;

  @ApiProperty({ example: '3EB0C431C26A1916E07A', description: 'The WhatsApp message id, fixed when the entry was written and reused on every attempt.' })
  waMessageId!: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SESSION_FAILURE_REASONS, SESSION_STATUSES, type SessionStatus } from './events';
import { named, Type, type Static } from './schema';

export const SessionCreate = named(
  'SessionCreate',
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 100, example: 'support line', description: 'Your name for this WhatsApp account.' }),
      metadata: Type.Optional(
        Type.Object({}, { additionalProperties: true, example: { team: 'support' }, description: 'Free-form JSON object stored with the session (at most 4 KB).' }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type SessionCreateDto = Static<typeof SessionCreate>;

export const SessionStart = named(
  'SessionStart',
  Type.Object(
    {
      relink: Type.Optional(
        Type.Boolean({ default: false, description: 'Required to start a session that was logged out from the phone: it is then linked anew (a new QR code or pairing code).' }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type SessionStartDto = Static<typeof SessionStart>;

export class SessionMeDto {
  @ApiProperty({ example: '491701234567@s.whatsapp.net', description: 'The account phone-number JID.' })
  jid!: string;

  @ApiPropertyOptional({ example: '123456789012345@lid', description: "The account's linked identity, when known." })
  lid?: string;

  @ApiPropertyOptional({ example: 'Support', description: 'The push name shown to contacts.' })
  pushName?: string;
}

export class SessionResponseDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' })
  id!: string;

  @ApiProperty({ example: 'support line' })
  name!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: {} })
  metadata!: Record<string, unknown>;

  @ApiProperty({
    enum: SESSION_STATUSES,
    description:
      '`stopped`, `starting`, `qr` (waiting for a scan), `pairing` (pairing code issued), `connected`, `reconnecting`, `logged_out` (unlinked from the phone), `failed` (see `statusReason`).',
  })
  status!: SessionStatus;

  @ApiProperty({
    nullable: true,
    type: String,
    example: null,
    description: `Why the session is \`failed\` (${SESSION_FAILURE_REASONS.join(', ')}) or reconnecting; null otherwise.`,
  })
  statusReason!: string | null;

  @ApiProperty({ type: SessionMeDto, nullable: true, description: 'The linked account; null until the first connection.' })
  me!: SessionMeDto | null;

  @ApiProperty({ example: '2026-11-24T15:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ example: '2026-11-24T15:00:00.000Z' })
  updatedAt!: string;
}

export class SessionQrDto {
  @ApiProperty({ example: '2@abc...,def...,ghi...,jkl...', description: 'The raw QR string; render it as a QR code to scan with the phone.' })
  qr!: string;
}

/** Longest a `GET .../qr` may wait: a minute is as long as the first QR of a connection lives. */
const SESSION_QR_MAX_WAIT_MS = 60_000;

export const SessionQrQuery = named(
  'SessionQrQuery',
  Type.Object(
    {
      waitMs: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: SESSION_QR_MAX_WAIT_MS,
          default: 0,
          example: 30000,
          description:
            'Wait up to this many milliseconds for a QR code instead of answering 404 `no_qr_pending` at once: the answer comes as soon as a QR is ' +
            'pending, or when the session can no longer offer one (409 `conflict`, e.g. connected or failed), or when the time is up (404). 0 = do not wait.',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type SessionQrQueryDto = Static<typeof SessionQrQuery>;

export const SessionPairingCodeRequest = named(
  'SessionPairingCodeRequest',
  Type.Object(
    {
      phoneNumber: Type.String({
        pattern: '^[1-9][0-9]{6,14}$',
        example: '491701234567',
        description: 'The phone number of the WhatsApp account, in international format, digits only (E.164 without +, 7 to 15 digits).',
      }),
    },
    { additionalProperties: false },
  ),
);
export type SessionPairingCodeRequestDto = Static<typeof SessionPairingCodeRequest>;

export class SessionPairingCodeDto {
  @ApiProperty({ example: 'ABCD1234', description: 'Type this 8-character code on the phone under Linked devices > Link with phone number.' })
  code!: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CAPABILITIES, type Capability } from '@wa/domain';
import { named, StringEnum, Type, type Static } from './schema';

export const ApiKeyCreate = named(
  'ApiKeyCreate',
  Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 200, example: 'CRM sync', description: 'What the key is for; shown in listings.' }),
      capabilities: Type.Array(StringEnum(CAPABILITIES), {
        minItems: 1,
        uniqueItems: true,
        example: ['send'],
        description: 'What the key may do. Never more than the caller has: asking for a capability you lack answers 403 `forbidden`.',
      }),
      expiresAt: Type.Optional(
        Type.String({
          format: 'date-time',
          example: '2027-01-01T00:00:00Z',
          description: 'When the key stops working (ISO 8601 with a time zone, in the future). Omit for a key that does not expire.',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type ApiKeyCreateDto = Static<typeof ApiKeyCreate>;

export class ApiKeyResponseDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8', description: 'Key id (a ULID); also the part of the token after `wag_`.' })
  id!: string;

  @ApiProperty({ example: 'CRM sync' })
  name!: string;

  @ApiProperty({ type: [String], enum: CAPABILITIES, example: ['send'] })
  capabilities!: Capability[];

  @ApiProperty({
    example: 'user:auth0|64f1c2',
    description: 'Who created the key: `user:<sub>`, `api_key:<id>`, `cli` or `bootstrap`.',
  })
  createdBy!: string;

  @ApiProperty({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'Last successful authentication, recorded at most once a minute.',
  })
  lastUsedAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  expiresAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  revokedAt!: string | null;
}

/** The answer to a creation: the only time the token is ever shown. */
export class ApiKeyCreatedDto extends ApiKeyResponseDto {
  @ApiProperty({
    example: 'wag_01HZX3K9Q2T4W6Y8A0C2E4G6J8_3q2-7wAbCdEfGhIjKlMnOpQrStUvWxYz0123456789a',
    description: 'The key to send as `Authorization: Bearer <token>`. Shown once: it is stored hashed and cannot be read again.',
  })
  token!: string;
}

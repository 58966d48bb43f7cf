import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsISO8601,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { CAPABILITIES, type Capability } from '@wa/domain';

/** A key that expires before it could be used is a mistake the caller wants to hear about. */
function IsFutureInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFutureInstant',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && Date.parse(value) > Date.now(),
        defaultMessage: () => '$property must be in the future',
      },
    },
    options,
  );
}

export class ApiKeyCreateDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'CRM sync', description: 'What the key is for; shown in listings.' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    type: [String],
    enum: CAPABILITIES,
    minItems: 1,
    example: ['send'],
    description: 'What the key may do. Never more than the caller has: asking for a capability you lack answers 403 `forbidden`.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(CAPABILITIES, { each: true })
  capabilities!: Capability[];

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2027-01-01T00:00:00Z',
    description: 'When the key stops working (ISO 8601, in the future). Omit for a key that does not expire.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @IsFutureInstant()
  expiresAt?: string;
}

/** A stored key as its organization sees it: never the secret, never its hash. */
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

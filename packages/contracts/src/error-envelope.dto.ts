import { ApiProperty } from '@nestjs/swagger';
import { ERROR_STATUS, type ErrorCode } from '@wa/domain';

export class ErrorBodyDto {
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'not_found', description: 'Stable, machine-readable error code.' })
  code!: ErrorCode;

  @ApiProperty({ example: 'session not found', description: 'Human-readable explanation; may change between versions.' })
  message!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Structured context: per-field problems for validation errors, `requestId` for internal errors.',
    example: {},
  })
  details!: Record<string, unknown>;
}

/** The body of every error response: `{"error": {"code", "message", "details"}}`. */
export class ErrorEnvelopeDto {
  @ApiProperty({ type: ErrorBodyDto })
  error!: ErrorBodyDto;
}

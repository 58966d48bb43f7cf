import { ApiProperty } from '@nestjs/swagger';

export class HealthDto {
  @ApiProperty({ example: 'ok' })
  status!: 'ok';
}

export class ReadinessChecksDto {
  @ApiProperty({ example: 'ok' })
  database!: string;

  @ApiProperty({ example: 'ok' })
  runner!: string;
}

export class ReadinessDto extends HealthDto {
  @ApiProperty({ type: ReadinessChecksDto })
  checks!: ReadinessChecksDto;
}

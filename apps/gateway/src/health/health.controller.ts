import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '@wa/auth';
import { ApiErrorResponse, RPC, type RunnerPingResult } from '@wa/contracts';
import { AppError } from '@wa/domain';
import { DataSource } from 'typeorm';
import { RunnerClient } from '../runner/runner-client';
import { HealthDto, ReadinessDto } from './health.dto';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly db: DataSource,
    private readonly runner: RunnerClient,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness', description: 'The process is up and serving HTTP; checks nothing else, so a failing dependency does not get the process restarted.' })
  @ApiOkResponse({ type: HealthDto, description: 'Alive.' })
  live(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness', description: 'Ready when the database answers and a session runner answers over the transport (within 2 s).' })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready; every check is `ok`.' })
  @ApiErrorResponse(503, ['service_unavailable'], '`service_unavailable` with the failing checks in `details.checks`.')
  async ready(): Promise<ReadinessDto> {
    const [database, runner] = await Promise.all([
      this.db.query('SELECT 1').then(
        () => 'ok',
        (err: Error) => `failed: ${err.message}`,
      ),
      this.runner.call<RunnerPingResult>(RPC.runnerPing, {}, 2000).then(
        () => 'ok',
        (err: AppError) => `failed: ${err.message}`,
      ),
    ]);
    const checks = { database, runner };
    if (database !== 'ok' || runner !== 'ok') {
      throw new AppError('service_unavailable', 'not ready', { checks });
    }
    return { status: 'ok', checks };
  }
}

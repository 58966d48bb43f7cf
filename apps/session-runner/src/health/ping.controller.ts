import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { RPC, type RunnerPingResult } from '@wa/contracts/runtime';
import { DataSource } from 'typeorm';
import { RunnerConfig } from '../config/runner.config';

@Controller()
export class PingController {
  private readonly startedAt = Date.now();

  constructor(
    private readonly config: RunnerConfig,
    private readonly db: DataSource,
  ) {}

  /** Answers only when the runner's database answers too: a runner without it can own nothing. */
  @MessagePattern(RPC.runnerPing)
  async ping(): Promise<RunnerPingResult> {
    await this.db.query('SELECT 1');
    return { runnerId: this.config.runnerId, startedAt: this.startedAt, transport: this.config.transport.kind };
  }
}

import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { createRootLogger, PinoNestLogger, runnerServerOptions } from '@wa/contracts';
import { RunnerAppModule } from './app.module';
import type { RunnerConfig } from './config/runner.config';
import { RpcExceptionFilter } from './rpc/rpc-exception.filter';

/** Builds the runner microservice without listening, for main and tests. */
export async function createRunnerApp(config: RunnerConfig): Promise<INestMicroservice> {
  const logger = new PinoNestLogger(createRootLogger('session-runner', config.logLevel).child({ runnerId: config.runnerId }));
  const app = await NestFactory.createMicroservice(RunnerAppModule.forRoot(config), { ...runnerServerOptions(config.transport, config.runnerId), logger });
  app.useGlobalFilters(new RpcExceptionFilter());
  app.enableShutdownHooks();
  return app;
}

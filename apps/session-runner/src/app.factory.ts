import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { createRootLogger, PinoNestLogger, routeConsoleToLogger, runnerServerOptions } from '@wa/contracts/runtime';
import { RunnerAppModule } from './app.module';
import type { RunnerConfig } from './config/runner.config';
import { RpcExceptionFilter } from './rpc/rpc-exception.filter';

/** Builds the runner microservice without listening, for main and tests. */
export async function createRunnerApp(config: RunnerConfig): Promise<INestMicroservice> {
  const root = createRootLogger('session-runner', config.logLevel, config.logFormat).child({ runnerId: config.runnerId });
  // Before any module (and so any WhatsApp session) exists: libsignal dumps session records with
  // their private keys on the console.
  routeConsoleToLogger(root.child({ context: 'console' }));
  const logger = new PinoNestLogger(root);
  const app = await NestFactory.createMicroservice(RunnerAppModule.forRoot(config), { ...runnerServerOptions(config.transport, config.runnerId), logger });
  app.useGlobalFilters(new RpcExceptionFilter());
  app.enableShutdownHooks();
  return app;
}

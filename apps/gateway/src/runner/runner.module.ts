import { Global, Module } from '@nestjs/common';
import { createRunnerClient } from '@wa/contracts';
import { GatewayConfig } from '../config/gateway.config';
import { RUNNER_CLIENT, RunnerClient } from './runner-client';

@Global()
@Module({
  providers: [
    {
      provide: RUNNER_CLIENT,
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => createRunnerClient(config.runner),
    },
    RunnerClient,
  ],
  exports: [RunnerClient],
})
export class RunnerModule {}

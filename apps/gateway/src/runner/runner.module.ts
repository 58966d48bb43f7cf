import { Global, Module } from '@nestjs/common';
import { ClientProxyFactory } from '@nestjs/microservices';
import { runnerClientOptions } from '@wa/contracts';
import { GatewayConfig } from '../config/gateway.config';
import { RUNNER_CLIENT, RunnerClient } from './runner-client';

@Global()
@Module({
  providers: [
    {
      provide: RUNNER_CLIENT,
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => ClientProxyFactory.create(runnerClientOptions(config.runner)),
    },
    RunnerClient,
  ],
  exports: [RunnerClient],
})
export class RunnerModule {}

import { Global, Module, type DynamicModule } from '@nestjs/common';
import { RunnerConfig } from './runner.config';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: RunnerConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: RunnerConfig, useValue: config }], exports: [RunnerConfig] };
  }
}

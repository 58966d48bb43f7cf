import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts/runtime';
import { RunnerConfig } from '../config/runner.config';
import { RUNNER_MIGRATIONS } from './migrations';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [RunnerConfig],
      useFactory: async (config: RunnerConfig) => {
        await ensureDatabaseSchema(config.database);
        return {
          ...buildDataSourceOptions({
            target: config.database,
            entities: [],
            migrations: RUNNER_MIGRATIONS,
            onProblem: (message) => new Logger('database').warn({ msg: message }),
            migrationsTableName: 'runner_migrations',
          }),
          autoLoadEntities: true,
          retryAttempts: 0,
        };
      },
    }),
  ],
})
export class DatabaseModule {}

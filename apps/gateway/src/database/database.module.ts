import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { GatewayConfig } from '../config/gateway.config';
import { GATEWAY_MIGRATIONS } from './migrations';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [GatewayConfig],
      useFactory: async (config: GatewayConfig) => {
        await ensureDatabaseSchema(config.database);
        return {
          ...buildDataSourceOptions({
            target: config.database,
            entities: [],
            migrations: GATEWAY_MIGRATIONS,
            onProblem: (message) => new Logger('database').warn({ msg: message }),
            migrationsTableName: 'gateway_migrations',
          }),
          autoLoadEntities: true,
          // Fail the boot instead of retrying for minutes: the orchestrator restarts us.
          retryAttempts: 0,
        };
      },
    }),
  ],
})
export class DatabaseModule {}

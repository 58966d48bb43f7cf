import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard, AuthModule } from '@wa/auth';
import { DataSource } from 'typeorm';
import { ApiKeysPersistenceModule } from '../api-keys/api-keys-persistence.module';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import { GatewayConfig } from '../config/gateway.config';
import { ApiKeyRevocationListener } from './api-key-revocation.listener';
import { DatabaseRateLimitStore } from './database-rate-limit.store';

/**
 * Every route is guarded: a route must declare `@Public()`, `@RequireAuthenticated()` or
 * `@RequireCapability(...)`, and one that declares nothing is refused for everyone.
 *
 * On PostgreSQL, where several gateways can share one database, the rate limits are kept there
 * so that they hold for all replicas together; on SQLite (one gateway) they stay in memory.
 */
@Module({
  imports: [
    AuthModule.forRootAsync({
      imports: [ApiKeysPersistenceModule],
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => ({ jwt: config.jwt, rateLimits: config.rateLimits }),
      apiKeyLookup: { useExisting: ApiKeysRepository },
      rateLimitStore: {
        inject: [GatewayConfig, DataSource],
        useFactory: (config: GatewayConfig, dataSource: DataSource) =>
          config.database.kind === 'postgres' ? new DatabaseRateLimitStore(dataSource) : undefined,
      },
    }),
    ApiKeysPersistenceModule,
  ],
  providers: [{ provide: APP_GUARD, useExisting: AuthGuard }, ApiKeyRevocationListener],
})
export class GatewayAuthModule {}

import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard, AuthModule } from '@wa/auth';
import { ApiKeysPersistenceModule } from '../api-keys/api-keys-persistence.module';
import { ApiKeysRepository } from '../api-keys/api-keys.repository';
import { GatewayConfig } from '../config/gateway.config';

/**
 * Every route is guarded: a route must declare `@Public()`, `@RequireAuthenticated()` or
 * `@RequireCapability(...)`, and one that declares nothing is refused for everyone.
 */
@Module({
  imports: [
    AuthModule.forRootAsync({
      imports: [ApiKeysPersistenceModule],
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => ({ jwt: config.jwt, rateLimits: config.rateLimits }),
      apiKeyLookup: { useExisting: ApiKeysRepository },
    }),
  ],
  providers: [{ provide: APP_GUARD, useExisting: AuthGuard }],
})
export class GatewayAuthModule {}

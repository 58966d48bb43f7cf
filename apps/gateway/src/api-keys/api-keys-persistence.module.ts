import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyRevocations } from './api-key-revocations';
import { ApiKeysRepository } from './api-keys.repository';

/**
 * The api_keys table and the broadcast of revocations, shared by authentication (lookups,
 * forgetting revoked keys), the api-keys feature and the CLI (both revoke and announce it).
 */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  providers: [ApiKeysRepository, ApiKeyRevocations],
  exports: [ApiKeysRepository, ApiKeyRevocations],
})
export class ApiKeysPersistenceModule {}

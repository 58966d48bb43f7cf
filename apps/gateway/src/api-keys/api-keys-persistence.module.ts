import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeysRepository } from './api-keys.repository';

/** The api_keys table, shared by authentication (lookups) and the api-keys feature (CRUD). */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity])],
  providers: [ApiKeysRepository],
  exports: [ApiKeysRepository],
})
export class ApiKeysPersistenceModule {}

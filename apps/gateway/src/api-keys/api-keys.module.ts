import { Module } from '@nestjs/common';
import { ApiKeysBootstrap } from './api-keys.bootstrap';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysPersistenceModule } from './api-keys-persistence.module';
import { ApiKeysService } from './api-keys.service';

@Module({
  imports: [ApiKeysPersistenceModule],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, ApiKeysBootstrap],
})
export class ApiKeysModule {}

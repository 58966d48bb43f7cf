import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { CommunitiesController } from './communities.controller';
import { CommunitiesService } from './communities.service';

/** Communities and `community.updated`. */
@Module({
  imports: [SessionsModule],
  controllers: [CommunitiesController],
  providers: [CommunitiesService],
})
export class CommunitiesModule {}

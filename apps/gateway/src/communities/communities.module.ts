import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { CommunitiesController } from './communities.controller';

/** Communities, answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [CommunitiesController],
})
export class CommunitiesModule {}

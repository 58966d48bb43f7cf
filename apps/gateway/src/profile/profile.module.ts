import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { ProfileController } from './profile.controller';

/** The account's profile and privacy, and contacts' profiles, answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [ProfileController],
})
export class ProfileModule {}

import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { ChatActions } from './chat-actions.service';
import { GroupsService } from './groups.service';
import { MediaDownloader } from './media-downloader';
import { MessageReader } from './message-reader.service';
import { MessageSender } from './message-sender.service';
import { MessagingController } from './messaging.controller';
import { MessagingObserver } from './messaging.observer';

/** Sending, reading and group management on the sessions this runner owns. */
@Module({
  imports: [SessionsModule],
  controllers: [MessagingController],
  providers: [MessagingObserver, MediaDownloader, MessageSender, MessageReader, ChatActions, GroupsService],
})
export class MessagingModule {}

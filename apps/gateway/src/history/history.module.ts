import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { HistoryController } from './history.controller';

/** Older messages of a chat, asked of the account's phone through the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [HistoryController],
})
export class HistoryModule {}

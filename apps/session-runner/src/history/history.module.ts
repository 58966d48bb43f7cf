import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { HistoryController } from './history.controller';
import { HistoryObserver } from './history.observer';
import { HistoryRequests } from './history.requests';
import { HistoryService } from './history.service';

/** Older messages of a chat, asked of the account's phone and stored when they arrive. */
@Module({
  imports: [SessionsModule],
  controllers: [HistoryController],
  providers: [HistoryService, HistoryObserver, HistoryRequests],
})
export class HistoryModule {}

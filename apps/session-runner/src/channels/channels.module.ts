import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { ChannelsController } from './channels.controller';
import { ChannelsObserver } from './channels.observer';
import { ChannelsService } from './channels.service';

/** Channels (WhatsApp newsletters): manage, follow, read and react; posts as events. */
@Module({
  imports: [SessionsModule],
  controllers: [ChannelsController],
  providers: [ChannelsService, ChannelsObserver],
})
export class ChannelsModule {}

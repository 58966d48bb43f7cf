import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { ChannelsController } from './channels.controller';

/** Channels (WhatsApp newsletters), answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [ChannelsController],
})
export class ChannelsModule {}

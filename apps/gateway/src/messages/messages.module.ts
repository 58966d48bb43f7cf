import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { ChatOrganisationController } from './chat-organisation.controller';
import { LabelsController } from './labels.controller';
import { StatusesController } from './statuses.controller';
import { MediaPolicy } from './media.policy';
import { MessageMediaController } from './message-media.controller';
import { MessageReadsController } from './message-reads.controller';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';
import { OutboxDispatcher } from './outbox.dispatcher';
import { OutboxEvents } from './outbox.events';
import { OutboxStore } from './outbox.store';

/** Sending through the durable outbox, its dispatcher, and the reads a session's runner answers. */
@Module({
  imports: [EventsModule],
  controllers: [MessagesController, MessageReadsController, MessageMediaController, ChatOrganisationController, LabelsController, StatusesController],
  providers: [OutboxStore, OutboxDispatcher, MessagesService, MediaPolicy, OutboxEvents],
  exports: [OutboxEvents, MessagesService, MediaPolicy],
})
export class MessagesModule {}

import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { MessagesModule } from '../messages/messages.module';
import { SessionsModule } from '../sessions/sessions.module';
import { RunnerEventsController } from './runner-events.controller';

@Module({ imports: [SessionsModule, EventsModule, MessagesModule], controllers: [RunnerEventsController] })
export class RunnerEventsModule {}

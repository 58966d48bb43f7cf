import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { SessionsModule } from '../sessions/sessions.module';
import { RunnerEventsController } from './runner-events.controller';

@Module({ imports: [SessionsModule, EventsModule], controllers: [RunnerEventsController] })
export class RunnerEventsModule {}

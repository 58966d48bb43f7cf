import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { RunnerEventsController } from './runner-events.controller';

@Module({ imports: [SessionsModule], controllers: [RunnerEventsController] })
export class RunnerEventsModule {}

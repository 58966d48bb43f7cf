import { Module } from '@nestjs/common';
import { EventStreamService } from './event-stream.service';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';

/** Recording events (the one `publish` entry point for every producer) and the SSE stream. */
@Module({
  controllers: [EventsController],
  providers: [EventsRepository, EventsService, EventStreamService],
  exports: [EventsService],
})
export class EventsModule {}

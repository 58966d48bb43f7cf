import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { PresenceController } from './presence.controller';
import { PresenceObserver } from './presence.observer';
import { PresenceService } from './presence.service';

/** Our presence, subscriptions to contacts' presence, and the events of what they show. */
@Module({
  imports: [SessionsModule],
  controllers: [PresenceController],
  providers: [PresenceService, PresenceObserver],
})
export class PresenceModule {}

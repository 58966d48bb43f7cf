import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { CallsController } from '../calls/calls.controller';
import { PresenceController } from '../presence/presence.controller';
import { ContactsController } from './contacts.controller';

/** Number checks, business profiles, the blocklist, presence and calls, answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [ContactsController, PresenceController, CallsController],
})
export class ContactsModule {}

import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { PresenceController } from '../presence/presence.controller';
import { ContactsController } from './contacts.controller';

/** Number checks, business profiles, the blocklist and presence, answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [ContactsController, PresenceController],
})
export class ContactsModule {}

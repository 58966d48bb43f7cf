import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { CallsController } from '../calls/calls.controller';
import { GroupPoliciesController } from '../group-policies/group-policies.controller';
import { PresenceController } from '../presence/presence.controller';
import { ContactsController } from './contacts.controller';

/** Number checks, business profiles, the blocklist, presence, calls and group policies, answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [ContactsController, PresenceController, CallsController, GroupPoliciesController],
})
export class ContactsModule {}

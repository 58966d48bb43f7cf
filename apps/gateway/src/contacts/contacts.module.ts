import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { ContactsController } from './contacts.controller';

/** Number checks, business profiles and the blocklist, answered by the session's runner. */
@Module({
  imports: [MessagesModule],
  controllers: [ContactsController],
})
export class ContactsModule {}

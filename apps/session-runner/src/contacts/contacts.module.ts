import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { ContactsController } from './contacts.controller';
import { ContactsObserver } from './contacts.observer';
import { ContactsService } from './contacts.service';

/** Number checks, business profiles and the blocklist, with its events. */
@Module({
  imports: [SessionsModule],
  controllers: [ContactsController],
  providers: [ContactsService, ContactsObserver],
})
export class ContactsModule {}

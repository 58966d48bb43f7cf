import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  RPC_CONTACTS,
  type BlockPayload,
  type BlocklistResult,
  type BusinessProfileResult,
  type ContactIdsResult,
  type ContactJidPayload,
  type ContactsCheckPayload,
  type ContactsCheckResult,
  type SessionRef,
} from '@wa/contracts/runtime';
import { ContactsService } from './contacts.service';

/** The runner's half of the contacts RPC: one handler per RPC_CONTACTS pattern. */
@Controller()
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @MessagePattern(RPC_CONTACTS.check)
  check(@Payload() p: ContactsCheckPayload): Promise<ContactsCheckResult> {
    return this.contacts.check(p);
  }

  @MessagePattern(RPC_CONTACTS.business)
  business(@Payload() p: ContactJidPayload): Promise<BusinessProfileResult> {
    return this.contacts.business(p);
  }

  @MessagePattern(RPC_CONTACTS.ids)
  ids(@Payload() p: ContactJidPayload): Promise<ContactIdsResult> {
    return this.contacts.ids(p);
  }

  @MessagePattern(RPC_CONTACTS.blocklist)
  blocklist(@Payload() p: SessionRef): Promise<BlocklistResult> {
    return this.contacts.blocklist(p);
  }

  @MessagePattern(RPC_CONTACTS.block)
  setBlocked(@Payload() p: BlockPayload): Promise<Record<string, never>> {
    return this.contacts.setBlocked(p);
  }
}

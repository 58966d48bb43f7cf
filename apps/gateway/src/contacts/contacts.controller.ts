import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  BlockedContactDto,
  BusinessProfileDto,
  CONTACT_JID_PARAM,
  ContactExistsDto,
  ContactIdsDto,
  ContactNameSet,
  ContactsCheck,
  ContactSummaryDto,
  RPC_CONTACTS,
  RPC_MESSAGING,
  type ContactNamePayload,
  type ContactNameSetDto,
  type BlockPayload,
  type BlocklistResult,
  type BusinessProfileResult,
  type ContactIdsResult,
  type ContactJidPayload,
  type ContactsCheckDto,
  type ContactsCheckPayload,
  type ContactsCheckResult,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from '../messages/messages.service';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const APP_STATE_WRITE = "`session_not_connected`: the session is not connected. `conflict`: the phone has not shared the account's app-state keys yet; try again in a moment.";
/** Number checks wait on WhatsApp; app-state writes first read what other devices wrote, then write. */
const CONTACT_TIMEOUT_MS = 30_000;

/**
 * What WhatsApp answers about contacts (numbers, business profiles), the account's blocklist and
 * the names it keeps for contacts.
 * The session is checked against the caller's org first, so another org's session is a 404
 * identical to a missing one before any runner is asked.
 */
@ApiTags('contacts')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization.')
@Controller('sessions/:id')
export class ContactsController {
  constructor(private readonly messages: MessagesService) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, CONTACT_TIMEOUT_MS);
  }

  @Post('contacts/check')
  @HttpCode(200)
  @RequireAuthenticated()
  @ApiOperation({
    summary: 'Check several numbers at once',
    description: 'One WhatsApp query for up to 50 numbers: for each, whether it has WhatsApp and, when it has, its phone-number JID and LID. Answers in the order asked. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiListResponse(ContactExistsDto, 'One entry per number, in the order asked.')
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  checkContacts(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(ContactsCheck) body: ContactsCheckDto): Promise<ContactsCheckResult & { nextCursor: string }> {
    return this.ask<ContactsCheckResult, ContactsCheckPayload>(p, id, RPC_CONTACTS.check, { phones: body.phones }).then((r) => ({ ...r, nextCursor: '' }));
  }

  @Get('contacts/:jid/business')
  @RequireAuthenticated()
  @ApiOperation({
    summary: "A business contact's profile",
    description: 'Description, category, email, website and address of a WhatsApp Business account. 404 `not_found` when the contact is not a business account. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: BusinessProfileDto, description: 'The business profile.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getBusinessProfile(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<BusinessProfileResult> {
    return this.ask<BusinessProfileResult, ContactJidPayload>(p, id, RPC_CONTACTS.business, { jid });
  }

  @Get('contacts/:jid/ids')
  @RequireAuthenticated()
  @ApiOperation({
    summary: "A contact's phone-number and LID forms",
    description:
      'WhatsApp names a contact by its phone-number JID or by its LID; this gateway keeps one id per contact (`jid`: the phone-number JID when known, else the LID) and answers both forms as known. ' +
      "Takes any of them or the phone number. What the session has not learned yet it asks WhatsApp while connected (a number's LID; a LID's number only as far as the account has met it); " +
      'disconnected, it answers what it knows. 404 `not_found` when WhatsApp has no account with that number.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ContactIdsDto, description: "The contact's id and forms." })
  getContactIds(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<ContactIdsResult> {
    return this.ask<ContactIdsResult, ContactJidPayload>(p, id, RPC_CONTACTS.ids, { jid });
  }

  @Get('contacts/:jid')
  @RequireAuthenticated()
  @ApiOperation({
    summary: 'Get a contact',
    description:
      'The contact as the contact list shows it: its phone-number and LID forms when known, the name the account keeps for it (`name`) and the name it gave itself (`pushName`). ' +
      'Read from what the session stored, so it works while the session is offline. 404 `not_found` when the session knows nothing of the contact.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ContactSummaryDto, description: 'The contact.' })
  getContact(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<ContactSummaryDto> {
    return this.ask<ContactSummaryDto, ContactJidPayload>(p, id, RPC_MESSAGING.contact, { jid });
  }

  @Put('contacts/:jid/name')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Save a contact's name",
    description:
      "Saves the name the account keeps for the contact, as WhatsApp's apps do: in the account's app state, so the phone and every linked device show it. " +
      'Replaces a name saved before. A `contact.updated` event follows, as it does when the name is changed on the phone. ' +
      "409 `session_not_connected` unless the session is connected; 409 `conflict` while the phone has not shared the account's app-state keys yet.",
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ContactSummaryDto, description: 'The contact with its saved name.' })
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], APP_STATE_WRITE)
  setContactName(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string, @ValidBody(ContactNameSet) body: ContactNameSetDto): Promise<ContactSummaryDto> {
    return this.ask<ContactSummaryDto, ContactNamePayload>(p, id, RPC_MESSAGING.contactName, { jid, name: body });
  }

  @Delete('contacts/:jid/name')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: "Remove a contact's saved name",
    description: "Removes the name the account keeps for the contact on every device (the contact shows its push name again). A `contact.updated` event with `name: null` follows. Idempotent.",
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], APP_STATE_WRITE)
  async removeContactName(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<void> {
    await this.ask<unknown, ContactNamePayload>(p, id, RPC_MESSAGING.contactName, { jid, name: null });
  }

  @Get('blocklist')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List blocked contacts', description: 'As WhatsApp has the list now, in one page. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiListResponse(BlockedContactDto, 'The blocked contacts.')
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  listBlocked(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<BlocklistResult> {
    return this.ask<BlocklistResult, SessionRef>(p, id, RPC_CONTACTS.blocklist, {});
  }

  @Put('blocklist/:jid')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Block a contact',
    description:
      "The contact's messages stop arriving (WhatsApp acknowledges them to the contact as usual) and writes to the contact are refused, as WhatsApp's apps refuse them: 403 `forbidden` with `details.reason: contact_blocked` in sync mode, an entry that ends `failed` (`contact_blocked`) in async mode. " +
      "Every device of the account hears of it: a `contact.blocked` event. Idempotent. 404 `not_found` when no WhatsApp account has the address. 409 `session_not_connected` unless the session is connected.",
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Blocked.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async block(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<void> {
    await this.ask<unknown, BlockPayload>(p, id, RPC_CONTACTS.block, { jid, blocked: true });
  }

  @Delete('blocklist/:jid')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Unblock a contact', description: 'A `contact.unblocked` event follows. Idempotent. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Unblocked.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async unblock(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<void> {
    await this.ask<unknown, BlockPayload>(p, id, RPC_CONTACTS.block, { jid, blocked: false });
  }
}

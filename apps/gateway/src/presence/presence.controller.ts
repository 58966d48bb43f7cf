import { Controller, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireCapability, type Principal } from '@wa/auth';
import { ApiErrorResponse, CONTACT_JID_PARAM, PresenceSet, RPC_PRESENCE, type PresenceSetDto, type PresenceSetPayload, type PresenceSubscribePayload } from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from '../messages/messages.service';
import { RunnerClient } from '../runner/runner-client';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';


/**
 * The account's own presence (online or not) and subscriptions to contacts' presence, which
 * then arrives as `presence.update` events. Typing in a chat is `POST .../chats/{chat}/presence`.
 */
@ApiTags('contacts')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization.')
@Controller('sessions/:id')
export class PresenceController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
  ) {}

  @Put('presence')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Show the account online or offline',
    description:
      '`available` shows the account online to the contacts subscribed to it that its `online` privacy setting allows; `unavailable` takes it offline and sets its last-seen time. ' +
      'While a session is online the phone gets no notifications. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Presence sent.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async setPresence(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(PresenceSet) body: PresenceSetDto): Promise<void> {
    await this.messages.requireSession(p.orgId, id);
    await this.runner.call<unknown, PresenceSetPayload>(RPC_PRESENCE.set, { orgId: p.orgId, sessionId: id, presence: body.presence });
  }

  @Post('contacts/:jid/presence/subscribe')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: "Subscribe to a contact's presence",
    description:
      'WhatsApp answers with the current presence and forwards every change for as long as the connection lasts (subscribe again after a reconnect), each a `presence.update` event: ' +
      '`available`, or `unavailable` with `lastSeen` when the contact\'s privacy allows. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Subscribed.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async subscribePresence(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('jid', CONTACT_JID_PARAM) jid: string): Promise<void> {
    await this.messages.requireSession(p.orgId, id);
    await this.runner.call<unknown, PresenceSubscribePayload>(RPC_PRESENCE.subscribe, { orgId: p.orgId, sessionId: id, jid });
  }
}

import { Controller, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  CALL_ID_PATTERN,
  CallSettings,
  CallSettingsDto,
  RPC_CALLS,
  Type,
  type CallRejectPayload,
  type CallSettingsBody,
  type CallSettingsPayload,
  type CallSettingsResult,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from '../messages/messages.service';
import { RunnerClient } from '../runner/runner-client';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const CALL_ID_PARAM = Type.String({ pattern: CALL_ID_PATTERN.source, example: 'A1B2C3D4E5F60718293A4B5C6D7E8F90', description: 'The `callId` of a `call.received` event.' });

/** Incoming calls: reject one, and the session's setting to reject them all automatically. */
@ApiTags('sessions')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session (or ringing call) in your organization.')
@Controller('sessions/:id')
export class CallsController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
  ) {}

  @Post('calls/:callId/reject')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Reject an incoming call',
    description: 'Every device of the account stops ringing and the caller sees the call declined. 404 `not_found` when no call with this id is ringing (it ended, or was rejected). 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Rejected.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async rejectCall(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('callId', CALL_ID_PARAM) callId: string): Promise<void> {
    await this.messages.requireSession(p.orgId, id);
    await this.runner.call<unknown, CallRejectPayload>(RPC_CALLS.reject, { orgId: p.orgId, sessionId: id, callId });
  }

  @Get('settings/calls')
  @RequireAuthenticated()
  @ApiOperation({ summary: "Read the session's call settings", description: '409 `session_not_connected` for a session never started.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: CallSettingsDto, description: 'The call settings.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session was never started.')
  async getCallSettings(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<CallSettingsResult> {
    await this.messages.requireSession(p.orgId, id);
    return this.runner.call<CallSettingsResult, SessionRef>(RPC_CALLS.settingsGet, { orgId: p.orgId, sessionId: id });
  }

  @Put('settings/calls')
  @RequireCapability('manage')
  @ApiOperation({
    summary: "Change the session's call settings",
    description:
      '`autoReject: true` rejects every incoming call at once (the `call.received` event still comes, with `autoRejected: true`), then sends `rejectMessage`, when set, to the caller as a text message. ' +
      'Kept with the session across restarts. 409 `session_not_connected` for a session never started.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: CallSettingsDto, description: 'The call settings after the change.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session was never started.')
  async updateCallSettings(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(CallSettings) body: CallSettingsBody): Promise<CallSettingsResult> {
    await this.messages.requireSession(p.orgId, id);
    return this.runner.call<CallSettingsResult, CallSettingsPayload>(RPC_CALLS.settingsSet, { orgId: p.orgId, sessionId: id, autoReject: body.autoReject, rejectMessage: body.rejectMessage ?? null });
  }
}

import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  HISTORY_FETCH_MAX,
  HistoryFetch,
  HistoryFetchResultDto,
  Jid,
  RPC_HISTORY,
  type HistoryFetchDto,
  type HistoryFetchPayload,
  type HistoryFetchResult,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from '../messages/messages.service';
import { RunnerClient } from '../runner/runner-client';
import { SESSION_ID_PARAM as SESSION_ID } from '../http/session-route';

const CHAT_PARAM = Jid({ description: 'The chat JID (URL-encoded).' });

/**
 * Older messages of a chat, from the account's phone. WhatsApp's servers keep no history: a
 * linked device has what arrived since it was linked, and the phone sends older messages of a
 * chat when asked (an on-demand history sync). The answer is asynchronous.
 */
@ApiTags('chats')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization, or no stored message of the chat (there is nothing to ask older messages of).')
@Controller('sessions/:id')
export class HistoryController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
  ) {}

  @Post('chats/:chat/history')
  @HttpCode(202)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Fetch older messages of a chat from the phone',
    description:
      `Asks the account's phone for up to \`count\` (default ${HISTORY_FETCH_MAX}) messages of the chat older than the oldest one stored, and answers 202 at once with the request's id. ` +
      'When the phone answers, its messages are stored (once each) and paged by `GET .../chats/{chat}/messages` with the rest, and a `history.received` event carries the same `requestId`, ' +
      'how many messages came (fewer than asked: the chat has no older ones) and how many were new. They are old news: none becomes a `message.received` event. ' +
      'Ask again for the page before those. The phone must be online to answer; an offline phone answers nothing. ' +
      '404 `not_found` when no message of the chat is stored yet. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiAcceptedResponse({ type: HistoryFetchResultDto, description: 'The phone was asked; its answer comes as a `history.received` event.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session is not connected.')
  async fetchHistory(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('chat', CHAT_PARAM) chat: string, @ValidBody(HistoryFetch) body: HistoryFetchDto): Promise<HistoryFetchResult> {
    await this.messages.requireSession(p.orgId, id);
    return this.runner.call<HistoryFetchResult, HistoryFetchPayload>(RPC_HISTORY.fetch, { orgId: p.orgId, sessionId: id, chat, count: body.count ?? HISTORY_FETCH_MAX });
  }
}

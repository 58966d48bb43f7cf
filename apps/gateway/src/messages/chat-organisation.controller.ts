import { Controller, Delete, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ChatModify,
  ChatStateDto,
  Address,
  MessageStar,
  MessageStarResultDto,
  RPC_MESSAGING,
  type ChatModifyDto,
  type ChatModifyPayload,
  type ChatRefPayload,
  type MessageStarDto,
  type MessageStarPayload,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from './messages.service';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const CHAT_PARAM = Address({ description: "The chat (URL-encoded): a JID, or a phone number; a contact's phone-number JID, LID and number name the same chat." });
const CONFLICT = `${NOT_CONNECTED} \`conflict\`: the phone has not shared the account's app-state keys yet (right after linking); try again in a moment.`;
/** App-state writes first read what other devices wrote, then write: a round trip or two to WhatsApp. */
const APP_STATE_TIMEOUT_MS = 30_000;

/**
 * Chat organisation (archive, pin, mute, read state, delete, clear, stars). WhatsApp keeps it in
 * the account's app state, shared by every device of the account: changes made here show on the
 * phone, and the phone's arrive as `chat.updated` / `message.starred` events.
 */
@ApiTags('chats')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session (or message) in your organization.')
@Controller('sessions/:id')
export class ChatOrganisationController {
  constructor(private readonly messages: MessagesService) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, APP_STATE_TIMEOUT_MS);
  }

  @Patch('chats/:chat')
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Archive, pin, mute or mark a chat read or unread',
    description:
      'Each given field becomes one change in the account\'s app state, in the order archived, pinned, unread, mutedUntil; the phone and other linked devices see it, ' +
      'and a `chat.updated` event follows each. Answers the chat\'s organisation as it is now. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ChatStateDto, description: "The chat's organisation after the change." })
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], CONFLICT)
  modifyChat(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('chat', CHAT_PARAM) chat: string, @ValidBody(ChatModify) body: ChatModifyDto): Promise<ChatStateDto> {
    return this.ask<ChatStateDto, ChatModifyPayload>(p, id, RPC_MESSAGING.chatModify, { chat, ...body });
  }

  @Delete('chats/:chat')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Delete a chat',
    description: 'Deletes the chat and its messages on every device of the account (and from the stored messages here); a `chat.updated` event with `deleted: true` follows. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], CONFLICT)
  async deleteChat(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('chat', CHAT_PARAM) chat: string): Promise<void> {
    await this.ask<unknown, ChatRefPayload>(p, id, RPC_MESSAGING.chatDelete, { chat });
  }

  @Post('chats/:chat/clear')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Clear a chat',
    description: 'Deletes the messages of the chat on every device of the account, keeping the chat; a `chat.updated` event with `cleared: true` follows. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Cleared.' })
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], CONFLICT)
  async clearChat(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('chat', CHAT_PARAM) chat: string): Promise<void> {
    await this.ask<unknown, ChatRefPayload>(p, id, RPC_MESSAGING.chatClear, { chat });
  }

  @Put('messages/:mid/star')
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Star or unstar a message',
    description: 'Stars (or unstars) a stored message on every device of the account; a `message.starred` event follows. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiParam({ name: 'mid', description: 'The WhatsApp message id.', example: '3EB0C431C26A1916E07A' })
  @ApiOkResponse({ type: MessageStarResultDto, description: 'The message and whether it is starred now.' })
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], CONFLICT)
  starMessage(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('mid') mid: string, @ValidBody(MessageStar) body: MessageStarDto): Promise<MessageStarResultDto> {
    return this.ask<MessageStarResultDto, MessageStarPayload>(p, id, RPC_MESSAGING.messageStar, { id: mid, starred: body.starred, ...(body.chat ? { chat: body.chat } : {}) });
  }
}

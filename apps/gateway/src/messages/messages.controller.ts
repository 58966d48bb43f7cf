import { Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ChatPresence,
  ChatRead,
  Address,
  MessageDelete,
  MessageEdit,
  MessageReaction,
  MessageReactionRemove,
  MessageSend,
  OutboxEntryDto,
  PollVote,
  RPC_MESSAGING,
  SendResultDto,
  type ChatPresenceDto,
  type ChatReadDto,
  type MessageDeleteDto,
  type MessageEditDto,
  type MessageReactionDto,
  type MessageReactionRemoveDto,
  type MessageSendDto,
  type PollVoteDto,
  type MarkReadPayload,
  type PresencePayload,
} from '@wa/contracts';
import { RunnerClient } from '../runner/runner-client';
import { ValidBody, ValidParam, validationError } from '../http/request-schema';
import { MessagesService, type WriteRequest } from './messages.service';
import { Write, type WriteContext } from './write-context.decorator';
import { SESSION_ID_PARAM as SESSION_ID } from '../http/session-route';

const MID = { name: 'mid', description: 'The WhatsApp message id (the per-message stable id assigned by WhatsApp).', example: '3EB0C431C26A1916E07A' };
const CHAT_PARAM = Address({ description: "The chat (URL-encoded): a JID, or a phone number; a contact's phone-number JID, LID and number name the same chat." });

const WRITE_SEMANTICS =
  'Every write goes through the durable outbox and answers a `SendResult`. By default (`mode: sync`) the gateway waits, up to SEND_SYNC_TIMEOUT_MS, until the runner handed the message to WhatsApp, and answers **200**; ' +
  'with `Prefer: respond-async` it answers **202** at once (`mode: async`, header `Preference-Applied: respond-async`) and the entry waits in the outbox, even while the session is not connected. ' +
  'Read progress at `GET /api/v1/sessions/{id}/outbox/{outboxId}`. `Idempotency-Key` makes retries safe: the same key with the same request replays the stored result (`replayed: true`) and sends nothing; ' +
  'with a different request it answers 422 `idempotency_key_reused`; while the first is in flight, 409 `conflict`. Keys are scoped to your organization and the route, and kept at least 24 hours. ' +
  'A write to a contact the account blocked is refused, as WhatsApp\'s own apps refuse it ("unblock to send"): in sync mode with 403 `forbidden` and `details.reason: contact_blocked`; ' +
  'in async mode the entry ends `failed` with an `error` starting `contact_blocked:` and a `message.status` `failed` event with `error: contact_blocked`. ' +
  'A contact that blocked the account is not told apart: WhatsApp accepts the message and never delivers it.';

const IdempotencyHeader = ApiHeader({ name: 'Idempotency-Key', required: false, description: '1-255 printable characters; see the operation description.' });
const PreferHeader = ApiHeader({ name: 'Prefer', required: false, description: '`respond-async` to be answered as soon as the entry is in the outbox (202).' });

const SENT: SendResultDto = { mode: 'sync', outboxId: '01HZX3K9Q2T4W6Y8A0C2E4G6J8', replayed: false, status: 'sent', timestamp: 1767225600000, waMessageId: '3EB0C431C26A1916E07A' };
const SYNC_EXAMPLES = {
  sent: { summary: 'Handed to WhatsApp', value: SENT },
  timedOut: { summary: 'The wait timed out; the entry carries on', value: { ...SENT, status: 'queued' } },
  replayed: { summary: 'A repeated Idempotency-Key: the stored answer, nothing sent again', value: { ...SENT, replayed: true } },
};
const ASYNC_EXAMPLES = {
  queued: { summary: 'Accepted into the outbox', value: { ...SENT, mode: 'async', status: 'queued' } },
  replayed: { summary: 'A repeated Idempotency-Key: answered as the first request was', value: { ...SENT, mode: 'async', status: 'queued', replayed: true } },
};

function WriteResponses(): MethodDecorator {
  return (target, key, descriptor) => {
    IdempotencyHeader(target, key, descriptor);
    PreferHeader(target, key, descriptor);
    ApiOkResponse({ type: SendResultDto, description: 'Sync mode: handed to WhatsApp (or `queued`/`sending` if the wait timed out; the entry carries on).', examples: SYNC_EXAMPLES })(target, key, descriptor);
    ApiAcceptedResponse({ type: SendResultDto, description: 'Async mode (`Prefer: respond-async`): accepted into the outbox.', examples: ASYNC_EXAMPLES })(target, key, descriptor);
    ApiErrorResponse(409, ['session_not_connected', 'conflict'], '`session_not_connected` (sync mode only), or `conflict`: a request with this Idempotency-Key is in flight.')(target, key, descriptor);
    ApiErrorResponse(422, ['idempotency_key_reused'], '`idempotency_key_reused`: the key was used with a different request.')(target, key, descriptor);
  };
}

/** The WhatsApp-side writes of a session. */
@ApiTags('messages')
@ApiErrorResponse(404, ['not_found'], '`not_found`: the session (or the target message) does not exist or is not owned by your organization.')
@Controller('sessions/:id')
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
  ) {}

  private async write(w: WriteContext, req: Omit<WriteRequest, 'orgId' | 'idempotencyKey' | 'async'>): Promise<SendResultDto> {
    const result = await this.messages.submit({ ...req, orgId: w.principal.orgId, idempotencyKey: w.idempotencyKey, async: w.async });
    if (w.async) {
      // A replay answers as the first request was answered: accepted, not done.
      void w.reply.status(202);
      void w.reply.header('preference-applied', 'respond-async');
    }
    return result;
  }

  @Post('messages')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Send a message',
    description: `Sends text (with mentions, replying to a message), image, video, audio or voice note, document, sticker, location, contact cards or a poll to \`chat\`. Media come by \`url\` (fetched by the server; public addresses only) or inline \`base64\`, at most MEDIA_MAX_BYTES. ${WRITE_SEMANTICS}`,
  })
  @ApiParam(SESSION_ID)
  @WriteResponses()
  async sendMessage(
    @Write() w: WriteContext,
    @Param('id') id: string,
    @ValidBody(MessageSend) dto: MessageSendDto,
  ): Promise<SendResultDto> {
    // The one rule of the body that a schema cannot say: it relates two fields.
    if (dto.type === 'poll' && dto.selectableCount > dto.options.length) {
      throw validationError([{ field: 'selectableCount', problems: ['selectableCount must not be greater than the number of options'] }]);
    }
    return this.write(w, { sessionId: id, route: 'messages.send', fingerprint: [id, dto], plan: (s) => this.messages.planSend(dto, s) });
  }

  @Post('messages/:mid/reaction')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'React to a message',
    description: `Sets your reaction (\`emoji\`) on the message identified by \`mid\` (located by \`chat\`/\`sender\` in the body); it replaces your previous reaction. Returns **200** with a \`SendResult\`. ### Preconditions & errors - Requires the **\`send\`** capability. - **404 \`not_found\`** — the session or message does not exist or is not owned by your organization. ${WRITE_SEMANTICS}`,
  })
  @ApiParam(SESSION_ID)
  @ApiParam(MID)
  @WriteResponses()
  async reactToMessage(
    @Write() w: WriteContext,
    @Param('id') id: string,
    @Param('mid') mid: string,
    @ValidBody(MessageReaction) dto: MessageReactionDto,
  ): Promise<SendResultDto> {
    return this.write(w, { sessionId: id, route: 'messages.react', fingerprint: [id, mid, dto], plan: (s) => this.messages.planReaction(s, mid, dto, dto.emoji) });
  }

  @Delete('messages/:mid/reaction')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Remove your reaction from a message',
    description: `Clears the reaction you previously set on the message identified by \`mid\` (located by \`chat\`/\`sender\` in the body). The gateway sends an **empty** reaction to WhatsApp, so any \`emoji\` value in the body is ignored. Idempotent: removing when no reaction is set is a no-op. Returns **200** with a \`SendResult\`. ### Preconditions & errors - Requires the **\`send\`** capability. - **404 \`not_found\`** — the session or message does not exist or is not owned by your organization. ${WRITE_SEMANTICS}`,
  })
  @ApiParam(SESSION_ID)
  @ApiParam(MID)
  @WriteResponses()
  async removeReaction(
    @Write() w: WriteContext,
    @Param('id') id: string,
    @Param('mid') mid: string,
    @ValidBody(MessageReactionRemove) dto: MessageReactionRemoveDto,
  ): Promise<SendResultDto> {
    const fingerprint = [id, mid, { chat: dto.chat, sender: dto.sender }];
    return this.write(w, { sessionId: id, route: 'messages.unreact', fingerprint, plan: (s) => this.messages.planReaction(s, mid, dto, '') });
  }

  @Post('messages/:mid/vote')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Vote on a poll message',
    description: `Casts a vote on the poll message identified by \`mid\` (located by \`chat\`/\`sender\` in the body). \`options\` is the **complete** set of poll choices you want selected — it **replaces** your previous vote rather than adding to it. Send an empty array to clear your vote; for a single-choice poll send exactly one option. Returns **200** with a \`SendResult\`. ### Preconditions & errors - Requires the **\`send\`** capability. - **400 \`validation_error\`** — the target is not a poll or an option does not match the poll's choices. - **404 \`not_found\`** — the session or poll message does not exist or is not owned by your organization. ${WRITE_SEMANTICS}`,
  })
  @ApiParam({ ...SESSION_ID, description: 'The WhatsApp session id casting the vote. Must be a connected session your organization owns.' })
  @ApiParam({ ...MID, description: 'The WhatsApp message id (the per-message stable id assigned by WhatsApp) of the poll message being voted on.' })
  @WriteResponses()
  async voteOnPoll(
    @Write() w: WriteContext,
    @Param('id') id: string,
    @Param('mid') mid: string,
    @ValidBody(PollVote) dto: PollVoteDto,
  ): Promise<SendResultDto> {
    return this.write(w, { sessionId: id, route: 'messages.vote', fingerprint: [id, mid, dto], plan: (s) => this.messages.planVote(s, mid, dto) });
  }

  @Patch('messages/:mid')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Edit a message', description: `Replaces the text of one of your messages (WhatsApp allows this for about 15 minutes). 400 \`validation_error\` when the message is not yours. ${WRITE_SEMANTICS}` })
  @ApiParam(SESSION_ID)
  @ApiParam(MID)
  @WriteResponses()
  async editMessage(
    @Write() w: WriteContext,
    @Param('id') id: string,
    @Param('mid') mid: string,
    @ValidBody(MessageEdit) body: MessageEditDto,
  ): Promise<SendResultDto> {
    return this.write(w, { sessionId: id, route: 'messages.edit', fingerprint: [id, mid, body], plan: (s) => this.messages.planEdit(s, mid, body.chat, body.text) });
  }

  @Delete('messages/:mid')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Delete a message for everyone', description: `Revokes one of your messages for everyone in the chat. 400 \`validation_error\` when the message is not yours. ${WRITE_SEMANTICS}` })
  @ApiParam(SESSION_ID)
  @ApiParam(MID)
  @WriteResponses()
  async deleteMessage(
    @Write() w: WriteContext,
    @Param('id') id: string,
    @Param('mid') mid: string,
    @ValidBody(MessageDelete) body: MessageDeleteDto,
  ): Promise<SendResultDto> {
    return this.write(w, { sessionId: id, route: 'messages.revoke', fingerprint: [id, mid, body], plan: (s) => this.messages.planRevoke(s, mid, body.chat) });
  }

  @Get('outbox/:outboxId')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'Get an outbox entry', description: 'The progress of a write: `queued` -> `sending` -> `sent` -> `delivered` -> `read`, or `failed` with `error`.' })
  @ApiParam(SESSION_ID)
  @ApiParam({ name: 'outboxId', description: 'The `outboxId` of a SendResult.' })
  @ApiOkResponse({ type: OutboxEntryDto, description: 'The outbox entry.' })
  getOutboxEntry(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('outboxId') outboxId: string): Promise<OutboxEntryDto> {
    return this.messages.outboxEntry(p.orgId, id, outboxId);
  }

  @Post('chats/:chat/read')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Mark a chat read', description: 'Sends read receipts for the given messages, or for everything received in the chat. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Read receipts sent.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session is not connected.')
  async markChatRead(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('chat', CHAT_PARAM) chat: string, @ValidBody(ChatRead, { required: false }) body: ChatReadDto | undefined): Promise<void> {
    await this.messages.requireSession(p.orgId, id);
    await this.runner.call<unknown, MarkReadPayload>(RPC_MESSAGING.markRead, { orgId: p.orgId, sessionId: id, chat, messageIds: body?.messageIds });
  }

  @Post('chats/:chat/presence')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Show typing or recording', description: '`typing`, `recording` or `paused` in a chat. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Presence sent.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session is not connected.')
  async setChatPresence(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('chat', CHAT_PARAM) chat: string, @ValidBody(ChatPresence) body: ChatPresenceDto): Promise<void> {
    await this.messages.requireSession(p.orgId, id);
    await this.runner.call<unknown, PresencePayload>(RPC_MESSAGING.presence, { orgId: p.orgId, sessionId: id, chat, presence: body.presence });
  }
}

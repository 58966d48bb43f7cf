import { Controller, Get, HttpCode, Param, Patch, Post, Put, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiListResponse,
  ChatListQuery,
  ChatSummaryDto,
  type ChatListPayload,
  type ChatListQueryDto,
  ContactExistsDto,
  ContactSummaryDto,
  ApiErrorResponse,
  GroupCreate,
  Address,
  Jid,
  Type,
  GroupParticipants,
  GroupSettings,
  GroupUpdate,
  GroupInviteDto,
  INVITE_CODE_PATTERN,
  type GroupSettingsDto,
  type GroupUpdateDto,
  type GroupInviteCodePayload,
  type GroupInvitePayload,
  type GroupInviteResult,
  type GroupSettingsPayload,
  type GroupUpdatePayload,
  type GroupCreateDto,
  type GroupParticipantsDto,
  GroupParticipantsResultDto,
  GroupSummaryDto,
  GroupCreatedDto,
  GroupJoinPendingDto,
  RPC_GROUP_ADMIN,
  type GroupJoinPending,
  type GroupPictureSetPayload,
  MessageGetQuery,
  PageQuery,
  type MessageGetQueryDto,
  type PageQueryDto,
  RPC_MESSAGING,
  StoredMessageDto,
  type ChatMessagesPayload,
  type ContactExistsPayload,
  type GroupCreatePayload,
  type GroupGetPayload,
  type GroupListResult,
  type GroupParticipantsPayload,
  type ListResult,
  type MessageGetPayload,
  type MessageReceiptsPayload,
  MemberReceiptDto,
  type PagePayload,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { AppError } from '@wa/domain';
import type { FastifyReply } from 'fastify';
import { ValidBody, ValidParam, ValidQuery } from '../http/request-schema';
import { RunnerClient } from '../runner/runner-client';
import { MediaPolicy } from './media.policy';
import { MessagesService } from './messages.service';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const DEFAULT_LIMIT = 50;
const PHONE_PARAM = Type.String({ pattern: '^[0-9]{6,15}$', example: '491701234567', description: 'The phone number: 6-15 digits, international format without +.' });
const CHAT_PARAM = Address({ description: "The chat (URL-encoded): a JID, or a phone number; a contact's phone-number JID, LID and number name the same chat." });
const GROUP_PARAM = Jid({ description: 'The group JID (URL-encoded).', example: '120363041234567890@g.us' });
const INVITE_CODE_PARAM = Type.String({ pattern: INVITE_CODE_PATTERN.source, example: 'F5kVqQe1ZxH2Jr8pLm3nTb', description: 'The invite code: the last part of a `https://chat.whatsapp.com/<code>` link.' });
const NOT_ADMIN = '`forbidden`: WhatsApp refused: the account is not an admin of the group.';
/** Group calls wait for WhatsApp's server, which answers slower than the runner's store. */
const GROUP_WRITE_TIMEOUT_MS = 30_000;

/**
 * What a session's runner knows: chats, stored messages (with poll tallies), contacts, groups.
 * The session is checked against the caller's org here first, so another org's session is a
 * 404 identical to a missing one before any runner is asked.
 */
@ApiTags('chats')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session (or chat, message, group) in your organization.')
@Controller('sessions/:id')
export class MessageReadsController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
    private readonly media: MediaPolicy,
  ) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>, timeoutMs?: number): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, timeoutMs);
  }

  @Get('chats')
  @RequireAuthenticated()
  @ApiOperation({
    summary: 'List chats',
    description: 'Chats with their latest message and their organisation (archived, pinned, muted, unread), most recent first, in cursor pages; `archived`, `pinned` and `unread` filter them.',
  })
  @ApiParam(SESSION_ID)
  @ApiListResponse(ChatSummaryDto, 'A page of chats.')
  listChats(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidQuery(ChatListQuery) q: ChatListQueryDto): Promise<ListResult<ChatSummaryDto>> {
    const flag = (value: 'true' | 'false' | undefined) => (value === undefined ? undefined : value === 'true');
    const filters = { archived: flag(q.archived), pinned: flag(q.pinned), unread: flag(q.unread) };
    return this.ask<ListResult<ChatSummaryDto>, ChatListPayload>(p, id, RPC_MESSAGING.chats, {
      limit: q.limit ?? DEFAULT_LIMIT,
      cursor: q.cursor,
      ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
      ...(q.label ? { label: q.label } : {}),
    });
  }

  @Get('chats/:chat/messages')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List the messages of a chat', description: 'Stored messages, newest first, in cursor pages.' })
  @ApiParam(SESSION_ID)
  @ApiListResponse(StoredMessageDto, 'A page of messages.')
  listChatMessages(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('chat', CHAT_PARAM) chat: string, @ValidQuery(PageQuery) q: PageQueryDto): Promise<ListResult<StoredMessageDto>> {
    return this.ask<ListResult<StoredMessageDto>, ChatMessagesPayload>(p, id, RPC_MESSAGING.chatMessages, { chat, limit: q.limit ?? DEFAULT_LIMIT, cursor: q.cursor });
  }

  @Get('messages/:mid')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'Get a message', description: "A stored message; for polls with the current tally decrypted from incoming votes (each voter's latest vote counted once)." })
  @ApiParam(SESSION_ID)
  @ApiParam({ name: 'mid', description: 'The WhatsApp message id.', example: '3EB0C431C26A1916E07A' })
  @ApiOkResponse({ type: StoredMessageDto, description: 'The stored message.' })
  getMessage(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('mid') mid: string, @ValidQuery(MessageGetQuery) q: MessageGetQueryDto): Promise<StoredMessageDto> {
    return this.ask<StoredMessageDto, MessageGetPayload>(p, id, RPC_MESSAGING.message, { id: mid, ...(q.chat ? { chat: q.chat } : {}) });
  }

  @Get('messages/:mid/receipts')
  @RequireAuthenticated()
  @ApiOperation({
    summary: "List who received and read a message",
    description:
      "For one of your messages in a group (or a status post): each member's `delivered` and `read` receipt with its time, oldest first, all in one page (`nextCursor` is empty). " +
      'Each member and status appears once, as its one `message.status` event (with `recipient`) reported it, whatever WhatsApp delivered again. ' +
      "A member with delivery receipts off may have `read` only; a message not sent by you, or a 1:1 message (its own `status` tells), has none. 404 `not_found` for a message the session did not store.",
  })
  @ApiParam(SESSION_ID)
  @ApiParam({ name: 'mid', description: 'The WhatsApp message id.', example: '3EB0C431C26A1916E07A' })
  @ApiListResponse(MemberReceiptDto, "The members' receipts, oldest first.")
  listMessageReceipts(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('mid') mid: string): Promise<ListResult<MemberReceiptDto>> {
    return this.ask<ListResult<MemberReceiptDto>, MessageReceiptsPayload>(p, id, RPC_MESSAGING.messageReceipts, { id: mid });
  }

  @Get('contacts')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List contacts', description: 'Contacts the session knows, in cursor pages.' })
  @ApiParam(SESSION_ID)
  @ApiListResponse(ContactSummaryDto, 'A page of contacts.')
  listContacts(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidQuery(PageQuery) q: PageQueryDto): Promise<ListResult<ContactSummaryDto>> {
    return this.ask<ListResult<ContactSummaryDto>, PagePayload>(p, id, RPC_MESSAGING.contacts, { limit: q.limit ?? DEFAULT_LIMIT, cursor: q.cursor });
  }

  @Get('contacts/:phone/exists')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'Check a number', description: 'Whether a phone number (E.164 digits, no +) has a WhatsApp account, and its JIDs. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: ContactExistsDto, description: 'Whether the number is on WhatsApp.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session is not connected.')
  contactExists(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('phone', PHONE_PARAM) phone: string): Promise<ContactExistsDto> {
    return this.ask<ContactExistsDto, ContactExistsPayload>(p, id, RPC_MESSAGING.contactExists, { phone });
  }

  @Get('groups')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List groups', description: 'The groups the account takes part in, all in one page (WhatsApp returns them at once; `nextCursor` is empty).' })
  @ApiParam(SESSION_ID)
  @ApiListResponse(GroupSummaryDto, 'All groups, in one page.')
  async listGroups(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ListResult<GroupSummaryDto>> {
    const { data } = await this.ask<GroupListResult, SessionRef>(p, id, RPC_MESSAGING.groups, {});
    return { data, nextCursor: '' };
  }

  @Get('groups/:group')
  @RequireAuthenticated()
  @ApiOperation({ summary: 'Get group metadata', description: 'Subject, owner, description and participants.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupSummaryDto, description: 'The group.' })
  getGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<GroupSummaryDto> {
    return this.ask<GroupSummaryDto, GroupGetPayload>(p, id, RPC_MESSAGING.group, { group });
  }

  @Post('groups')
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Create a group',
    description:
      'Creates a group with the given participants. With `picture` (`url` or `base64`, the rules of `PUT .../groups/{group}/picture`) the picture is set right after: ' +
      'the answer is 201 with the group either way, and `picture.set` says whether it worked (`picture.error` why not). A `picture` that cannot be fetched or read as given is a 400 before anything is created. ' +
      '409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiCreatedResponse({ type: GroupCreatedDto, description: 'The new group (with what became of the picture, when one was given).' })
  @ApiErrorResponse(413, ['payload_too_large'], '`payload_too_large`: the picture is larger than MEDIA_MAX_BYTES.')
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session is not connected.')
  async createGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(GroupCreate) body: GroupCreateDto): Promise<GroupCreatedDto> {
    const picture = body.picture ? await this.media.source({ type: 'image', mimetype: 'image/jpeg', ...body.picture } as Parameters<MediaPolicy['source']>[0]) : undefined;
    const group = await this.ask<GroupSummaryDto, GroupCreatePayload>(p, id, RPC_MESSAGING.groupCreate, { subject: body.subject, participants: body.participants }, GROUP_WRITE_TIMEOUT_MS);
    if (!picture) return group;
    try {
      await this.runner.call<unknown, GroupPictureSetPayload>(RPC_GROUP_ADMIN.pictureSet, { orgId: p.orgId, sessionId: id, group: group.jid, ...picture }, GROUP_WRITE_TIMEOUT_MS);
      return { ...group, picture: { set: true } };
    } catch (err) {
      // The group exists: the caller needs its JID whatever became of the picture.
      const error = err instanceof AppError ? err : new AppError('internal_error', 'the picture could not be set');
      return { ...group, picture: { set: false, error: { code: error.code, message: error.message, details: error.details } } };
    }
  }

  @Post('groups/:group/participants')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Add, remove, promote or demote group participants',
    description:
      "WhatsApp's answer per participant (`200` done, `404` not on WhatsApp or not a member, `409` already a member, `406` the creator cannot be removed or demoted). " +
      'Only admins may do this (members may add when the group lets them): otherwise 403 `forbidden`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupParticipantsResultDto, description: "WhatsApp's answer per participant." })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  changeGroupParticipants(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string, @ValidBody(GroupParticipants) body: GroupParticipantsDto): Promise<GroupParticipantsResultDto> {
    return this.ask<GroupParticipantsResultDto, GroupParticipantsPayload>(
      p,
      id,
      RPC_MESSAGING.groupParticipants,
      { group, action: body.action, participants: body.participants },
      GROUP_WRITE_TIMEOUT_MS,
    );
  }

  @Patch('groups/:group')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Change a group's subject or description",
    description:
      'Sets the subject, the description (an empty string removes it), or both, and answers the group as it is now. Every member gets a `group.updated` event. ' +
      'In a `locked` group only admins may do this: otherwise 403 `forbidden`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupSummaryDto, description: 'The group after the change.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], `${NOT_CONNECTED} \`conflict\`: the description changed meanwhile; try again.`)
  updateGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string, @ValidBody(GroupUpdate) body: GroupUpdateDto): Promise<GroupSummaryDto> {
    return this.ask<GroupSummaryDto, GroupUpdatePayload>(p, id, RPC_MESSAGING.groupUpdate, { group, ...body }, GROUP_WRITE_TIMEOUT_MS);
  }

  @Put('groups/:group/settings')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Change a group's settings",
    description:
      '`announcement`: only admins may send messages (WhatsApp refuses the others\' messages; they end `failed`). `locked`: only admins may change the subject and description. ' +
      'Answers the group as it is now; every member gets a `group.updated` event. Admins only: otherwise 403 `forbidden`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupSummaryDto, description: 'The group after the change.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  updateGroupSettings(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string, @ValidBody(GroupSettings) body: GroupSettingsDto): Promise<GroupSummaryDto> {
    return this.ask<GroupSummaryDto, GroupSettingsPayload>(p, id, RPC_MESSAGING.groupSettings, { group, ...body }, GROUP_WRITE_TIMEOUT_MS);
  }

  @Get('groups/:group/invite')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Get a group's invite link",
    description: 'The current invite code and its `https://chat.whatsapp.com/<code>` link. Admins only: otherwise 403 `forbidden`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupInviteDto, description: 'The invite code and link.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getGroupInvite(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<GroupInviteResult> {
    return this.ask<GroupInviteResult, GroupInvitePayload>(p, id, RPC_MESSAGING.groupInvite, { group }, GROUP_WRITE_TIMEOUT_MS);
  }

  @Post('groups/:group/invite/revoke')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: "Revoke a group's invite link",
    description: 'The old code stops working at once; answers the new one. Admins only: otherwise 403 `forbidden`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupInviteDto, description: 'The new invite code and link.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  revokeGroupInvite(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<GroupInviteResult> {
    return this.ask<GroupInviteResult, GroupInvitePayload>(p, id, RPC_MESSAGING.groupInviteRevoke, { group }, GROUP_WRITE_TIMEOUT_MS);
  }

  @Post('groups/:group/leave')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Leave a group',
    description: 'The account leaves the group; the other members get a `group.participants` event with `action: left`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Left the group.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async leaveGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<void> {
    await this.ask<unknown, GroupInvitePayload>(p, id, RPC_MESSAGING.groupLeave, { group }, GROUP_WRITE_TIMEOUT_MS);
  }

  @Get('groups/invites/:code')
  @RequireAuthenticated()
  @ApiOperation({
    summary: 'Look up an invite code',
    description: 'The group an invite code leads to (subject, description, settings, participants), without joining it. 404 `not_found` for an unknown or revoked code. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupSummaryDto, description: 'The group the code leads to.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getGroupInviteInfo(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('code', INVITE_CODE_PARAM) code: string): Promise<GroupSummaryDto> {
    return this.ask<GroupSummaryDto, GroupInviteCodePayload>(p, id, RPC_MESSAGING.groupInviteInfo, { code }, GROUP_WRITE_TIMEOUT_MS);
  }

  @Post('groups/invites/:code/join')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Join a group by invite code',
    description:
      'The account joins the group and the group is answered (200); the members get a `group.participants` event with `action: added`. ' +
      'Where the group needs an admin to approve joins, a request is filed instead and the answer is 202 with `pending: true`; the admins get a `group.join_request` event, and the account `group.joined` once approved. ' +
      '404 `not_found` for an unknown or revoked code. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupSummaryDto, description: 'The group joined.' })
  @ApiAcceptedResponse({ type: GroupJoinPendingDto, description: 'A request to join was filed and waits for an admin.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async joinGroupByInvite(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @ValidParam('code', INVITE_CODE_PARAM) code: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<GroupSummaryDto | GroupJoinPending> {
    const result = await this.ask<GroupSummaryDto | GroupJoinPending, GroupInviteCodePayload>(p, id, RPC_MESSAGING.groupInviteJoin, { code }, GROUP_WRITE_TIMEOUT_MS);
    if ('pending' in result) void reply.status(202);
    return result;
  }
}

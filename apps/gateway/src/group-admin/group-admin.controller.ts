import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  GroupJoinRequestDto,
  GroupJoinRequestsUpdate,
  GroupParticipantsResultDto,
  GroupPictureDto,
  GroupPictureSet,
  Jid,
  RPC_GROUP_ADMIN,
  type GroupJoinRequest,
  type GroupJoinRequestsPayload,
  type GroupJoinRequestsUpdateDto,
  type GroupJoinRequestsUpdatePayload,
  type GroupParticipantsResult,
  type GroupPicturePayload,
  type GroupPictureResult,
  type GroupPictureSetDto,
  type GroupPictureSetPayload,
  type ListResult,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MediaPolicy } from '../messages/media.policy';
import { MessagesService } from '../messages/messages.service';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const GROUP_PARAM = Jid({ description: 'The group JID (URL-encoded).', example: '120363041234567890@g.us' });
const NOT_ADMIN = '`forbidden`: WhatsApp refused: the account is not an admin of the group (`details.whatsapp`: `not-authorized`).';
/** Group calls wait for WhatsApp's server, and a picture for its download first. */
const GROUP_WRITE_TIMEOUT_MS = 30_000;

/** A group's picture and the requests to join it, answered by the session's runner. */
@ApiTags('chats')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization, or a group that does not exist or the account is not in.')
@Controller('sessions/:id/groups/:group')
export class GroupAdminController {
  constructor(
    private readonly messages: MessagesService,
    private readonly media: MediaPolicy,
  ) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, GROUP_WRITE_TIMEOUT_MS);
  }

  @Get('picture')
  @RequireAuthenticated()
  @ApiOperation({ summary: "Read a group's picture link", description: '`url` is `null` while the group has no picture. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupPictureDto, description: 'The picture link, or null.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  getGroupPicture(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<GroupPictureResult> {
    return this.ask<GroupPictureResult, GroupPicturePayload>(p, id, RPC_GROUP_ADMIN.pictureGet, { group });
  }

  @Put('picture')
  @RequireCapability('send')
  @ApiOperation({
    summary: "Set a group's picture",
    description:
      'From `url` (fetched under the media address rules) or `base64`, any image the server can read (JPEG, PNG, WebP); WhatsApp gets it as a 640x640 JPEG. ' +
      'Every member gets a `group.updated` event with `picture: set`. In a `locked` group only admins may do this: otherwise 403 `forbidden`. ' +
      '400 `validation_error` when it is not a readable image; 413 `payload_too_large` over MEDIA_MAX_BYTES. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupPictureDto, description: 'The new picture link.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(413, ['payload_too_large'], '`payload_too_large`: the image is larger than MEDIA_MAX_BYTES.')
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async setGroupPicture(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string, @ValidBody(GroupPictureSet) body: GroupPictureSetDto): Promise<GroupPictureResult> {
    const source = await this.media.source({ type: 'image', mimetype: 'image/jpeg', ...body } as Parameters<MediaPolicy['source']>[0]);
    return this.ask<GroupPictureResult, GroupPictureSetPayload>(p, id, RPC_GROUP_ADMIN.pictureSet, { group, ...source });
  }

  @Delete('picture')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: "Remove a group's picture",
    description: 'Idempotent; every member gets a `group.updated` event with `picture: removed` when there was one. In a `locked` group only admins may do this: otherwise 403 `forbidden`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async removeGroupPicture(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<void> {
    await this.ask<unknown, GroupPicturePayload>(p, id, RPC_GROUP_ADMIN.pictureRemove, { group });
  }

  @Get('requests')
  @RequireCapability('send')
  @ApiOperation({
    summary: 'List requests to join a group',
    description:
      'Who asked to join (through the invite link of a group with `joinApproval`) and waits for an admin, all in one page. Admins only: otherwise 403 `forbidden`. ' +
      'New requests also arrive as `group.join_request` events. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiListResponse(GroupJoinRequestDto, 'The pending requests, in one page.')
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async listGroupJoinRequests(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<ListResult<GroupJoinRequest>> {
    const { data } = await this.ask<{ data: GroupJoinRequest[] }, GroupJoinRequestsPayload>(p, id, RPC_GROUP_ADMIN.joinRequests, { group });
    return { data, nextCursor: '' };
  }

  @Post('requests')
  @HttpCode(200)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Approve or reject requests to join a group',
    description:
      "WhatsApp's answer per requester (`200` done, `404` no pending request from them). Approved requesters join: every member gets a `group.participants` event with `action: added` and the requester `group.joined`; " +
      'a rejection reaches the admins as `group.join_request` with `action: rejected`. Admins only: otherwise 403 `forbidden`. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupParticipantsResultDto, description: "WhatsApp's answer per requester." })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  updateGroupJoinRequests(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string, @ValidBody(GroupJoinRequestsUpdate) body: GroupJoinRequestsUpdateDto): Promise<GroupParticipantsResult> {
    return this.ask<GroupParticipantsResult, GroupJoinRequestsUpdatePayload>(p, id, RPC_GROUP_ADMIN.joinRequestsUpdate, { group, action: body.action, participants: body.participants });
  }
}

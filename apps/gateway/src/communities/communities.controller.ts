import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  CommunityCreate,
  CommunityDto,
  CommunitySummaryDto,
  Jid,
  RPC_COMMUNITIES,
  type Community,
  type CommunityCreateDto,
  type CommunityCreatePayload,
  type CommunityGroupPayload,
  type CommunityPayload,
  type CommunitySummary,
  type ListResult,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from '../messages/messages.service';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const COMMUNITY_PARAM = Jid({ description: "The community's JID (its parent group, URL-encoded).", example: '120363049876543210@g.us' });
const GROUP_PARAM = Jid({ description: 'The group JID (URL-encoded).', example: '120363041234567890@g.us' });
const NOT_ADMIN =
  "`forbidden`: WhatsApp refused (`details.whatsapp`: `not-authorized`): only the community's admins link and unlink groups, and only groups they also administer.";
/** Creating a community is two queries to WhatsApp, reading it back another two. */
const COMMUNITY_TIMEOUT_MS = 30_000;

/**
 * Communities: a parent group that gathers linked groups, with an announcement group every
 * member is in. Posting to the announcement group is a normal send to its JID.
 */
@ApiTags('chats')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization, or a community (or group) that does not exist or the account is not in.')
@ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
@Controller('sessions/:id/communities')
export class CommunitiesController {
  constructor(private readonly messages: MessagesService) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, COMMUNITY_TIMEOUT_MS);
  }

  @Get()
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List communities', description: 'The communities the account is in, with their announcement groups, in one page (`nextCursor` is empty). Read one for its linked groups.' })
  @ApiParam(SESSION_ID)
  @ApiListResponse(CommunitySummaryDto, 'The communities.')
  async listCommunities(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ListResult<CommunitySummary>> {
    const { data } = await this.ask<{ data: CommunitySummary[] }, SessionRef>(p, id, RPC_COMMUNITIES.list, {});
    return { data, nextCursor: '' };
  }

  @Post()
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Create a community',
    description:
      'WhatsApp creates the community and its announcement group; the account is the admin of both. Link existing groups with `PUT .../communities/{community}/groups/{group}`, ' +
      'and post announcements by sending to `announcementGroup` with `POST .../messages`.',
  })
  @ApiParam(SESSION_ID)
  @ApiCreatedResponse({ type: CommunityDto, description: 'The new community with its announcement group.' })
  createCommunity(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(CommunityCreate) body: CommunityCreateDto): Promise<Community> {
    return this.ask<Community, CommunityCreatePayload>(p, id, RPC_COMMUNITIES.create, { subject: body.subject, ...(body.description ? { description: body.description } : {}) });
  }

  @Get(':community')
  @RequireAuthenticated()
  @ApiOperation({
    summary: 'Read a community',
    description: 'Its subject, description, announcement group and every linked group (the announcement group marked). 404 `not_found` for a plain group or a community the account is not in.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: CommunityDto, description: 'The community.' })
  getCommunity(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('community', COMMUNITY_PARAM) community: string): Promise<Community> {
    return this.ask<Community, CommunityPayload>(p, id, RPC_COMMUNITIES.get, { community });
  }

  @Put(':community/groups/:group')
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Link a group to a community',
    description:
      "Links an existing group: the account must be an admin of the community and of the group. The group's members join the community and its announcement group; the community's members get a `community.updated` event with `action: linked`. " +
      'Linking a group already in this community changes nothing. 409 `conflict` when the group belongs to another community; 400 `validation_error` for the announcement group or a community. Answers the community.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: CommunityDto, description: 'The community, with the group linked.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  @ApiErrorResponse(409, ['conflict', 'session_not_connected'], '`conflict`: the group is linked to another community (unlink it there first). ' + NOT_CONNECTED)
  linkGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('community', COMMUNITY_PARAM) community: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<Community> {
    return this.ask<Community, CommunityGroupPayload>(p, id, RPC_COMMUNITIES.link, { community, group });
  }

  @Delete(':community/groups/:group')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Unlink a group from a community',
    description:
      "Only the community's admins may. The group stays as it is outside the community; members who are in no other linked group leave the community and its announcement group. " +
      "The community's members get a `community.updated` event with `action: unlinked`. The announcement group cannot be unlinked (400 `validation_error`); a group not linked to this community is a 404.",
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Unlinked.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_ADMIN)
  async unlinkGroup(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('community', COMMUNITY_PARAM) community: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<void> {
    await this.ask<unknown, CommunityGroupPayload>(p, id, RPC_COMMUNITIES.unlink, { community, group });
  }
}

import { Controller, Get, Put, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  GroupPoliciesDto,
  GroupPoliciesUpdate,
  Jid,
  RPC_GROUP_POLICIES,
  type GroupPoliciesGetPayload,
  type GroupPoliciesResult,
  type GroupPoliciesSetPayload,
  type GroupPoliciesUpdateDto,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from '../messages/messages.service';
import { RunnerClient } from '../runner/runner-client';
import { SESSION_ID_PARAM as SESSION_ID, NOT_CONNECTED } from '../http/session-route';

const GROUP_PARAM = Jid({ description: 'The group JID (URL-encoded).', example: '120363041234567890@g.us' });
const GROUP_WRITE_TIMEOUT_MS = 30_000;

/** Who may add members, approval of joins by link, and disappearing messages of a group. */
@ApiTags('chats')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization, or a group the account is not in.')
@Controller('sessions/:id/groups/:group/policies')
export class GroupPoliciesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
  ) {}

  @Get()
  @RequireAuthenticated()
  @ApiOperation({ summary: "Read a group's policies", description: 'Member-add mode, join approval and the disappearing-messages timer. 409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupPoliciesDto, description: 'The policies.' })
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async getGroupPolicies(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string): Promise<GroupPoliciesResult> {
    await this.messages.requireSession(p.orgId, id);
    return this.runner.call<GroupPoliciesResult, GroupPoliciesGetPayload>(RPC_GROUP_POLICIES.get, { orgId: p.orgId, sessionId: id, group }, GROUP_WRITE_TIMEOUT_MS);
  }

  @Put()
  @RequireCapability('send')
  @ApiOperation({
    summary: "Change a group's policies",
    description:
      '`memberAddMode` and `joinApproval` are for admins only (403 `forbidden` otherwise); the disappearing-messages timer too in a `locked` group. ' +
      'Answers the policies as they are now. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: GroupPoliciesDto, description: 'The policies after the change.' })
  @ApiErrorResponse(403, ['forbidden'], '`forbidden`: WhatsApp refused: the account is not an admin of the group.')
  @ApiErrorResponse(409, ['session_not_connected'], NOT_CONNECTED)
  async updateGroupPolicies(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('group', GROUP_PARAM) group: string, @ValidBody(GroupPoliciesUpdate) body: GroupPoliciesUpdateDto): Promise<GroupPoliciesResult> {
    await this.messages.requireSession(p.orgId, id);
    return this.runner.call<GroupPoliciesResult, GroupPoliciesSetPayload>(RPC_GROUP_POLICIES.set, { orgId: p.orgId, sessionId: id, group, ...body }, GROUP_WRITE_TIMEOUT_MS);
  }
}

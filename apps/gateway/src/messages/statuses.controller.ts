import { Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  PageQuery,
  RPC_MESSAGING,
  STATUS_JID,
  StatusPost,
  StatusPostResultDto,
  StoredMessageDto,
  type ChatMessagesPayload,
  type ListResult,
  type PageQueryDto,
  type StatusPostDto,
  type StatusPostPayload,
} from '@wa/contracts';
import { ValidBody, ValidQuery } from '../http/request-schema';
import { RunnerClient } from '../runner/runner-client';
import { MediaPolicy } from './media.policy';
import { MessagesService } from './messages.service';
import { SESSION_ID_PARAM as SESSION_ID } from '../http/session-route';

const DEFAULT_LIMIT = 50;
/** A status goes to every device of every contact in the audience: many sessions to set up. */
const STATUS_TIMEOUT_MS = 60_000;

/** Status updates: post text, image and video statuses to contacts, read the ones contacts posted. */
@ApiTags('messages')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization.')
@Controller('sessions/:id/statuses')
export class StatusesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly runner: RunnerClient,
    private readonly media: MediaPolicy,
  ) {}

  @Post()
  @RequireCapability('send')
  @ApiOperation({
    summary: 'Post a status update',
    description:
      'Posts a text status (background colour, font), an image or a video (from `url` or `base64`, with a caption) to `status@broadcast` for the given contacts, or every contact ' +
      'the session knows; WhatsApp delivers it to each of their devices and to the account\'s own. 409 `session_not_connected` unless the session is connected.',
  })
  @ApiParam(SESSION_ID)
  @ApiCreatedResponse({ type: StatusPostResultDto, description: 'The status was handed to WhatsApp.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session is not connected.')
  async postStatus(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(StatusPost) body: StatusPostDto): Promise<StatusPostResultDto> {
    await this.messages.requireSession(p.orgId, id);
    const ref = { orgId: p.orgId, sessionId: id, ...(body.contacts ? { contacts: body.contacts } : {}) };
    const payload: StatusPostPayload =
      body.type === 'text'
        ? { ...ref, text: body.text, ...(body.backgroundColor ? { backgroundColor: body.backgroundColor } : {}), ...(body.font !== undefined ? { font: body.font } : {}) }
        : {
            ...ref,
            // The same media rules as message sends: public URLs only, size-limited base64.
            media: { type: body.type, media: await this.media.source(body), ...(body.mimetype ? { mimetype: body.mimetype } : {}), ...(body.caption ? { caption: body.caption } : {}) },
          };
    return this.runner.call<StatusPostResultDto, StatusPostPayload>(RPC_MESSAGING.statusPost, payload, STATUS_TIMEOUT_MS);
  }

  @Get()
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List status updates', description: "Status updates contacts posted (and ours), newest first, in cursor pages; each also arrived as a `status.received` event." })
  @ApiParam(SESSION_ID)
  @ApiListResponse(StoredMessageDto, 'A page of status updates.')
  async listStatuses(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidQuery(PageQuery) q: PageQueryDto): Promise<ListResult<StoredMessageDto>> {
    await this.messages.requireSession(p.orgId, id);
    return this.runner.call<ListResult<StoredMessageDto>, ChatMessagesPayload>(RPC_MESSAGING.chatMessages, { orgId: p.orgId, sessionId: id, chat: STATUS_JID, limit: q.limit ?? DEFAULT_LIMIT, cursor: q.cursor });
  }
}

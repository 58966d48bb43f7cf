import { Controller, Delete, Get, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  Address,
  LabelAssignResultDto,
  LabelCreate,
  LabelDto,
  LabelUpdate,
  RPC_MESSAGING,
  Type,
  type LabelAssignPayload,
  type LabelCreateDto,
  type LabelCreatePayload,
  type LabelRefPayload,
  type LabelUpdateDto,
  type LabelUpdatePayload,
  type ListResult,
  type RpcPattern,
  type SessionRef,
} from '@wa/contracts';
import { ValidBody, ValidParam } from '../http/request-schema';
import { MessagesService } from './messages.service';
import { SESSION_ID_PARAM as SESSION_ID } from '../http/session-route';

const LABEL_PARAM = Type.String({ pattern: '^[0-9A-Za-z_-]{1,64}$', example: '3', description: 'The label id.' });
const CHAT_PARAM = Address({ description: "The chat (URL-encoded): a JID, or a phone number; a contact's phone-number JID, LID and number name the same chat." });
const MID_PARAM = Type.String({ minLength: 1, maxLength: 128, pattern: '^[0-9A-Za-z._:-]+$', example: '3EB0C431C26A1916E07A', description: 'The WhatsApp message id.' });
const WRITE_ERRORS = '`session_not_connected`: the session is not connected. `conflict`: the phone has not shared the account\'s app-state keys yet; try again in a moment.';
const NOT_BUSINESS = '`forbidden`: the account is not a WhatsApp Business account (only those have labels).';
/** App-state writes first read what other devices wrote, then write: a round trip or two to WhatsApp. */
const APP_STATE_TIMEOUT_MS = 30_000;

/**
 * WhatsApp Business labels: kept in the account's app state, shared with the phone and every
 * linked device; changes from any device arrive as `label.updated` / `label.association` events.
 */
@ApiTags('chats')
@ApiErrorResponse(404, ['not_found'], '`not_found`: no such session (or label, message) in your organization.')
@Controller('sessions/:id/labels')
export class LabelsController {
  constructor(private readonly messages: MessagesService) {}

  private ask<T, P extends SessionRef>(p: Principal, id: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>): Promise<T> {
    return this.messages.askRunner<T, P>(p.orgId, id, pattern, payload, APP_STATE_TIMEOUT_MS);
  }

  @Get()
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List labels', description: "The account's WhatsApp Business labels, all in one page (`nextCursor` is empty); none on other accounts." })
  @ApiParam(SESSION_ID)
  @ApiListResponse(LabelDto, 'All labels.')
  async listLabels(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ListResult<LabelDto>> {
    const { data } = await this.ask<{ data: LabelDto[] }, SessionRef>(p, id, RPC_MESSAGING.labels, {});
    return { data, nextCursor: '' };
  }

  @Post()
  @RequireCapability('send')
  @ApiOperation({ summary: 'Create a label', description: 'Creates a label on every device of the account (a `label.updated` event follows). Business accounts only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiCreatedResponse({ type: LabelDto, description: 'The new label.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_BUSINESS)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], WRITE_ERRORS)
  createLabel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(LabelCreate) body: LabelCreateDto): Promise<LabelDto> {
    return this.ask<LabelDto, LabelCreatePayload>(p, id, RPC_MESSAGING.labelCreate, body);
  }

  @Patch(':labelId')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Rename or recolour a label', description: 'Business accounts only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: LabelDto, description: 'The label after the change.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_BUSINESS)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], WRITE_ERRORS)
  updateLabel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('labelId', LABEL_PARAM) labelId: string, @ValidBody(LabelUpdate) body: LabelUpdateDto): Promise<LabelDto> {
    return this.ask<LabelDto, LabelUpdatePayload>(p, id, RPC_MESSAGING.labelUpdate, { labelId, ...body });
  }

  @Delete(':labelId')
  @HttpCode(204)
  @RequireCapability('send')
  @ApiOperation({ summary: 'Delete a label', description: 'Deletes the label (and takes it off every chat and message) on every device. Business accounts only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_BUSINESS)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], WRITE_ERRORS)
  async deleteLabel(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('labelId', LABEL_PARAM) labelId: string): Promise<void> {
    await this.ask<unknown, LabelRefPayload>(p, id, RPC_MESSAGING.labelDelete, { labelId });
  }

  @Put(':labelId/chats/:chat')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Put a label on a chat', description: 'The chat list shows it (`labels`, `?label=`). Business accounts only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: LabelAssignResultDto, description: 'The label is on the chat.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_BUSINESS)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], WRITE_ERRORS)
  labelChat(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('labelId', LABEL_PARAM) labelId: string, @ValidParam('chat', CHAT_PARAM) chat: string): Promise<LabelAssignResultDto> {
    return this.ask<LabelAssignResultDto, LabelAssignPayload>(p, id, RPC_MESSAGING.labelAssign, { labelId, chat, labeled: true });
  }

  @Delete(':labelId/chats/:chat')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Take a label off a chat', description: 'Business accounts only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: LabelAssignResultDto, description: 'The label is off the chat.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_BUSINESS)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], WRITE_ERRORS)
  unlabelChat(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('labelId', LABEL_PARAM) labelId: string, @ValidParam('chat', CHAT_PARAM) chat: string): Promise<LabelAssignResultDto> {
    return this.ask<LabelAssignResultDto, LabelAssignPayload>(p, id, RPC_MESSAGING.labelAssign, { labelId, chat, labeled: false });
  }

  @Put(':labelId/messages/:mid')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Put a label on a message', description: 'The message must be stored in the session. Business accounts only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: LabelAssignResultDto, description: 'The label is on the message.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_BUSINESS)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], WRITE_ERRORS)
  labelMessage(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('labelId', LABEL_PARAM) labelId: string, @ValidParam('mid', MID_PARAM) mid: string): Promise<LabelAssignResultDto> {
    return this.ask<LabelAssignResultDto, LabelAssignPayload>(p, id, RPC_MESSAGING.labelAssign, { labelId, messageId: mid, labeled: true });
  }

  @Delete(':labelId/messages/:mid')
  @RequireCapability('send')
  @ApiOperation({ summary: 'Take a label off a message', description: 'Business accounts only: otherwise 403 `forbidden`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: LabelAssignResultDto, description: 'The label is off the message.' })
  @ApiErrorResponse(403, ['forbidden'], NOT_BUSINESS)
  @ApiErrorResponse(409, ['session_not_connected', 'conflict'], WRITE_ERRORS)
  unlabelMessage(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidParam('labelId', LABEL_PARAM) labelId: string, @ValidParam('mid', MID_PARAM) mid: string): Promise<LabelAssignResultDto> {
    return this.ask<LabelAssignResultDto, LabelAssignPayload>(p, id, RPC_MESSAGING.labelAssign, { labelId, messageId: mid, labeled: false });
  }
}

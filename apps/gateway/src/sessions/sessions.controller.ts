import { Controller, Delete, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  PageQuery,
  SessionCreate,
  type PageQueryDto,
  type SessionCreateDto,
  SessionMeDto,
  SessionPairingCodeDto,
  SessionPairingCodeRequest,
  type SessionPairingCodeRequestDto,
  SessionQrDto,
  SessionQrQuery,
  type SessionQrQueryDto,
  SessionResponseDto,
  SessionStart,
  type SessionStartDto,
  type ListResult,
} from '@wa/contracts';
import type { FastifyReply } from 'fastify';
import { toBuffer as qrPng } from 'qrcode';
import { ValidBody, ValidQuery } from '../http/request-schema';
import { SessionsService } from './sessions.service';

const SESSION_ID = { name: 'id', description: 'The session id (a ULID).', example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' };

/** Only the routes naming a session can miss one; listing and creating cannot. */
const NOT_FOUND = ApiErrorResponse(404, ['not_found'], '`not_found`: no such session in your organization.');

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Post()
  @RequireCapability('manage')
  @ApiOperation({ summary: 'Create a session', description: 'Creates a WhatsApp session in the `stopped` state; start it to get a QR code or pairing code.' })
  @ApiCreatedResponse({ type: SessionResponseDto, description: 'The new session, `stopped`.' })
  createSession(@CurrentPrincipal() p: Principal, @ValidBody(SessionCreate) body: SessionCreateDto): Promise<SessionResponseDto> {
    return this.sessions.create(p.orgId, body);
  }

  @Get()
  @RequireAuthenticated()
  @ApiOperation({ summary: 'List sessions', description: "Your organization's sessions, oldest first, in cursor pages." })
  @ApiListResponse(SessionResponseDto, 'A page of sessions.')
  listSessions(@CurrentPrincipal() p: Principal, @ValidQuery(PageQuery) q: PageQueryDto): Promise<ListResult<SessionResponseDto>> {
    return this.sessions.list(p.orgId, q.limit, q.cursor);
  }

  @Get(':id')
  @NOT_FOUND
  @RequireAuthenticated()
  @ApiOperation({ summary: 'Get a session', description: 'The session with its status, why it stopped or failed (`statusReason`) and the linked account (`me`).' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: SessionResponseDto, description: 'The session.' })
  getSession(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<SessionResponseDto> {
    return this.sessions.get(p.orgId, id);
  }

  @Delete(':id')
  @NOT_FOUND
  @HttpCode(204)
  @RequireCapability('manage')
  @ApiOperation({
    summary: 'Delete a session',
    description: 'Logs the device out at WhatsApp when it is linked, wipes its credentials and messages, and deletes the session. On 503 `session_unavailable` (no runner could take the call) nothing was deleted.',
  })
  @ApiParam(SESSION_ID)
  @ApiNoContentResponse({ description: 'Deleted.' })
  async deleteSession(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.sessions.delete(p.orgId, id);
  }

  @Post(':id/start')
  @NOT_FOUND
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({
    summary: 'Start a session',
    description: 'Opens the WhatsApp connection. An unlinked session then offers a QR code (`status: qr`); a linked one logs in. Idempotent.',
  })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: SessionResponseDto, description: 'The session.' })
  @ApiErrorResponse(409, ['conflict'], '`conflict`: the session was logged out from the phone; start it with `{"relink": true}`.')
  startSession(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(SessionStart, { required: false }) body: SessionStartDto = {}): Promise<SessionResponseDto> {
    return this.sessions.start(p.orgId, id, body?.relink ?? false);
  }

  @Post(':id/stop')
  @NOT_FOUND
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({ summary: 'Stop a session', description: 'Closes the connection and keeps the link: a later start logs in without a QR code. Idempotent.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: SessionResponseDto, description: 'The session.' })
  stopSession(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<SessionResponseDto> {
    return this.sessions.stop(p.orgId, id);
  }

  @Post(':id/logout')
  @NOT_FOUND
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({ summary: 'Log a session out', description: 'Unlinks the device at WhatsApp and wipes its credentials; the session stays, `logged_out`.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: SessionResponseDto, description: 'The session.' })
  logoutSession(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<SessionResponseDto> {
    return this.sessions.logout(p.orgId, id);
  }

  @Get(':id/qr')
  @ApiErrorResponse(404, ['not_found'], '`not_found`: no such session, or (`details.reason = "no_qr_pending"`) no QR code is waiting to be scanned.')
  @RequireAuthenticated()
  @ApiOperation({
    summary: 'Get the pending QR code',
    description:
      'A PNG by default; `{"qr": "<raw string>"}` with `Accept: application/json`. 404 `not_found` with `details.reason = "no_qr_pending"` when no QR is waiting to be scanned. ' +
      'Right after `start` the QR takes a moment: pass `waitMs` to wait for it in one request instead of polling; within that wait a session runner that answers late (`RUNNER_TIMEOUT_MS`) is asked again, and 503 `session_unavailable` comes only once the wait is over. ' +
      'The code changes every 20-60 s (`session.qr` events carry each new one and when it expires); after `QR_MAX_REFRESHES` unscanned codes the session is `failed` with `statusReason: qr_timeout` until started again.',
  })
  @ApiParam(SESSION_ID)
  @ApiExtraModels(SessionQrDto)
  @ApiResponse({
    status: 200,
    description: 'PNG image, or JSON with `Accept: application/json`.',
    content: {
      'image/png': { schema: { type: 'string', format: 'binary' } },
      'application/json': { schema: { $ref: getSchemaPath(SessionQrDto) } },
    },
  })
  @ApiErrorResponse(
    409,
    ['conflict'],
    '`conflict` with `details.reason = "no_qr_expected"` (only with `waitMs`): the session is in a state no QR code comes from (`connected`, `stopped`, `failed`, ...); `details.status` and `details.statusReason` say which.',
  )
  async getSessionQr(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @ValidQuery(SessionQrQuery) q: SessionQrQueryDto,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionQrDto | Buffer> {
    const qr = await this.sessions.qr(p.orgId, id, q.waitMs ?? 0);
    if (accept?.includes('application/json')) return { qr };
    void reply.header('content-type', 'image/png').header('cache-control', 'no-store');
    return qrPng(qr, { type: 'png', margin: 2, width: 320 });
  }

  @Post(':id/pairing-code')
  @NOT_FOUND
  @HttpCode(200)
  @RequireCapability('manage')
  @ApiOperation({ summary: 'Link by phone number', description: 'Starts the session if needed and returns the 8-character code to type on the phone.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: SessionPairingCodeDto, description: 'The code to type on the phone.' })
  @ApiErrorResponse(409, ['conflict', 'session_not_connected'], '`conflict`: the session is already linked to a phone; `session_not_connected`: the connection closed before a code was issued.')
  async requestPairingCode(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(SessionPairingCodeRequest) body: SessionPairingCodeRequestDto): Promise<SessionPairingCodeDto> {
    return { code: await this.sessions.pairingCode(p.orgId, id, body.phoneNumber) };
  }

  @Get(':id/me')
  @NOT_FOUND
  @RequireAuthenticated()
  @ApiOperation({ summary: 'The linked account', description: '409 `session_not_connected` unless the session is connected.' })
  @ApiParam(SESSION_ID)
  @ApiOkResponse({ type: SessionMeDto, description: 'The linked account.' })
  @ApiErrorResponse(409, ['session_not_connected'], '`session_not_connected`: the session is not connected.')
  getSessionMe(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<SessionMeDto> {
    return this.sessions.me(p.orgId, id);
  }
}

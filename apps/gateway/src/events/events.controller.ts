import { Controller, Get, Headers, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { CurrentPrincipal, RequireAuthenticated, type Principal } from '@wa/auth';
import { EVENT_ENVELOPE_DTOS, EVENT_TYPES, EventStreamQuery, type EventStreamQueryDto } from '@wa/contracts';
import { AppError } from '@wa/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidQuery } from '../http/request-schema';
import { EventStreamService } from './event-stream.service';

const ENVELOPES = Object.values(EVENT_ENVELOPE_DTOS);
const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

@ApiTags('events')
@ApiExtraModels(...ENVELOPES)
@Controller('events')
export class EventsController {
  constructor(private readonly streams: EventStreamService) {}

  @Get()
  @RequireAuthenticated()
  @ApiOperation({
    summary: "Stream the organization's events (Server-Sent Events)",
    description:
      'For clients that cannot receive webhooks. Each event is one SSE message: `id:` the event id, `event:` its type, ' +
      '`data:` the same JSON envelope a webhook receives (schemas below, one per type). A comment line is sent every ~15 s ' +
      'to keep proxies from closing the connection. Reconnect with `Last-Event-ID` (browsers do it on their own) to get ' +
      'every event recorded after that one, then live events, without loss or duplicates. Without it the stream starts ' +
      'with events recorded from now on.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id.' })
  @ApiOkResponse({
    description: 'An endless `text/event-stream`; each `data:` line is one of these envelopes.',
    content: { 'text/event-stream': { schema: { oneOf: ENVELOPES.map((dto) => ({ $ref: getSchemaPath(dto) })) } } },
  })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @ValidQuery(EventStreamQuery) query: EventStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    let types: Set<string> | undefined;
    if (query.types) {
      types = new Set(query.types.split(',').map((t) => t.trim()).filter(Boolean));
      const unknown = [...types].filter((t) => !KNOWN_TYPES.has(t));
      if (unknown.length) throw new AppError('validation_error', `unknown event types: ${unknown.join(', ')}`, { known: EVENT_TYPES });
    }
    if (lastEventId !== undefined && !/^[A-Za-z0-9]{1,64}$/.test(lastEventId)) {
      throw new AppError('validation_error', 'Last-Event-ID must be an event id');
    }
    // Everything that can fail with an error envelope happens before the stream is taken over.
    const start = await this.streams.startPosition(principal.orgId, lastEventId);
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': String(req.id),
    });
    await this.streams.stream(reply.raw, { orgId: principal.orgId, lastEventId, types, sessionId: query.sessionId }, start);
  }
}

import { Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireCapability, type Principal } from '@wa/auth';
import {
  ApiErrorResponse,
  ApiListResponse,
  WebhookCreate,
  type WebhookCreateDto,
  WebhookCreatedDto,
  WebhookDeliveryDto,
  WebhookDeliveryListQuery,
  type WebhookDeliveryListQueryDto,
  WebhookResponseDto,
  WebhookSecretDto,
  WebhookUpdate,
  type WebhookUpdateDto,
  type ListResult,
} from '@wa/contracts';
import { ValidBody, ValidQuery } from '../http/request-schema';
import { WebhooksService } from './webhooks.service';

const DELIVERY_DOC =
  'Each delivery is a `POST` with the event envelope as JSON (schemas: `GET /api/v1/events`) signed per the Standard Webhooks ' +
  'spec: `webhook-id` (the event id, the same on every retry), `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`; ' +
  'verify with any Standard Webhooks library. Answer 2xx within 15 s. Failures are retried with jittered backoff over about a day ' +
  '(`Retry-After` on 429/503 is honoured, redirects are not followed); 410 disables the endpoint at once, and so does an exhausted ' +
  'schedule, with a `webhook.disabled` event. Deliveries of one session arrive in `sequence` order.';

/** Only the routes naming a webhook can miss one; listing and creating cannot. */
const NOT_FOUND = ApiErrorResponse(404, ['not_found'], '`not_found`: no such webhook in your organization.');

@ApiTags('webhooks')
@RequireCapability('manage')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({ summary: 'Create a webhook endpoint', description: `Returns the signing secret once. ${DELIVERY_DOC}` })
  @ApiCreatedResponse({ type: WebhookCreatedDto, description: 'The endpoint, with its signing secret (shown only here).' })
  @ApiErrorResponse(400, ['validation_error'], '`validation_error`: bad URL (not http(s), or a refused address), unknown event type.')
  create(@CurrentPrincipal() p: Principal, @ValidBody(WebhookCreate) dto: WebhookCreateDto): Promise<WebhookCreatedDto> {
    return this.webhooks.create(p.orgId, dto);
  }

  @Get()
  @ApiOperation({
    summary: 'List webhooks',
    description:
      "The caller's organization's webhook endpoints, all in one page (`nextCursor` is empty); no pagination parameters. Secrets are never included.",
  })
  @ApiListResponse(WebhookResponseDto, 'All webhook endpoints, in one page.')
  list(@CurrentPrincipal() p: Principal): Promise<ListResult<WebhookResponseDto>> {
    return this.webhooks.list(p.orgId);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a webhook', description: 'The endpoint with its settings and state (enabled, or disabled and why); never its secret.' })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The webhook.' })
  @NOT_FOUND
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<WebhookResponseDto> {
    return this.webhooks.get(p.orgId, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a webhook', description: 'Changes the url, the event types, the session filter or the description; fields left out keep their value.' })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The changed webhook.' })
  @ApiErrorResponse(400, ['validation_error'], '`validation_error`: bad URL (not http(s), or a refused address), unknown event type.')
  @NOT_FOUND
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidBody(WebhookUpdate) dto: WebhookUpdateDto): Promise<WebhookResponseDto> {
    return this.webhooks.update(p.orgId, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook', description: 'Deletes the endpoint and its delivery log; waiting deliveries are dropped.' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @NOT_FOUND
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    return this.webhooks.remove(p.orgId, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the signing secret',
    description: 'Returns the new secret once. For 24 hours deliveries carry two signatures (new and old secret), so receivers can switch without losing any.',
  })
  @ApiOkResponse({ type: WebhookSecretDto, description: 'The new secret (shown only here).' })
  @NOT_FOUND
  rotateSecret(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<WebhookSecretDto> {
    return this.webhooks.rotateSecret(p.orgId, id);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-enable a disabled webhook', description: 'Its waiting deliveries resume at once, in order, with a fresh retry schedule.' })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The enabled webhook.' })
  @NOT_FOUND
  enable(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<WebhookResponseDto> {
    return this.webhooks.enable(p.orgId, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a test event', description: 'Publishes a `webhook.ping` event that only this endpoint receives; returns its delivery.' })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto, description: 'The queued delivery of the ping.' })
  @NOT_FOUND
  test(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<WebhookDeliveryDto> {
    return this.webhooks.test(p.orgId, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: "A webhook's delivery log", description: 'Newest first, with every attempt (status, latency, error, first 1 KB of the answer). Cursor pages.' })
  @ApiListResponse(WebhookDeliveryDto, 'A page of deliveries.')
  @NOT_FOUND
  deliveries(@CurrentPrincipal() p: Principal, @Param('id') id: string, @ValidQuery(WebhookDeliveryListQuery) q: WebhookDeliveryListQueryDto): Promise<ListResult<WebhookDeliveryDto>> {
    return this.webhooks.deliveries(p.orgId, id, q.cursor, q.limit);
  }

  @Post(':id/deliveries/:deliveryId/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deliver an event again', description: 'Queues a new delivery of the same event (same `webhook-id`).' })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto, description: 'The new, queued delivery.' })
  @ApiErrorResponse(404, ['not_found'], '`not_found`: no such webhook, or no such delivery of it.')
  replay(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('deliveryId') deliveryId: string): Promise<WebhookDeliveryDto> {
    return this.webhooks.replay(p.orgId, id, deliveryId);
  }
}

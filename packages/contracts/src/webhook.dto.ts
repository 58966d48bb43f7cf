import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { EVENT_TYPES } from './events';
import { PageQuery, type PageQueryDto } from './pagination.dto';
import { named, StringEnum, Type, type Static } from './schema';

/** `*` subscribes to every event type, including ones added later. */
export const WEBHOOK_EVENT_FILTERS = [...EVENT_TYPES, '*'] as const;
export const WEBHOOK_STATUSES = ['enabled', 'disabled'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

const SESSION_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

const sessionIdList = (description: string) =>
  Type.Array(Type.String({ pattern: SESSION_ID_PATTERN }), { maxItems: 1000, example: ['01HZX3K9Q2T4W6Y8A0C2E4G6J9'], description });
const eventFilterList = (description: string) =>
  Type.Array(StringEnum(WEBHOOK_EVENT_FILTERS), { minItems: 1, maxItems: WEBHOOK_EVENT_FILTERS.length, example: ['message.received', 'message.status'], description });
const webhookUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  example: 'https://example.com/hooks/whatsapp',
  description: 'http(s) URL that receives a POST per event (stored in its normalised WHATWG form). Private, loopback and link-local addresses are refused unless the server allows them.',
});

export const WebhookCreate = named(
  'WebhookCreate',
  Type.Object(
    {
      url: webhookUrl,
      events: eventFilterList('Event types to deliver; `["*"]` for all.'),
      sessionIds: Type.Optional(sessionIdList('Only events of these sessions (organization-level `webhook.*` events always pass). Omit or send `[]` for every session.')),
      description: Type.Optional(Type.String({ maxLength: 500, example: 'CRM inbox' })),
    },
    { additionalProperties: false },
  ),
);
export type WebhookCreateDto = Static<typeof WebhookCreate>;

export const WebhookUpdate = named(
  'WebhookUpdate',
  Type.Object(
    {
      url: Type.Optional(webhookUrl),
      events: Type.Optional(eventFilterList('Event types to deliver; `["*"]` for all.')),
      sessionIds: Type.Optional(sessionIdList('`[]` removes the filter (every session).')),
      description: Type.Optional(Type.String({ maxLength: 500 })),
    },
    { additionalProperties: false },
  ),
);
export type WebhookUpdateDto = Static<typeof WebhookUpdate>;

export class WebhookResponseDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8' })
  id!: string;

  @ApiProperty({ example: 'https://example.com/hooks/whatsapp' })
  url!: string;

  @ApiProperty({ type: [String], enum: WEBHOOK_EVENT_FILTERS })
  events!: string[];

  @ApiProperty({ type: [String], description: 'Empty: every session.' })
  sessionIds!: string[];

  @ApiProperty({ example: 'CRM inbox' })
  description!: string;

  @ApiProperty({ enum: WEBHOOK_STATUSES, description: 'A disabled endpoint gets nothing; its pending deliveries wait until it is enabled again.' })
  status!: WebhookStatus;

  @ApiProperty({ type: 'string', nullable: true, example: null, description: '`gone` (410), `failing` (retries exhausted) or null.' })
  disabledReason!: string | null;

  @ApiProperty({ type: 'integer', nullable: true, example: null, description: 'Unix ms.' })
  disabledAt!: number | null;

  @ApiProperty({ type: 'integer', nullable: true, example: null, description: 'Unix ms until which the previous secret still signs (after a rotation).' })
  previousSecretExpiresAt!: number | null;

  @ApiProperty({ example: 1767225600000 })
  createdAt!: number;

  @ApiProperty({ example: 1767225600000 })
  updatedAt!: number;
}

export class WebhookCreatedDto extends WebhookResponseDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'Signing secret (Standard Webhooks). Shown only in this answer: store it now.' })
  secret!: string;
}

export class WebhookSecretDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'The new signing secret, shown only in this answer.' })
  secret!: string;

  @ApiProperty({ example: 1767312000000, description: 'Until this Unix ms, deliveries carry signatures by both the old and the new secret.' })
  previousSecretExpiresAt!: number;
}

export class WebhookAttemptDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6JA' })
  id!: string;

  @ApiProperty({ example: 1767225600123, description: 'Unix ms when the request started.' })
  attemptedAt!: number;

  @ApiProperty({ type: 'integer', nullable: true, example: 200, description: 'HTTP status; null when no answer came (refused address, timeout, connection error).' })
  statusCode!: number | null;

  @ApiProperty({ example: 12, description: 'Milliseconds until the answer (or the failure).' })
  latencyMs!: number;

  @ApiProperty({ type: 'string', nullable: true, example: null })
  error!: string | null;

  @ApiProperty({ type: 'string', nullable: true, example: 'ok', description: 'First 1 KB of the response body.' })
  responseBody!: string | null;
}

export class WebhookDeliveryDto {
  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6JB' })
  id!: string;

  @ApiProperty({ example: '01HZX3K9Q2T4W6Y8A0C2E4G6J8', description: 'The event (and `webhook-id`).' })
  eventId!: string;

  @ApiProperty({ enum: EVENT_TYPES })
  eventType!: string;

  @ApiProperty({ type: 'string', nullable: true })
  sessionId!: string | null;

  @ApiProperty({ example: 42 })
  sequence!: number;

  @ApiProperty({ enum: WEBHOOK_DELIVERY_STATUSES })
  status!: WebhookDeliveryStatus;

  @ApiProperty({ example: 1 })
  attemptCount!: number;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Unix ms of the next attempt; null once delivered.' })
  nextAttemptAt!: number | null;

  @ApiProperty({ example: 1767225600000 })
  createdAt!: number;

  @ApiProperty({ type: 'integer', nullable: true })
  deliveredAt!: number | null;

  @ApiProperty({ type: [WebhookAttemptDto], description: 'Every attempt, oldest first.' })
  attempts!: WebhookAttemptDto[];
}

/** Cursor pages of a webhook's delivery log, newest first. */
export const WebhookDeliveryListQuery = PageQuery;
export type WebhookDeliveryListQueryDto = PageQueryDto;

export const EventStreamQuery = named(
  'EventStreamQuery',
  Type.Object(
    {
      types: Type.Optional(Type.String({ maxLength: 1000, example: 'message.received,message.status', description: 'Comma-separated event types; default all.' })),
      sessionId: Type.Optional(Type.String({ pattern: SESSION_ID_PATTERN, description: 'Only events of this session (organization-level events are left out).' })),
    },
    { additionalProperties: false },
  ),
);
export type EventStreamQueryDto = Static<typeof EventStreamQuery>;

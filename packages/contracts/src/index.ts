export { ErrorBodyDto, ErrorEnvelopeDto } from './error-envelope.dto';
export { SEND_MODES, type SendMode, OUTBOX_STATUSES, type OutboxStatus, SendResultDto } from './send-result.dto';
export { ListEnvelopeDto, type ListResult, ApiListResponse } from './list.dto';
export {
  RPC,
  type RpcPattern,
  type RunnerPingPayload,
  type RunnerPingResult,
  type RpcErrorPayload,
  type SessionRef,
  type SessionPairingCodePayload,
  type SessionStateResult,
  type SessionQrResult,
  type SessionPairingCodeResult,
  type RunnerEvent,
  type GatewayEventsPayload,
  type GatewayEventsResult,
} from './rpc';
export {
  RUNNER_QUEUE_GROUP,
  type RunnerTransport,
  DEFAULT_RUNNER_URL,
  DEFAULT_NATS_URL,
  runnerTransportFromEnv,
  runnerClientOptions,
  runnerServerOptions,
  GATEWAY_QUEUE_GROUP,
  DEFAULT_GATEWAY_EVENTS_URL,
  type GatewayEventsTransport,
  gatewayEventsTransportFromEnv,
  gatewayEventsClientOptions,
  gatewayEventsServerOptions,
} from './transport';
export { REDACTED_PATHS, createRootLogger, requestContext, currentRequestId, PinoNestLogger } from './logging';
export { type DatabaseOptionsInput, buildDataSourceOptions, ensureDatabaseSchema } from './database';
export {
  EVENT_TYPES,
  type EventType,
  SESSION_STATUSES,
  type SessionStatus,
  SESSION_FAILURE_REASONS,
  type SessionFailureReason,
  type JidPair,
  type SessionStatusEventData,
  type SessionQrEventData,
  type MessageEventBase,
  type MessageReceivedEventData,
  type MessageStatusEventData,
  type MessageReactionEventData,
  type MessageEditedEventData,
  type MessageDeletedEventData,
  type PollVoteEventData,
  type EventDataByType,
  type EventInput,
  type EventEnvelope,
} from './events';
export {
  SessionCreateDto,
  SessionStartDto,
  SessionMeDto,
  SessionResponseDto,
  SessionQrDto,
  SessionPairingCodeRequestDto,
  SessionPairingCodeDto,
} from './session.dto';
export { PageQueryDto } from './pagination.dto';
export { ApiKeyCreateDto, ApiKeyResponseDto, ApiKeyCreatedDto } from './api-key.dto';
export {
  JidPairDto,
  EventSessionMeDto,
  SessionStatusEventDataDto,
  SessionQrEventDataDto,
  MessageEventBaseDto,
  MessageReceivedEventDataDto,
  MessageStatusEventDataDto,
  MessageReactionEventDataDto,
  MessageEditedEventDataDto,
  MessageDeletedEventDataDto,
  PollVoteEventDataDto,
  WebhookDisabledEventDataDto,
  WebhookPingEventDataDto,
  EVENT_ENVELOPE_DTOS,
} from './event.dto';
export {
  WEBHOOK_EVENT_FILTERS,
  WEBHOOK_STATUSES,
  type WebhookStatus,
  WEBHOOK_DELIVERY_STATUSES,
  type WebhookDeliveryStatus,
  WebhookCreateDto,
  WebhookUpdateDto,
  WebhookResponseDto,
  WebhookCreatedDto,
  WebhookSecretDto,
  WebhookAttemptDto,
  WebhookDeliveryDto,
  WebhookDeliveryListQueryDto,
  EventStreamQueryDto,
} from './webhook.dto';

export { createGatewayClient, RESPOND_ASYNC, type GatewayClient, type GatewayClientOptions } from './gateway.client';
export { GatewayError, unwrap, type ErrorCode } from './gateway.error';
export { EventStream, type EventStreamConnection, type EventStreamOptions, type GatewayEvent, type GatewayEventOf, type GatewayEventType } from './event-stream';
export { SseParser, type SseMessage } from './sse.parser';
export type { SessionResponse, SessionStatus, WaitOptions } from './session-waits';
export { verifyWebhook, type WebhookHeaders } from './webhook.verify';
export { WebhookVerificationError } from 'standardwebhooks';
export type { components, paths } from './generated/openapi';

import { Webhook } from 'standardwebhooks';
import type { GatewayEvent } from './event-stream';

/** Header values as node:http, fetch or most frameworks hand them over. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/**
 * Checks a delivery's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`, with the timestamp tolerance of the `standardwebhooks` library) against
 * the endpoint's `whsec_...` secret and returns the event envelope. Pass the body exactly as
 * received: re-serialized JSON does not verify. Throws `WebhookVerificationError` otherwise.
 */
export function verifyWebhook(secret: string, headers: WebhookHeaders, rawBody: string | Buffer): GatewayEvent {
  const flat: Record<string, string> = {};
  const entries = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [name, value] of entries) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  return new Webhook(secret).verify(body, flat) as GatewayEvent;
}

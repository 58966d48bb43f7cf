import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

const PREFIX = 'whsec_';
/** Secrets' keys kept decoded (one or two per endpoint in use); forgotten all at once past this. */
const MAX_KEYS = 10_000;
const keys = new Map<string, KeyObject>();

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key of a secret, decoded once (the worker signs every delivery of an endpoint with the same one). */
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_KEYS) keys.clear();
    key = createSecretKey(Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64'));
    keys.set(secret, key);
  }
  return key;
}

/**
 * `v1,<base64 HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>")>`, as the `standardwebhooks`
 * verifier expects. The body may be the UTF-8 bytes that will be posted, so that they are encoded
 * once for the signature, the length and the socket.
 */
export function signWebhook(secret: string, id: string, timestampSec: number, body: string | Buffer): string {
  return 'v1,' + createHmac('sha256', keyOf(secret)).update(`${id}.${timestampSec}.`).update(body).digest('base64');
}

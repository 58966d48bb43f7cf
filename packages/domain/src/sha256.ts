import { hash } from 'node:crypto';

/**
 * SHA-256 in one call (`crypto.hash`): a quarter of the cost of `createHash().update().digest()`
 * for the short inputs of the request path (a message id, a request's fingerprint, an API key),
 * which pays for the Hash object's setup on every call.
 */
export function sha256(data: string | Buffer, encoding: 'hex' | 'base64url'): string;
export function sha256(data: string | Buffer, encoding: 'buffer'): Buffer;
export function sha256(data: string | Buffer, encoding: 'hex' | 'base64url' | 'buffer'): string | Buffer {
  return hash('sha256', data, encoding);
}

import { isId, newId, sha256 } from '@wa/domain';
import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Every key starts with this prefix so that it is recognisable in logs, secret scanners and
 * the token-shape dispatcher (a JWT always starts with `eyJ`, so the two never overlap).
 */
export const API_KEY_PREFIX = 'wag_';

const SECRET_BYTES = 32;
// `wag_<ULID>_<43 base64url chars>`: the id (a ULID, no `_`) is the lookup key, the rest is the secret.
const API_KEY_RE = /^wag_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedApiKey {
  /** Primary key of the stored key; also embedded in the token so lookups need no hash scan. */
  readonly id: string;
  /** The full token, shown to the user exactly once and never stored. */
  readonly token: string;
  /** What to store: `hashApiKeySecret(secret)`. */
  readonly hash: string;
}

export interface ParsedApiKey {
  readonly id: string;
  readonly secret: string;
}

/**
 * SHA-256 rather than a slow KDF: the secret is 32 random bytes (256 bits of entropy), so a
 * leaked hash cannot be brute-forced anyway, and a KDF would cost milliseconds on every request
 * of the hot path.
 */
export function hashApiKeySecret(secret: string): string {
  return sha256(secret, 'base64url');
}

/** Compares in constant time so that response timing does not reveal how much of a hash matched. */
export function verifyApiKeySecret(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'base64url');
  const actual = sha256(secret, 'buffer');
  // The stored hash length is public (always 32 bytes), so this early exit leaks nothing secret.
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(expected, actual);
}

export function generateApiKey(id: string = newId()): GeneratedApiKey {
  if (!isId(id)) throw new Error('an API key id must be a ULID');
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, token: `${API_KEY_PREFIX}${id}_${secret}`, hash: hashApiKeySecret(secret) };
}

/** Returns undefined for anything that is not exactly the shape `generateApiKey` produces. */
export function parseApiKey(token: string): ParsedApiKey | undefined {
  const match = API_KEY_RE.exec(token);
  return match ? { id: match[1], secret: match[2] } : undefined;
}

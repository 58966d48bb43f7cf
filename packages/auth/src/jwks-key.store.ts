import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { AppError } from '@wa/domain';

export interface JwksKey {
  readonly key: KeyObject;
  /** The JWK's own `alg`, when the issuer pins one; a token must then use exactly it. */
  readonly alg?: string;
}

export interface JwksKeyStoreOptions {
  readonly url: string;
  readonly maxAgeMs: number;
  readonly refetchIntervalMs: number;
  readonly timeoutMs: number;
  /** Injectable so that tests can step over the refetch interval without sleeping. */
  readonly now?: () => number;
}

/**
 * Keeps the issuer's signing keys. The JWKS is fetched on first use, refreshed after `maxAgeMs`
 * (keeping the old keys if the refresh fails, so a short outage of the issuer does not log
 * everyone out), and refetched when a token names an unknown `kid` (key rotation) — but never
 * more often than every `refetchIntervalMs`, so random `kid`s cannot turn us into a flood
 * against the issuer.
 */
export class JwksKeyStore {
  private readonly logger = new Logger(JwksKeyStore.name);
  private readonly now: () => number;
  private keys = new Map<string, JwksKey>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private lastAttemptFailed = false;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: JwksKeyStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The key for `kid`, or undefined when the issuer does not publish it.
   * Throws `service_unavailable` when the JWKS cannot be read and no answer can be given:
   * an unreachable issuer must not look like a bad token.
   */
  async getKey(kid: string): Promise<JwksKey | undefined> {
    const known = this.keys.get(kid);
    if (known) {
      if (this.now() - this.loadedAt > this.options.maxAgeMs && this.mayFetch()) {
        await this.refresh().catch(() => undefined);
      }
      // After a successful refresh a key the issuer withdrew is gone; after a failed one the
      // cached key stays valid.
      return this.keys.get(kid);
    }
    if (this.inFlight) {
      await this.inFlight.catch(() => undefined);
    } else if (this.mayFetch()) {
      await this.refresh().catch(() => undefined);
    }
    if (this.lastAttemptFailed && !this.keys.has(kid)) {
      throw new AppError('service_unavailable', 'the login token issuer cannot be reached; try again later');
    }
    return this.keys.get(kid);
  }

  private mayFetch(): boolean {
    return this.now() - this.attemptedAt >= this.options.refetchIntervalMs;
  }

  private refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.attemptedAt = this.now();
    this.inFlight = this.fetchKeys()
      .then(
        (keys) => {
          this.keys = keys;
          this.loadedAt = this.now();
          this.lastAttemptFailed = false;
        },
        (err: unknown) => {
          this.lastAttemptFailed = true;
          this.logger.warn(`JWKS fetch from ${this.options.url} failed: ${err instanceof Error ? err.message : String(err)}`);
          throw err;
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<Map<string, JwksKey>> {
    const res = await fetch(this.options.url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (!res.ok) throw new Error(`status ${res.status}`);
    const body = (await res.json()) as { keys?: unknown };
    if (!body || !Array.isArray(body.keys)) throw new Error('the document has no "keys" array');
    const keys = new Map<string, JwksKey>();
    for (const jwk of body.keys as Array<JsonWebKey & { kid?: unknown; use?: unknown; alg?: unknown }>) {
      if (typeof jwk?.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
      try {
        const key = createPublicKey({ key: jwk, format: 'jwk' });
        keys.set(jwk.kid, { key, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined });
      } catch {
        // One malformed entry must not take the issuer's other keys down with it.
        this.logger.warn(`JWKS key "${jwk.kid}" is not a valid public key; skipped`);
      }
    }
    return keys;
  }
}

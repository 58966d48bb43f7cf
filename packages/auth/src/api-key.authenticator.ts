import { Logger } from '@nestjs/common';
import { AppError } from '@wa/domain';
import { MAX_API_KEY_CACHE_TTL_MS, type ApiKeyAuthOptions } from './auth.options';
import { parseApiKey, verifyApiKeySecret } from './api-key.crypto';
import type { ApiKeyLookup, ApiKeyRecord } from './api-key-lookup.port';
import type { Principal } from './principal';

interface CacheEntry {
  readonly record: ApiKeyRecord;
  readonly until: number;
  touched: boolean;
}

/**
 * Authenticates API keys on the hot path without passport: a parse, a Map hit and one SHA-256
 * per request. Looked-up keys are reused for at most 5 s. `invalidate` makes a revocation
 * immediate: the gateway calls it on the replica that revoked and, through a broadcast, on every
 * other one; the 5 s bound is what is left when a broadcast is missed (its bus was down).
 */
export class ApiKeyAuthenticator {
  private readonly logger = new Logger(ApiKeyAuthenticator.name);
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<CacheEntry | undefined>>();
  // A lookup that started before an `invalidate` may carry the pre-revocation row; it must not
  // be cached (it still answers the requests that were already waiting for it).
  private invalidations = 0;

  constructor(
    private readonly lookup: ApiKeyLookup,
    options: ApiKeyAuthOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = Math.min(options.cacheTtlMs ?? MAX_API_KEY_CACHE_TTL_MS, MAX_API_KEY_CACHE_TTL_MS);
    this.maxEntries = options.cacheMaxEntries ?? 10_000;
  }

  async authenticate(token: string): Promise<Principal> {
    const parsed = parseApiKey(token);
    if (!parsed) throw new AppError('unauthorized', 'malformed API key');
    const entry = await this.find(parsed.id);
    // Unknown id and wrong secret answer alike, so that the answer does not reveal which ids exist.
    if (!entry || entry.record.id !== parsed.id || !verifyApiKeySecret(parsed.secret, entry.record.hash)) {
      throw new AppError('unauthorized', 'invalid API key');
    }
    const { record } = entry;
    // Checked only after the secret matched: only the key's holder learns its state.
    const now = this.now();
    if (record.revokedAt && record.revokedAt.getTime() <= now) throw new AppError('unauthorized', 'API key revoked');
    if (record.expiresAt && record.expiresAt.getTime() <= now) throw new AppError('unauthorized', 'API key expired');
    if (!entry.touched) this.touch(entry);
    return { kind: 'api_key', orgId: record.orgId, subject: record.id, capabilities: record.capabilities };
  }

  /** Forgets a cached key, e.g. right after it was revoked or its capabilities changed. */
  invalidate(id: string): void {
    this.cache.delete(id);
    this.inFlight.delete(id);
    this.invalidations++;
  }

  /** Forgets every cached key, e.g. after revocations may have been missed. */
  invalidateAll(): void {
    this.cache.clear();
    this.inFlight.clear();
    this.invalidations++;
  }

  private async find(id: string): Promise<CacheEntry | undefined> {
    const cached = this.cache.get(id);
    if (cached && cached.until > this.now()) return cached;
    const pending = this.inFlight.get(id);
    if (pending) return pending;
    // Concurrent requests with the same key share one lookup instead of stampeding the store.
    const invalidationsAtStart = this.invalidations;
    const lookup = this.lookup
      .findById(id)
      // A miss is not cached: an unknown id is never created later (ids are random ULIDs),
      // and failed attempts are bounded by the per-address failure limit instead.
      .then((record) => {
        if (!record) return undefined;
        if (this.invalidations !== invalidationsAtStart) return { record, until: 0, touched: false };
        return this.remember(id, record);
      })
      .finally(() => {
        if (this.inFlight.get(id) === lookup) this.inFlight.delete(id);
      });
    this.inFlight.set(id, lookup);
    return lookup;
  }

  private remember(id: string, record: ApiKeyRecord): CacheEntry {
    this.cache.delete(id);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    const entry: CacheEntry = { record, until: this.now() + this.ttlMs, touched: false };
    this.cache.set(id, entry);
    return entry;
  }

  /** Once per cache period and key, after a successful authentication, without waiting for it. */
  private touch(entry: CacheEntry): void {
    entry.touched = true;
    const { id } = entry.record;
    this.lookup.touch?.(id, new Date(this.now())).catch((err: unknown) => {
      this.logger.warn(`recording use of API key ${id} failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}

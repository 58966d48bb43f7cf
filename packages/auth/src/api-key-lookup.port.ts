import type { Capability } from '@wa/domain';

/** What the gateway stores per API key; the secret itself is never stored, only its hash. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly orgId: string;
  readonly capabilities: readonly Capability[];
  /** `hashApiKeySecret(secret)` as returned by `generateApiKey().hash`. */
  readonly hash: string;
  readonly expiresAt?: Date | null;
  readonly revokedAt?: Date | null;
}

/**
 * The port through which authentication reads keys; the gateway implements it over its
 * api-keys table so that this package knows nothing of the ORM.
 */
export interface ApiKeyLookup {
  /** The key with this id whatever its state (revoked and expired keys too), or undefined. */
  findById(id: string): Promise<ApiKeyRecord | undefined>;
  /**
   * Records that the key was used. Called at most once per cache period per key and not
   * awaited: a slow or failing write must not slow or fail the request.
   */
  touch?(id: string, at: Date): Promise<void>;
}

/** Injection token of the `ApiKeyLookup` the gateway provides. */
export const API_KEY_LOOKUP = Symbol('API_KEY_LOOKUP');

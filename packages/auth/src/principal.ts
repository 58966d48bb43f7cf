import type { Capability } from '@wa/domain';

/** Who is calling: a person logged in through the frontend, or a script holding an API key. */
export interface Principal {
  readonly kind: 'user' | 'api_key';
  readonly orgId: string;
  /** The JWT `sub` for users, the key id for API keys: what audit logs and `touch` refer to. */
  readonly subject: string;
  readonly capabilities: readonly Capability[];
  /** Only users have a role; API keys carry their capabilities directly. */
  readonly role?: string;
}

export function hasCapability(principal: Principal, capability: Capability): boolean {
  return principal.capabilities.includes(capability);
}

/**
 * What a principal may do. `send` covers every WhatsApp-side write; `manage` covers session
 * lifecycle, webhooks and API keys. Reads only need an authenticated principal of the org.
 */
export const CAPABILITIES = ['send', 'manage'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && (CAPABILITIES as readonly string[]).includes(value);
}

export type RoleCapabilityMap = Readonly<Record<string, readonly Capability[]>>;

export const DEFAULT_ROLE_CAPABILITIES: RoleCapabilityMap = {
  owner: ['send', 'manage'],
  admin: ['send', 'manage'],
  member: ['send'],
};

/** Roles that the map does not name get no capability at all. */
export function capabilitiesForRole(role: string | undefined, map: RoleCapabilityMap = DEFAULT_ROLE_CAPABILITIES): Capability[] {
  if (!role || !Object.prototype.hasOwnProperty.call(map, role)) return [];
  return [...map[role]];
}

/**
 * Parses `owner=send+manage,member=send,viewer=` into a role map; throws with the offending
 * part so that configuration errors name what is wrong.
 */
export function parseRoleCapabilityMap(text: string): RoleCapabilityMap {
  const map: Record<string, Capability[]> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`"${part}" is not role=capability+capability`);
    const role = part.slice(0, eq).trim();
    const caps = part.slice(eq + 1).split('+').map((c) => c.trim()).filter(Boolean);
    for (const cap of caps) {
      if (!isCapability(cap)) throw new Error(`"${cap}" in "${part}" is not one of ${CAPABILITIES.join(', ')}`);
    }
    map[role] = caps as Capability[];
  }
  return map;
}

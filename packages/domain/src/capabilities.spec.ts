import { capabilitiesForRole, parseRoleCapabilityMap } from './capabilities';

describe('capabilitiesForRole', () => {
  it('maps the default roles as the API documents', () => {
    expect(capabilitiesForRole('owner')).toEqual(['send', 'manage']);
    expect(capabilitiesForRole('admin')).toEqual(['send', 'manage']);
    expect(capabilitiesForRole('member')).toEqual(['send']);
  });

  it('gives nothing to unknown or missing roles, including inherited object keys', () => {
    expect(capabilitiesForRole('viewer')).toEqual([]);
    expect(capabilitiesForRole(undefined)).toEqual([]);
    expect(capabilitiesForRole('constructor')).toEqual([]);
  });
});

describe('parseRoleCapabilityMap', () => {
  it('reads role=cap+cap lists, allowing a role with none', () => {
    expect(parseRoleCapabilityMap('owner=send+manage, agent=send, auditor=')).toEqual({ owner: ['send', 'manage'], agent: ['send'], auditor: [] });
  });

  it('names the offending part of a bad map', () => {
    expect(() => parseRoleCapabilityMap('owner=send+delete')).toThrow(/"delete"/);
    expect(() => parseRoleCapabilityMap('owner')).toThrow(/"owner"/);
  });
});

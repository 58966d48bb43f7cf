import { BlockList, isIP } from 'node:net';

/** Ranges no webhook may reach unless configuration says otherwise (RFC 6890 special-purpose and friends). */
const DENIED_V4 = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24',
  '224.0.0.0/4', '240.0.0.0/4',
];
// IPv4-mapped/compatible, NAT64, 6to4 and Teredo embed an IPv4 address that could be anything,
// so they are refused as a whole rather than decoded.
const DENIED_V6 = [
  '::/128', '::1/128', '::/96', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/32', '2001:db8::/32',
  '2002::/16', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8',
];

function addCidr(list: BlockList, cidr: string): void {
  const [address, bits] = cidr.split('/');
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (bits === undefined) list.addAddress(address, family);
  else list.addSubnet(address, Number(bits), family);
}

/**
 * Decides whether a webhook may connect to an address. The decision that matters is made on
 * the addresses a host name resolves to, at connect time; URL checks only give early, clear 400s.
 */
export class AddressPolicy {
  private readonly denied = new BlockList();
  private readonly allowed = new BlockList();
  // Kept apart: BlockList matches every IPv4 address against an IPv4-mapped IPv6 subnet.
  private readonly mapped = new BlockList();

  constructor(
    private readonly allowPrivateNetworks: boolean,
    allowedCidrs: readonly string[] = [],
  ) {
    for (const cidr of DENIED_V4) addCidr(this.denied, cidr);
    for (const cidr of DENIED_V6) addCidr(this.denied, cidr);
    for (const cidr of allowedCidrs) addCidr(this.allowed, cidr);
    this.mapped.addSubnet('::ffff:0:0', 96, 'ipv6');
  }

  isAllowed(address: string): boolean {
    if (this.allowPrivateNetworks) return true;
    const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const family = isIP(bare);
    if (!family) return false;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(bare, type)) return true;
    if (type === 'ipv6' && this.mapped.check(bare, type)) return false;
    return !this.denied.check(bare, type);
  }

  /** Why a webhook URL is refused before any connection, or undefined when it may be tried. */
  urlProblem(raw: string): string | undefined {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'url must be an absolute http(s) URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must use http or https';
    if (url.username || url.password) return 'url must not carry credentials';
    // WHATWG URL has already turned decimal, hex and octal IPv4 forms into dotted quads.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.isAllowed(host)) {
      return `url points at a private, loopback, link-local or otherwise reserved address (${host}); this server does not allow it`;
    }
    return undefined;
  }
}

import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** Ranges no outgoing request (webhooks, media downloads) may reach unless configuration says otherwise (RFC 6890 special-purpose and friends). */
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

/** An address (`10.1.2.3`, `fd00::5`) or a range (`10.1.0.0/16`, `fd00::/8`), parsed. */
interface Cidr {
  address: string;
  family: 'ipv4' | 'ipv6';
  bits?: number;
}

function parseCidr(cidr: string): Cidr | undefined {
  const [address, bits, extra] = cidr.split('/');
  const version = isIP(address ?? '');
  if (!version || extra !== undefined) return undefined;
  if (bits === undefined) return { address, family: version === 6 ? 'ipv6' : 'ipv4' };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (version === 6 ? 128 : 32)) return undefined;
  return { address, family: version === 6 ? 'ipv6' : 'ipv4', bits: Number(bits) };
}

/** Why `cidr` is not an IP address or CIDR range this policy can use, or undefined when it is. */
export function cidrProblem(cidr: string): string | undefined {
  return parseCidr(cidr) ? undefined : `"${cidr}" is not an IP address or a CIDR range like 10.1.0.0/16 or fd00::/8`;
}

function addCidr(list: BlockList, cidr: string): void {
  const parsed = parseCidr(cidr);
  // Configuration readers refuse bad ranges first (cidrProblem); this keeps a caller that skipped
  // them from getting BlockList's bare RangeError or, worse, a silently different range.
  if (!parsed) throw new Error(cidrProblem(cidr));
  if (parsed.bits === undefined) list.addAddress(parsed.address, parsed.family);
  else list.addSubnet(parsed.address, parsed.bits, parsed.family);
}

/**
 * Decides whether an outgoing request (a webhook delivery, a media download) may connect to an address. The decision that matters is made on
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

/** A connection the address policy refused; nothing was connected. */
export class RefusedAddressError extends Error {
  readonly code = 'EADDRESSREFUSED';
}

/**
 * A `lookup` for http(s) agents and requests that resolves every address of a host name and
 * refuses the connection unless all of them are allowed: the decision is made on what the
 * socket will actually connect to, so DNS tricks after a URL check do not get through.
 */
export function checkedLookup(policy: AddressPolicy): LookupFunction {
  return ((hostname: string, options: LookupOneOptions | LookupAllOptions, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      const refused = addresses.find((a) => !policy.isAllowed(a.address));
      if (refused || addresses.length === 0) {
        return callback(new RefusedAddressError(`${hostname} resolves to ${refused?.address ?? 'nothing'}, which is not an allowed address`));
      }
      if ((options as LookupAllOptions).all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  }) as LookupFunction;
}

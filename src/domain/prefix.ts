import ipaddr from 'ipaddr.js';
import { canonicalIp } from './whitelist';

/** How many leading bits of an address name the network it counts as, per family. */
export interface PrefixLengths {
  readonly ipv4: number;
  readonly ipv6: number;
}

/**
 * The network `address` counts as under `lengths`, in canonical text: `198.51.100.0/24`,
 * `2001:db8:0:1::/64`, `198.51.100.7/32`. The length is always written, so a /32 and the address
 * never share a text by accident. IPv4-mapped IPv6 (`::ffff:198.51.100.7`, as Node reports IPv4
 * peers on a dual-stack socket) counts as IPv4, so one client never has two budgets. Anything that
 * is not an address throws InputError (canonicalIp's strict reading); a length outside its family
 * throws RangeError (a programming error: configuration validates the lengths).
 */
export function prefixOf(address: string, lengths: PrefixLengths): string {
  const addr = ipaddr.parse(canonicalIp(address));
  const v4 = addr.kind() === 'ipv4';
  const bits = v4 ? lengths.ipv4 : lengths.ipv6;
  const width = v4 ? 32 : 128;
  if (!Number.isInteger(bits) || bits < 0 || bits > width)
    throw new RangeError(`prefix length ${bits} is not between 0 and ${width}`);
  const bytes = addr.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, bits - i * 8));
    bytes[i]! &= (0xff00 >> keep) & 0xff;
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${bits}`;
}

/**
 * Default source network: an IPv4 /24 or an IPv6 /64, what one customer or one attacker usually
 * holds, so that hopping between the addresses of one's own network does not make a new source.
 */
export const SOURCE_PREFIX: PrefixLengths = Object.freeze({ ipv4: 24, ipv6: 64 });

/**
 * The client an address counts as for per-client bounds (audit traffic, log lines): prefixOf, and
 * for what is not an address (never a socket's peer) its own first 64 characters.
 */
export function clientOf(ip: string, lengths: PrefixLengths): string {
  try {
    return prefixOf(ip, lengths);
  } catch {
    return ip.slice(0, 64);
  }
}

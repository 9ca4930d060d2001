import ipaddr from 'ipaddr.js';
import { InputError } from './errors';

/** A permanent whitelist entry: one address or a CIDR range, in canonical text form. */
export interface WhitelistEntry {
  /** canonical text: `198.51.100.7`, `198.51.100.0/24`, `2001:db8::/32` */
  readonly text: string;
  readonly range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

/**
 * Canonical text of a client address: IPv4-mapped IPv6 (`::ffff:192.0.2.1`, as Node reports IPv4
 * peers on a dual-stack socket) becomes plain IPv4, IPv6 is RFC 5952 compressed lower case, so the
 * temporary whitelist has one key per address whatever notation reached us.
 */
/**
 * ipaddr.js also takes inet_aton shorthand (`1.2.3` is 1.2.0.3, `0x7f.1` is 127.0.0.1); an admin
 * typing a truncated address must get an error, not a different network, so IPv4 must be four
 * decimal parts.
 */
function isStrictIp(s: string): boolean {
  if (s.includes(':')) return ipaddr.IPv6.isValid(s);
  return ipaddr.IPv4.isValidFourPartDecimal(s);
}

export function canonicalIp(input: string): string {
  const ip = tryCanonicalIp(input);
  if (ip === null) throw new InputError(`invalid IP address "${input.slice(0, 60)}"`, 'ip');
  return ip;
}

/** canonicalIp, or null for anything that is not an address. */
export function tryCanonicalIp(input: string): string | null {
  return isStrictIp(input) ? ipaddr.process(input).toString() : null;
}

/**
 * Parses an admin's whitelist entry. Host bits set under the prefix (`198.51.100.7/24`) are refused
 * rather than silently widened, and /0 is refused because it would switch the second factor off
 * for the whole Internet.
 */
export function parseWhitelistEntry(input: unknown): WhitelistEntry {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new InputError('entry is required: an IPv4/IPv6 address or a CIDR range', 'entry');
  }
  const s = input.trim();
  const shown = s.slice(0, 60);
  if (!s.includes('/')) {
    if (!isStrictIp(s)) throw new InputError(`invalid IP address "${shown}"`, 'entry');
    const addr = ipaddr.process(s);
    const bits = addr.kind() === 'ipv4' ? 32 : 128;
    return { text: addr.toString(), range: [addr, bits] };
  }
  const [addrPart = '', prefixPart = ''] = s.split('/');
  if (!/^[0-9]{1,3}$/.test(prefixPart)) throw new InputError(`invalid CIDR prefix in "${shown}"`, 'entry');
  if (!isStrictIp(addrPart)) throw new InputError(`invalid CIDR range "${shown}"`, 'entry');
  let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    range = ipaddr.parseCIDR(`${addrPart}/${Number(prefixPart)}`);
  } catch {
    throw new InputError(`invalid CIDR range "${shown}"`, 'entry');
  }
  let [addr, bits] = range;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  if (bits === 0) throw new InputError(`"${shown}" would whitelist every address; refused`, 'entry');
  const network =
    addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${bits}`);
  if (network.toString() !== addr.toString()) {
    throw new InputError(
      `"${shown}" has host bits set; did you mean ${network.toString()}/${bits}?`,
      'entry',
    );
  }
  const full = addr.kind() === 'ipv4' ? 32 : 128;
  return { text: bits === full ? addr.toString() : `${addr.toString()}/${bits}`, range: [addr, bits] };
}

export function ipMatches(ip: string, entries: readonly WhitelistEntry[]): WhitelistEntry | null {
  if (!isStrictIp(ip)) return null;
  const addr = ipaddr.process(ip);
  for (const e of entries) {
    if (e.range[0].kind() === addr.kind() && addr.match(e.range)) return e;
  }
  return null;
}

/**
 * The text of every entry parseWhitelistEntry can make that contains `ip` (canonical, see
 * canonicalIp): the address itself and each of its networks from /1 on. A whitelist holds one of
 * them exactly when ipMatches finds an entry for `ip`, so a store can look them up by text.
 */
export function entriesContaining(ip: string): string[] {
  const addr = ipaddr.parse(ip);
  const v4 = addr.kind() === 'ipv4';
  const out = [addr.toString()];
  for (let bits = 1; bits < (v4 ? 32 : 128); bits++) {
    const net = v4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${ip}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${ip}/${bits}`);
    out.push(`${net.toString()}/${bits}`);
  }
  return out;
}

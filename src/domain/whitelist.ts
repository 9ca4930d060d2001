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

/**
 * An IPv4 address already in canonical form (no leading zeros): what drachtio-server gives as a
 * request's source, on every REGISTER and INVITE, and what ipaddr.js would give back unchanged.
 */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** canonicalIp, or null for anything that is not an address. */
export function tryCanonicalIp(input: string): string | null {
  if (CANONICAL_IPV4.test(input)) return input;
  return isStrictIp(input) ? ipaddr.process(input).toString() : null;
}

/**
 * Parses an admin's whitelist entry. Host bits set under the prefix (`198.51.100.7/24`) are refused
 * rather than silently widened, and /0 is refused because it would switch the second factor off
 * for the whole Internet.
 */
export function parseWhitelistEntry(input: unknown, field = 'entry'): WhitelistEntry {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new InputError(`${field} is required: an IPv4/IPv6 address or a CIDR range`, field);
  }
  const s = input.trim();
  const shown = s.slice(0, 60);
  if (!s.includes('/')) {
    if (!isStrictIp(s)) throw new InputError(`invalid IP address "${shown}"`, field);
    const addr = ipaddr.process(s);
    const bits = addr.kind() === 'ipv4' ? 32 : 128;
    return { text: addr.toString(), range: [addr, bits] };
  }
  const [addrPart = '', prefixPart = ''] = s.split('/');
  if (!/^[0-9]{1,3}$/.test(prefixPart)) throw new InputError(`invalid CIDR prefix in "${shown}"`, field);
  if (!isStrictIp(addrPart)) throw new InputError(`invalid CIDR range "${shown}"`, field);
  let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    range = ipaddr.parseCIDR(`${addrPart}/${Number(prefixPart)}`);
  } catch {
    throw new InputError(`invalid CIDR range "${shown}"`, field);
  }
  let [addr, bits] = range;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
    bits -= 96;
  }
  if (bits === 0) throw new InputError(`"${shown}" would let in every address; refused`, field);
  const network =
    addr.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${bits}`);
  if (network.toString() !== addr.toString()) {
    throw new InputError(`"${shown}" has host bits set; did you mean ${network.toString()}/${bits}?`, field);
  }
  const full = addr.kind() === 'ipv4' ? 32 : 128;
  return { text: bits === full ? addr.toString() : `${addr.toString()}/${bits}`, range: [addr, bits] };
}

/**
 * The most a whitelist may cover, per family, as the prefix length of one network that large: at
 * most a /8 worth of IPv4 addresses (2^24, a large company's or a mid-size provider's network)
 * and a /16 worth of IPv6 (2^112, more than any provider's allocation). What is judged is the union
 * of the entries, not each entry's text: `0.0.0.0/1` plus `128.0.0.0/1` is everything although
 * neither is /0.
 */
export const WHITELIST_BOUND: Readonly<Record<'ipv4' | 'ipv6', number>> = { ipv4: 8, ipv6: 16 };

const WIDTH = { ipv4: 32, ipv6: 128 } as const;

/**
 * How many addresses `entries` cover together, per family. Two CIDR blocks are either nested or
 * disjoint, so the union is the sum of the sizes of the entries no other entry contains: sorted
 * by first address (the larger block first where two start alike), an entry starting before the
 * end of the last one kept lies inside it.
 */
export function whitelistCoverage(entries: readonly WhitelistEntry[]): Record<'ipv4' | 'ipv6', bigint> {
  const out = { ipv4: 0n, ipv6: 0n };
  for (const family of ['ipv4', 'ipv6'] as const) {
    const blocks = entries
      .filter((e) => e.range[0].kind() === family)
      .map((e) => {
        const start = e.range[0].toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);
        return { start, size: 1n << BigInt(WIDTH[family] - e.range[1]) };
      })
      .sort((a, b) => (a.start !== b.start ? (a.start < b.start ? -1 : 1) : a.size > b.size ? -1 : 1));
    let end = 0n;
    for (const b of blocks) {
      if (b.start < end) continue;
      out[family] += b.size;
      end = b.start + b.size;
    }
  }
  return out;
}

/** What a whitelist covers per family (whitelistCoverage), kept with it so that a change is counted alone. */
export type Coverage = Readonly<Record<'ipv4' | 'ipv6', bigint>>;

/**
 * How many addresses `entry` adds to a whitelist's coverage (or takes from it when removed), given
 * whether another entry of it contains `entry` and the entries `entry` contains: nothing if it
 * lies inside another, else its size less what those inside it cover (blocks are nested or
 * disjoint). Counted from the entries around it alone, not the whole list.
 */
export function coverageChange(
  entry: WhitelistEntry,
  insideAnother: boolean,
  inside: readonly WhitelistEntry[],
): Coverage {
  const family = entry.range[0].kind() as 'ipv4' | 'ipv6';
  const out = { ipv4: 0n, ipv6: 0n };
  if (!insideAnother)
    out[family] = (1n << BigInt(WIDTH[family] - entry.range[1])) - whitelistCoverage(inside)[family];
  return out;
}

/**
 * Refuses (InputError naming the bound) a list of entries that together cover more than `bound`
 * allows in either family: a tenant's permanent whitelist with an entry added, or a configured
 * list of trusted addresses. `what` names the list in the message.
 */
export function checkWhitelistCoverage(
  entries: readonly WhitelistEntry[],
  what = 'the whitelist',
  bound: Readonly<Record<'ipv4' | 'ipv6', number>> = WHITELIST_BOUND,
  field = 'entry',
): void {
  checkCoverage(whitelistCoverage(entries), what, bound, field);
}

/** checkWhitelistCoverage for a coverage already counted. */
export function checkCoverage(
  covered: Coverage,
  what = 'the whitelist',
  bound: Readonly<Record<'ipv4' | 'ipv6', number>> = WHITELIST_BOUND,
  field = 'entry',
): void {
  for (const family of ['ipv4', 'ipv6'] as const) {
    const limit = 1n << BigInt(WIDTH[family] - bound[family]);
    if (covered[family] > limit)
      throw new InputError(
        `${what} would cover ${describeCount(covered[family])} ${family === 'ipv4' ? 'IPv4' : 'IPv6'} addresses; ` +
          `at most a /${bound[family]} worth (${describeCount(limit)}) is allowed`,
        field,
      );
  }
}

/** A count of addresses for a message: exact up to 2^32, beyond as (more than) a power of two. */
function describeCount(n: bigint): string {
  if (n <= 1n << 32n) return n.toLocaleString('en');
  const log = n.toString(2).length - 1;
  return 1n << BigInt(log) === n ? `2^${log}` : `more than 2^${log}`;
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
 * The text of every entry parseWhitelistEntry can make that contains `entry` and is larger: a
 * whitelist holds one of them exactly when another of its entries contains `entry`.
 */
export function entriesAround(entry: WhitelistEntry): string[] {
  return entriesContaining(entry.range[0].toString()).slice(1, entry.range[1]);
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

import ipaddr from 'ipaddr.js';
import { canonicalIp } from './whitelist';

/** Prefix lengths that make one client of an address (see clientOf). */
export interface ClientPrefix {
  readonly v4: number;
  readonly v6: number;
}

/**
 * An IPv4 /24 or an IPv6 /64: what one customer or one attacker usually holds, so that hopping
 * between the addresses of one's own network does not make one a new client.
 */
export const DEFAULT_CLIENT_PREFIX: ClientPrefix = Object.freeze({ v4: 24, v6: 64 });

/**
 * The client an address counts as for per-client limits (audit traffic, log lines): its network
 * under the prefix, as text (`198.51.100.0/24`, `2001:db8:1:2::/64`). IPv4-mapped IPv6 counts as
 * IPv4. What is not an address (never a socket's peer) is a client of its own, its first 64
 * characters.
 */
export function clientOf(ip: string, prefix: ClientPrefix = DEFAULT_CLIENT_PREFIX): string {
  let addr: string;
  try {
    addr = canonicalIp(ip);
  } catch {
    return ip.slice(0, 64);
  }
  if (addr.includes(':')) return `${ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${prefix.v6}`)}/${prefix.v6}`;
  return `${ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${prefix.v4}`)}/${prefix.v4}`;
}

/** How much phone traffic (what anyone can cause per request) is recorded and logged. */
export interface TrafficPolicy {
  /** Traffic events kept per tenant (approximate trim), apart from the audit trail. */
  readonly maxLen: number;
  /** Traffic events per tenant, and log lines per process, one client may cause per window. */
  readonly perClient: number;
  readonly windowSeconds: number;
  readonly clientPrefix: ClientPrefix;
}

export const DEFAULT_TRAFFIC_POLICY: TrafficPolicy = Object.freeze({
  maxLen: 100_000,
  perClient: 20,
  windowSeconds: 60,
  clientPrefix: DEFAULT_CLIENT_PREFIX,
});

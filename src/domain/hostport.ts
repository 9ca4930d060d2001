import { tryCanonicalIp } from './whitelist';

/**
 * `host[:port]`, `[v6][:port]` or a bare IPv6 address (more than one colon, no brackets: no port)
 * in its parts, as written; `bracketed`: the host was in brackets.
 */
export function splitHostPort(s: string): { host: string; port?: string; bracketed?: true } {
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (v6) return { host: v6[1]!, bracketed: true, ...(v6[2] === undefined ? {} : { port: v6[2] }) };
  // More than one colon and no brackets: a bare IPv6 address, without a port.
  if (s.indexOf(':') !== s.lastIndexOf(':')) return { host: s };
  const [host = '', port] = s.split(':');
  return port === undefined ? { host } : { host, port };
}

/**
 * A lower-case `host[:port]` as a phone can take it, canonical: a DNS name or an address (an IPv6
 * one bracketed when a port follows), a port 1-65535 if given; null for anything else. Nothing else
 * gets in, so the value can go into any file format (no quote, bracket, space or separator).
 */
export function canonicalHostPort(s: string): string | null {
  const parts = splitHostPort(s);
  const { host, port } = parts;
  // A link-local zone (`fe80::1%eth0`) names an interface of this machine, not of the phone.
  const ip = host.includes('%') ? null : tryCanonicalIp(host);
  if (parts.bracketed && !ip?.includes(':')) return null;
  const name =
    /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  // A name whose last label is all digits is a mistyped or shorthand address (`10.0.0`, `0x7f.1`),
  // which a phone would read as another address or not at all.
  if (ip === null && (!name.test(host) || /(?:^|\.)[0-9]+$/.test(host))) return null;
  if (port !== undefined && !(/^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return null;
  const canonical = ip ?? host;
  if (port === undefined) return canonical;
  return `${canonical.includes(':') ? `[${canonical}]` : canonical}:${Number(port)}`;
}

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

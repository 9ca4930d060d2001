import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * HTTP/SIP digest authentication (RFC 2617 / RFC 7616 section 3.4, SIP usage per RFC 3261 22.4),
 * algorithm MD5 with qop=auth, as pure functions, for the SIP edge's REGISTER and INVITE and the
 * provisioning edge's challenge. Nonces are signed, not stored (src/domain/nonce.ts); only the SIP
 * nonce-count tracking needs state, which lives in src/store/sip.ts.
 */

export interface DigestCredentials {
  readonly scheme: string;
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: string | null;
  readonly qop: string | null;
  /** nonce-count: 8 hex digits (required with qop) */
  readonly nc: string | null;
  readonly cnonce: string | null;
  readonly opaque: string | null;
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** HA1 = MD5(username ":" realm ":" password) */
export function ha1(username: string, realm: string, password: string): string {
  return md5(`${username}:${realm}:${password}`);
}

/** HA2 = MD5(method ":" digest-uri) (qop=auth: the body does not take part) */
function ha2(method: string, uri: string): string {
  return md5(`${method}:${uri}`);
}

/**
 * The expected `response` value. With qop: MD5(HA1:nonce:nc:cnonce:qop:HA2); without (RFC 2069
 * compatibility): MD5(HA1:nonce:HA2).
 */
export function digestResponse(p: {
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  qop: string | null;
  nc: string | null;
  cnonce: string | null;
}): string {
  const h2 = ha2(p.method, p.uri);
  if (p.qop === null) return md5(`${p.ha1}:${p.nonce}:${h2}`);
  return md5(`${p.ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${h2}`);
}

/** Constant-time comparison of two hex digests (lengths differing: false, still without early exit on content). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/**
 * Parses an `Authorization` / `Proxy-Authorization` header value. Answers null when the header is
 * not a Digest header or misses a mandatory parameter. Quoted strings may contain `\"` escapes.
 */
export function parseDigestHeader(header: string | undefined): DigestCredentials | null {
  if (header === undefined) return null;
  const m = /^\s*(\S+)\s+(.*)$/s.exec(header);
  if (!m || m[1]!.toLowerCase() !== 'digest') return null;
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  const rest = m[2]!;
  let pos = 0;
  while (pos < rest.length) {
    re.lastIndex = pos;
    const p = re.exec(rest);
    if (!p) return null;
    const name = p[1]!.toLowerCase();
    const value = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
    if (params.has(name)) return null; // a repeated parameter is malformed
    params.set(name, value);
    pos = re.lastIndex;
    if (pos === p.index) return null;
  }
  const get = (k: string) => params.get(k) ?? null;
  const username = get('username');
  const realm = get('realm');
  const nonce = get('nonce');
  const uri = get('uri');
  const response = get('response');
  if (username === null || realm === null || nonce === null || uri === null || response === null) return null;
  const qop = get('qop');
  const nc = get('nc');
  const cnonce = get('cnonce');
  if (qop !== null && (nc === null || cnonce === null || !/^[0-9a-fA-F]{8}$/.test(nc))) return null;
  return {
    scheme: 'Digest',
    username,
    realm,
    nonce,
    uri,
    response,
    algorithm: get('algorithm'),
    qop,
    nc,
    cnonce,
    opaque: get('opaque'),
  };
}

/** `WWW-Authenticate` / `Proxy-Authenticate` value offering MD5 with qop=auth. */
export function challengeHeader(realm: string, nonce: string, stale = false): string {
  const q = (s: string) => s.replace(/["\\]/g, '\\$&');
  return `Digest realm="${q(realm)}", nonce="${q(nonce)}", algorithm=MD5, qop="auth"${stale ? ', stale=true' : ''}`;
}

type DigestCheck = 'ok' | 'bad_response' | 'unsupported';

/**
 * Checks the credentials' shape and response (not the nonce: see SipStore.checkNonce and useNonce).
 * `password` is the account's cleartext SIP password, or a device's provisioning credential.
 */
export function checkDigest(
  c: DigestCredentials,
  p: { method: string; realm: string; password: string },
): DigestCheck {
  if (c.algorithm !== null && c.algorithm.toUpperCase() !== 'MD5') return 'unsupported';
  if (c.qop !== null && c.qop.toLowerCase() !== 'auth') return 'unsupported';
  if (c.realm !== p.realm) return 'bad_response';
  const expected = digestResponse({
    ha1: ha1(c.username, c.realm, p.password),
    nonce: c.nonce,
    method: p.method,
    uri: c.uri,
    qop: c.qop === null ? null : 'auth',
    nc: c.nc,
    cnonce: c.cnonce,
  });
  return sameDigest(expected, c.response) ? 'ok' : 'bad_response';
}

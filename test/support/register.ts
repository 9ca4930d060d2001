/** What the registrar tests send: REGISTERs as drachtio-srf hands them over, and digest answers. */
import type { RegisterRequest } from '../../src/sip/registrar';
import { digestResponse, ha1 } from '../../src/domain/digest';

export const REALM = 'papgate';

export interface Reply {
  status: number;
  headers: Record<string, string>;
}

export function registerRequest(over: {
  headers?: Record<string, string>;
  method?: string;
  uri?: string;
  contact?: string | null;
  source: string;
  protocol?: string;
}): RegisterRequest {
  const headers: Record<string, string> = { 'call-id': 'call-1' };
  for (const [k, v] of Object.entries(over.headers ?? {})) headers[k.toLowerCase()] = v;
  const contact = over.contact === undefined ? 'sip:001565aabbcc@192.0.2.10:5062' : over.contact;
  if (contact !== null) headers.contact = contact === '*' ? '*' : `<${contact}>`;
  return {
    method: over.method ?? 'REGISTER',
    uri: over.uri ?? 'sip:127.0.0.1',
    source_address: over.source,
    source_port: 40000,
    protocol: over.protocol ?? 'udp',
    get: (n) => headers[n.toLowerCase()],
    getParsedHeader: () => (contact === null || contact === '*' ? [] : [{ uri: contact, params: {} }]),
  };
}

/** A reply object for handleRegister and the final answer it got. */
export function reply(): {
  res: { send: (s: number, r?: string, o?: { headers?: Record<string, string> }) => void };
  got: Promise<Reply>;
} {
  let resolve!: (r: Reply) => void;
  const got = new Promise<Reply>((r) => (resolve = r));
  return { res: { send: (status, _r, o) => resolve({ status, headers: o?.headers ?? {} }) }, got };
}

export function nonceOf(challenge: string): string {
  return /nonce="([^"]+)"/.exec(challenge)![1]!;
}

export function authorization(o: {
  user: string;
  password: string;
  nonce: string;
  uri: string;
  nc: number;
  method?: string;
  cnonce?: string;
}): string {
  const nc = o.nc.toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? 'c0ffee';
  const response = digestResponse({
    ha1: ha1(o.user, REALM, o.password),
    nonce: o.nonce,
    method: o.method ?? 'REGISTER',
    uri: o.uri,
    qop: 'auth',
    nc,
    cnonce,
  });
  return `Digest username="${o.user}", realm="${REALM}", nonce="${o.nonce}", uri="${o.uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

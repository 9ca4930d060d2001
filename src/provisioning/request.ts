import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { BoundedMap, shortText } from '../lib/bounded';
import type { Device } from '../domain/device';
import {
  certificateAuditFields,
  certificateResult,
  type CertificateResult,
  type DeviceCertificatePolicy,
} from '../domain/devicecert';
import { parseDigestHeader, type DigestCredentials } from '../domain/digest';
import { tryParseMac, type Mac } from '../domain/mac';
import { canonicalIp, ipMatches, type WhitelistEntry } from '../domain/whitelist';
import { presentedCertificate } from './tls';
import { VENDOR_MODULES, type UserAgentInfo, type VendorModule } from './vendors';

/** canonicalIp of socket peers, which repeat (keep-alive, reboot waves): parsing them costs. */
const peers = new BoundedMap<string, string>(100_000);

function canonicalPeer(peer: string): string {
  return peers.memo(peer, () => canonicalIp(peer));
}

/**
 * The client's address: the socket peer, or, when that peer is a trusted proxy, the right-most
 * X-Forwarded-For hop that is not itself a trusted proxy. Throws on an unusable peer address.
 */
export function clientIp(
  peer: string | undefined,
  xff: string | string[] | undefined,
  trustProxy: readonly WhitelistEntry[],
): string {
  const socketIp = canonicalPeer(peer ?? '');
  if (trustProxy.length === 0 || xff === undefined || !ipMatches(socketIp, trustProxy)) return socketIp;
  const hops = (Array.isArray(xff) ? xff.join(',') : xff)
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  let client = socketIp;
  for (let i = hops.length - 1; i >= 0; i--) {
    let hop: string;
    try {
      hop = canonicalIp(hops[i]!);
    } catch {
      // A forged or garbled hop: trust nothing further left of it.
      return client;
    }
    client = hop;
    if (!ipMatches(hop, trustProxy)) return hop;
  }
  return client;
}

/** The password of HTTP basic credentials whose user is this device's MAC (any notation). */
export function presentedBasicCredential(header: string | undefined, mac: string): string | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]{1,400})$/i.exec(header.trim());
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  const user = tryParseMac(decoded.slice(0, colon));
  const password = decoded.slice(colon + 1);
  if (user !== mac || password === '' || password.length > 128) return null;
  return password;
}

/**
 * HTTP Digest credentials answering papgate's challenge for this device: the user name is the MAC
 * exactly as the full configuration writes it (a Gigaset base first tries a user name of its own,
 * which gets the challenge again), for the URL requested. Not checked here: the nonce and the
 * response.
 */
export function presentedDigest(
  header: string | undefined,
  mac: string,
  url: string,
): DigestCredentials | null {
  const c = parseDigestHeader(header);
  return c !== null && c.username === mac && c.uri === url ? c : null;
}

/** Whether the request answers a challenge with Digest (decided the long way: see server.ts). */
export function answersWithDigest(header: string | undefined): boolean {
  return header !== undefined && /^\s*digest\s/i.test(header);
}

/** User-Agents kept per family. */
const MAX_USER_AGENTS = 4096;

/**
 * User-Agents read per family: a phone sends the same one on every request and each request reads
 * it twice (userAgentMismatch, certificateOf). Bounded: anyone can send any text.
 */
const userAgents = new Map(
  VENDOR_MODULES.map((m) => [m, new BoundedMap<string, UserAgentInfo | null>(MAX_USER_AGENTS, shortText)]),
);

function readUserAgent(module: VendorModule, ua: string): UserAgentInfo | null {
  return userAgents.get(module)!.memo(ua, () => module.parseUserAgent(ua));
}

function firstNumber(s: string): string | null {
  return /[0-9]+/.exec(s)?.[0] ?? null;
}

/**
 * True when the User-Agent clearly belongs to another phone: another MAC, another vendor family,
 * or another model family (the first number of the model names differs: T54W vs T46U, W60B vs
 * T54W). A missing or unrecognised User-Agent is no mismatch.
 */
export function userAgentMismatch(
  module: VendorModule,
  device: Pick<Device, 'mac' | 'model'>,
  ua: string | undefined,
): boolean {
  if (!ua) return false;
  const info = readUserAgent(module, ua);
  if (info === null) return VENDOR_MODULES.some((m) => m !== module && readUserAgent(m, ua) !== null);
  if (info.mac !== undefined && info.mac !== device.mac) return true;
  if (info.model !== undefined) {
    const a = firstNumber(info.model);
    const b = firstNumber(device.model);
    if (a !== null && b !== null && a !== b) return true;
  }
  return false;
}

/**
 * The model a mismatching User-Agent names, when accepting it is all it takes: the device's own
 * vendor family reads it, with the device's MAC or none, and a model (a phone swapped between
 * desks). Null for another MAC or another family: those are another device, not another model.
 */
export function acceptableModel(
  module: VendorModule,
  device: Pick<Device, 'mac'>,
  ua: string,
): string | null {
  const info = module.parseUserAgent(ua);
  if (info?.model === undefined || (info.mac !== undefined && info.mac !== device.mac)) return null;
  return info.model;
}

/** The User-Agent a request carries (none when the header is repeated). */
export function userAgentOf(req: { readonly headers: IncomingHttpHeaders }): string | undefined {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua : undefined;
}

/**
 * The device certificate a request presents, checked against the device's MAC and the one its
 * User-Agent names, and what of it the audit records under `policy`.
 */
export function certificateOf(
  req: { readonly headers: IncomingHttpHeaders; readonly socket: Socket },
  module: VendorModule,
  mac: Mac,
  userAgent: string | undefined,
  policy: DeviceCertificatePolicy,
): { certificate: CertificateResult; audit: ReturnType<typeof certificateAuditFields> } {
  const certificate = certificateResult(
    presentedCertificate(req.socket),
    mac,
    userAgent === undefined ? undefined : readUserAgent(module, userAgent)?.mac,
  );
  return { certificate, audit: certificateAuditFields(policy, certificate) };
}

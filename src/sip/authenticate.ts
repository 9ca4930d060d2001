import type { Device } from '../domain/device';
import { tryParseMac, type Mac } from '../domain/mac';
import type { SipStore } from '../store/sip';
import { challengeHeader, checkDigest, newNonce, parseDigestHeader } from './digest';

/** The parts of an incoming SIP request digest authentication looks at. */
export interface AuthRequest {
  readonly method: string;
  readonly uri: string;
  get(name: string): string | undefined;
}

export type AuthResult =
  | { readonly kind: 'ok'; readonly mac: Mac; readonly device: Device }
  /** answer 401/407 with this header value (fresh nonce already stored) */
  | { readonly kind: 'challenge'; readonly header: string; readonly stale: boolean }
  | { readonly kind: 'forbidden'; readonly reason: string; readonly mac?: Mac }
  | { readonly kind: 'store_unavailable'; readonly error: string };

export interface AuthDeps {
  readonly realm: string;
  readonly sipStore: Pick<SipStore, 'issueNonce' | 'useNonce'>;
  readonly findDevice: (mac: Mac) => Promise<Device | null>;
}

/**
 * Digest authentication of one request against the restricted accounts (username = device MAC,
 * password = device.sipPassword). REGISTER uses Authorization (401), INVITE Proxy-Authorization
 * (407). Order: credentials parsed -> device found -> response checked in constant time -> only
 * then the nonce is consumed (so a stale nonce with a right response gets `stale=true` and the
 * phone retries silently, and a replayed nonce-count is refused).
 */
/**
 * RFC 3261 22.4: the digest-uri is the Request-URI. Some user agents (sipp among them, and a few
 * phones) put the Request-URI without its user part there (`sip:host:port` for `sip:*89@host:port`);
 * that is accepted too. The response covers whatever URI was presented, and each nonce-count is
 * accepted once, so this widens nothing a replay could use.
 */
export function digestUriMatches(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  return digestUri === requestUri.replace(/^(sips?:)[^@;?]*@/i, '$1');
}

export async function authenticate(
  req: AuthRequest,
  header: 'authorization' | 'proxy-authorization',
  deps: AuthDeps,
): Promise<AuthResult> {
  const challenge = async (stale: boolean): Promise<AuthResult> => {
    const nonce = newNonce();
    try {
      await deps.sipStore.issueNonce(nonce);
    } catch (err) {
      return { kind: 'store_unavailable', error: (err as Error).message };
    }
    return { kind: 'challenge', header: challengeHeader(deps.realm, nonce, stale), stale };
  };

  const creds = parseDigestHeader(req.get(header));
  if (creds === null || creds.realm !== deps.realm) return challenge(false);
  const mac = /^[0-9a-fA-F]{12}$/.test(creds.username) ? tryParseMac(creds.username) : null;
  if (mac === null) return { kind: 'forbidden', reason: 'username is not a device MAC' };
  let device: Device | null;
  try {
    device = await deps.findDevice(mac);
  } catch (err) {
    return { kind: 'store_unavailable', error: (err as Error).message };
  }
  if (device === null || device.sipPassword === '')
    return { kind: 'forbidden', reason: 'unknown device', mac };
  if (!digestUriMatches(creds.uri, req.uri))
    return {
      kind: 'forbidden',
      reason: `digest uri "${creds.uri.slice(0, 100)}" is not the request-URI "${req.uri.slice(0, 100)}"`,
      mac,
    };
  const check = checkDigest(creds, { method: req.method, realm: deps.realm, password: device.sipPassword });
  if (check === 'unsupported') return challenge(false);
  if (check !== 'ok') return { kind: 'forbidden', reason: 'wrong credentials', mac };
  let use;
  try {
    use = await deps.sipStore.useNonce(creds.nonce, creds.qop === null ? null : creds.nc!.toLowerCase());
  } catch (err) {
    return { kind: 'store_unavailable', error: (err as Error).message };
  }
  if (use === 'stale') return challenge(true);
  if (use === 'replay') return { kind: 'forbidden', reason: 'replayed nonce-count', mac };
  return { kind: 'ok', mac, device };
}

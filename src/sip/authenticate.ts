import type { Device } from '../domain/device';
import { tryParseMac, type Mac } from '../domain/mac';
import { restrictedSipPassword } from '../domain/pap';
import type { NonceClaim, NonceUse, SipStore } from '../store/sip';
import { challengeHeader, checkDigest, parseDigestHeader, type DigestCredentials } from '../domain/digest';

export const WRONG_ADDRESS = 'wrong credentials for this source address';

/** The parts of an incoming SIP request digest authentication looks at. */
export interface AuthRequest {
  readonly method: string;
  readonly uri: string;
  /** The restricted password is derived for it when bound (see restrictedSipPassword). */
  readonly source_address: string;
  get(name: string): string | undefined;
}

/** What digest authentication needs of a device; the INVITE path reads the whole Device. */
export type Account = Pick<Device, 'tenant' | 'sipPassword'>;

export type AuthResult<D extends Account = Device> =
  | { readonly kind: 'ok'; readonly mac: Mac; readonly device: D }
  /** answer 401/407 with this header value */
  | { readonly kind: 'challenge'; readonly header: string; readonly nonce: string; readonly stale: boolean }
  | {
      readonly kind: 'forbidden';
      readonly reason: string;
      readonly mac?: Mac;
      /** Set when the device was found: where a refusal can be audited. */
      readonly tenant?: string;
    }
  | { readonly kind: 'store_unavailable'; readonly error: string };

/** Right credentials on a fresh nonce of papgate's; its use is not recorded yet (see useNonce). */
export interface Verified<D extends Account = Device> {
  readonly kind: 'verified';
  readonly mac: Mac;
  readonly device: D;
  readonly claim: NonceClaim;
  /** Checked against AuthDeps.knownDevice, not read now: only a step that checks it may rely on it. */
  readonly known: boolean;
}

export interface AuthDeps<D extends Account = Device> {
  readonly realm: string;
  /** SIP_BIND_TO_PROVISIONING_IP */
  readonly bindToSourceAddress: boolean;
  readonly sipStore: Pick<SipStore, 'issueNonce' | 'checkNonce' | 'useNonce'>;
  readonly findDevice: (mac: Mac) => Promise<D | null>;
  /**
   * The device as this process last read it, if remembered: a request whose credentials match it
   * is verified without reading (`known`); any other is decided on findDevice.
   */
  readonly knownDevice?: (mac: Mac) => D | undefined;
}

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

/**
 * Digest authentication of one request against the restricted accounts (username = device MAC,
 * password = restrictedSipPassword for the request's source address). REGISTER uses Authorization
 * (401), INVITE Proxy-Authorization (407). Order: credentials parsed -> device found -> response
 * checked in constant time -> nonce checked (signature, age) -> only then its use recorded (so a
 * stale nonce with a right response gets `stale=true` and the phone retries silently, a replayed
 * nonce-count is refused, and wrong credentials never use up a nonce-count). useNonce does not
 * check the device again, so the device is always read (no knownDevice).
 */
export async function authenticate(
  req: AuthRequest,
  header: 'authorization' | 'proxy-authorization',
  deps: AuthDeps & { readonly knownDevice?: never },
): Promise<AuthResult> {
  const v = await verifyDigest(req, parseDigestHeader(req.get(header)), deps);
  if (v.kind !== 'verified') return v;
  let use;
  try {
    use = await deps.sipStore.useNonce(v.device.tenant, v.claim);
  } catch (err) {
    return { kind: 'store_unavailable', error: (err as Error).message };
  }
  return afterNonceUse(v, use, deps);
}

/**
 * authenticate() up to the nonce use, which the registrar records together with the binding, on the
 * request's parsed Authorization or Proxy-Authorization (null: none usable). With knownDevice, a
 * match against the remembered device skips the read; the step that records the use must then
 * check that the device is still that one (register.lua's 'changed').
 */
export async function verifyDigest<D extends Account>(
  req: AuthRequest,
  creds: DigestCredentials | null,
  deps: AuthDeps<D>,
): Promise<Exclude<AuthResult<D>, { kind: 'ok' }> | Verified<D>> {
  if (creds === null || creds.realm !== deps.realm) return challenge(deps, false);
  const mac = /^[0-9a-fA-F]{12}$/.test(creds.username) ? tryParseMac(creds.username) : null;
  if (mac === null) return { kind: 'forbidden', reason: 'username is not a device MAC' };
  const known = deps.knownDevice?.(mac);
  if (known !== undefined && credentialsOf(req, creds, mac, known, deps) === 'ok')
    return claimed(deps, creds, mac, known, true);
  let device: D | null;
  try {
    device = await deps.findDevice(mac);
  } catch (err) {
    return { kind: 'store_unavailable', error: (err as Error).message };
  }
  const check = credentialsOf(req, creds, mac, device, deps);
  if (check === 'unsupported') return challenge(deps, false);
  if (check !== 'ok') return check;
  return claimed(deps, creds, mac, device!, false);
}

/**
 * The restricted password last derived per device object and source address: a remembered device
 * (knownDevice) is the same object at each refresh, so a phone's REGISTERs derive it once.
 */
const derived = new WeakMap<Account, { source: string; password: string }>();

function passwordOf(device: Account, source: string, bound: boolean): string {
  if (!bound) return device.sipPassword;
  const last = derived.get(device);
  if (last !== undefined && last.source === source) return last.password;
  const password = restrictedSipPassword(device.sipPassword, source, true);
  derived.set(device, { source, password });
  return password;
}

/** Whether `creds` are the device's for this request: 'ok', 'unsupported' (challenge again), or why not. */
function credentialsOf<D extends Account>(
  req: AuthRequest,
  creds: DigestCredentials,
  mac: Mac,
  device: D | null,
  deps: Pick<AuthDeps<D>, 'realm' | 'bindToSourceAddress'>,
): 'ok' | 'unsupported' | Extract<AuthResult<D>, { kind: 'forbidden' }> {
  if (device === null || device.sipPassword === '')
    return { kind: 'forbidden', reason: 'unknown device', mac };
  if (!digestUriMatches(creds.uri, req.uri))
    return {
      kind: 'forbidden',
      reason: `digest uri "${creds.uri.slice(0, 100)}" is not the request-URI "${req.uri.slice(0, 100)}"`,
      mac,
    };
  let password: string;
  try {
    password = passwordOf(device, req.source_address, deps.bindToSourceAddress);
  } catch {
    return { kind: 'forbidden', reason: 'source address is not an IP address', mac };
  }
  const check = checkDigest(creds, { method: req.method, realm: deps.realm, password });
  if (check === 'unsupported' || check === 'ok') return check;
  // Bound, a right password from the wrong address (a copied file) looks the same as a wrong one.
  return {
    kind: 'forbidden',
    reason: deps.bindToSourceAddress ? WRONG_ADDRESS : 'wrong credentials',
    mac,
    tenant: device.tenant,
  };
}

/** Right credentials: the request is verified once its nonce is papgate's and fresh. */
async function claimed<D extends Account>(
  deps: Pick<AuthDeps<D>, 'realm' | 'sipStore'>,
  creds: DigestCredentials,
  mac: Mac,
  device: D,
  known: boolean,
): Promise<Extract<AuthResult<D>, { kind: 'challenge' | 'store_unavailable' }> | Verified<D>> {
  let claim;
  try {
    claim = await deps.sipStore.checkNonce(creds.nonce, creds.qop === null ? null : creds.nc);
  } catch (err) {
    return { kind: 'store_unavailable', error: (err as Error).message };
  }
  if (claim === 'stale') return challenge(deps, true);
  return { kind: 'verified', mac, device, claim, known };
}

/** The answer once a verified request's nonce use was recorded ('changed': see SipStore.register). */
export async function afterNonceUse<D extends Account>(
  v: Verified<D>,
  use: NonceUse | 'changed',
  deps: Pick<AuthDeps<D>, 'realm' | 'sipStore'>,
): Promise<AuthResult<D>> {
  switch (use) {
    case 'ok':
      return { kind: 'ok', mac: v.mac, device: v.device };
    case 'stale':
      return challenge(deps, true);
    case 'replay':
      return { kind: 'forbidden', reason: 'replayed nonce-count', mac: v.mac };
    case 'changed':
      return { kind: 'forbidden', reason: 'device changed during the request', mac: v.mac };
  }
}

async function challenge(
  deps: Pick<AuthDeps, 'realm' | 'sipStore'>,
  stale: boolean,
): Promise<Extract<AuthResult, { kind: 'challenge' | 'store_unavailable' }>> {
  let nonce;
  try {
    nonce = await deps.sipStore.issueNonce();
  } catch (err) {
    return { kind: 'store_unavailable', error: (err as Error).message };
  }
  return { kind: 'challenge', header: challengeHeader(deps.realm, nonce, stale), nonce, stale };
}

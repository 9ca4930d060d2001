import type { BypassReason } from './auth';
import { isSuspended } from './auth';
import type { Device } from './device';
import { certificateRefusal, type CertificateResult, type DeviceCertificatePolicy } from './devicecert';
import { minimalDisplay, type MinimalDisplay } from './display';
import { checkDigest, type DigestCredentials } from './digest';
import { credentialMatches } from './pap';
import {
  checkWhitelistCoverage,
  ipMatches,
  parseWhitelistEntry,
  WHITELIST_BOUND,
  type WhitelistEntry,
} from './whitelist';

/** The realm of papgate's provisioning challenge (Basic and Digest), part of every stored HA1. */
export const PROVISIONING_REALM = 'papgate';

/**
 * How long a challenge may stay unanswered before the address it went to, asking again without the
 * credential, marks the device as needing reset: a phone holding the credential answers within a
 * second; one that comes back a minute later without it may have nothing to answer with. It is
 * still only challenged: a stranger behind the same address looks the same (see decideProvisioning).
 */
export const CHALLENGE_GRACE_MS = 60_000;

/** A credential a request carries. */
export type PresentedCredential =
  /** In the URL path, or HTTP Basic credentials whose user is the device's MAC. */
  | { readonly kind: 'secret'; readonly credential: string }
  /** HTTP Digest whose user is the device's MAC, on a nonce papgate signed that is still fresh. */
  | { readonly kind: 'digest'; readonly answer: DigestCredentials; readonly method: string }
  /** The same on a nonce that ran out (or is not papgate's): a phone answering, too late. */
  | { readonly kind: 'stale' };

export interface ProvisioningInputs {
  /** Device record with transition 3 (docs/security.md, States and transitions) already applied (see `settle`). */
  readonly device: Pick<
    Device,
    | 'state'
    | 'suspendedUntil'
    | 'suspensionNetwork'
    | 'credentialHash'
    | 'digestCredential'
    | 'challenged'
    | 'failedUntil'
    | 'consecutiveFailures'
    | 'totalFailures'
    | 'disabledAt'
  >;
  /** Credential the request carried (URL path or HTTP credentials), or null. */
  readonly presented: PresentedCredential | null;
  readonly ip: string;
  readonly permanentWhitelist: readonly WhitelistEntry[];
  /** Expiry (ms) of `ip` on the tenant's temporary whitelist, or null. */
  readonly temporaryWhitelistUntil: number | null;
  readonly now: number;
  /** The client certificate held against this request, and the tenant's policy for it. */
  readonly certificate: CertificateResult;
  readonly certificatePolicy: DeviceCertificatePolicy;
}

/** Why a provisioning request is refused (403): decideProvisioning's reasons and the User-Agent check. */
export type ProvisioningRefusal =
  'wrong_credential' | 'device_certificate_mismatch' | 'device_certificate_required' | 'user_agent_mismatch';

/**
 * Refusals that say the asker holds or names another device's identity (a verified certificate of
 * another MAC, a User-Agent naming another MAC): each has a share of its own of a client's phone
 * traffic events (provisioning_event in lua/prelude.lua mirrors this list) and log lines, so that a
 * flood of ordinary refusals (wrong credentials) from the same network cannot hide one. A drill
 * hid a certificate mismatch behind 21 wrong-credential GETs.
 */
export const OWN_SHARE_REFUSALS: readonly ProvisioningRefusal[] = [
  'device_certificate_mismatch',
  'user_agent_mismatch',
];

export type ProvisioningDecision =
  | { readonly kind: 'full'; readonly reason: Exclude<BypassReason, 'pap'> }
  | { readonly kind: 'minimal'; readonly display: MinimalDisplay }
  /**
   * 401: the device holds a credential and the request carries none; the phone may answer.
   * `needsReset`: a challenge to this address went unanswered for CHALLENGE_GRACE_MS, so the asker
   * may be the phone after a factory reset (or a stranger behind its address): the operator's signal.
   */
  | { readonly kind: 'challenge'; readonly needsReset: boolean }
  | { readonly kind: 'refuse'; readonly reason: Exclude<ProvisioningRefusal, 'user_agent_mismatch'> };

/**
 * Whether a suspension hands `ip` the file: while it runs, and only to its network. A drill's
 * stranger polling a known MAC (300 GETs in 1.9 s) took the one full file an unbound suspension
 * hands out before the phone booted.
 */
export function suspensionLetsIn(
  device: Pick<Device, 'suspendedUntil' | 'suspensionNetwork'>,
  ip: string,
  now: number,
): boolean {
  if (!isSuspended(device, now)) return false;
  return (
    device.suspensionNetwork === null ||
    ipMatches(ip, [parseWhitelistEntry(device.suspensionNetwork)]) !== null
  );
}

/**
 * The network an admin binds a suspension to: an address or CIDR range, checked as a whitelist
 * entry is (no /0, no host bits, at most WHITELIST_BOUND wide), its canonical text.
 */
export function parseSuspensionNetwork(input: unknown): string {
  const entry = parseWhitelistEntry(input, 'network');
  checkWhitelistCoverage([entry], 'the network', WHITELIST_BOUND, 'network');
  return entry.text;
}

/** Which configuration a request gets, and why (docs/security.md, "Rules and decisions"). */
export function decideProvisioning(i: ProvisioningInputs): ProvisioningDecision {
  // A certificate can only refuse: what it proves is the phone, not who is holding it.
  const refusal = certificateRefusal(i.certificatePolicy, i.certificate);
  if (refusal !== null) return { kind: 'refuse', reason: refusal };
  // Disabled: the minimal file whatever the request carries, even the phone's own credential, so
  // the phone drops its accounts and keeps only the emergency route (docs/security.md, States and
  // transitions).
  if (i.device.disabledAt !== null) return { kind: 'minimal', display: 'disabled' };
  // A late answer is asked again, never taken for a phone that has nothing to answer with.
  if (i.presented?.kind === 'stale')
    return i.device.credentialHash !== null
      ? { kind: 'challenge', needsReset: false }
      : { kind: 'refuse', reason: 'wrong_credential' };
  if (i.presented !== null) {
    // A phone holding a credential that no longer matches (device re-created or reset) must be
    // factory-reset: handing it a minimal config would silently take a working phone offline.
    if (presentedMatches(i.presented, i.device)) return { kind: 'full', reason: 'credential' };
    return { kind: 'refuse', reason: 'wrong_credential' };
  }
  // A device that holds its credential is that phone's: no bypass (a suspension, a whitelisted
  // network) may hand its file, and a new credential that replaces the phone's, to anyone else.
  if (i.device.credentialHash !== null) {
    // The phone may hold the credential and hand it over only when asked: a server named by DHCP
    // or PnP drops the path it was in, and every resync starts without it. One that was asked from
    // this address a while ago and comes back without it may have nothing to answer with
    // (factory-reset), but a stranger behind the same address (an office, guest Wi-Fi, carrier-grade
    // NAT) looks the same: no answer to it may take the working phone's credential and accounts
    // away (a drill's stranger did so with one GET). It is challenged as ever, and the device is
    // marked for the operator, whose reset (a new PAP) lets a factory-reset phone in.
    const c = i.device.challenged;
    return {
      kind: 'challenge',
      needsReset: c !== null && c.ip === i.ip && i.now - c.at >= CHALLENGE_GRACE_MS,
    };
  }
  if (suspensionLetsIn(i.device, i.ip, i.now)) return { kind: 'full', reason: 'suspension' };
  if (ipMatches(i.ip, i.permanentWhitelist)) return { kind: 'full', reason: 'whitelist' };
  if (
    i.temporaryWhitelistUntil !== null &&
    i.temporaryWhitelistUntil > i.now &&
    i.device.state !== 'blocked'
  ) {
    return { kind: 'full', reason: 'temporary_whitelist' };
  }
  return { kind: 'minimal', display: minimalDisplay(i.device.state) };
}

function presentedMatches(
  p: PresentedCredential,
  d: Pick<Device, 'credentialHash' | 'digestCredential'>,
): boolean {
  if (p.kind === 'secret')
    return d.credentialHash !== null && credentialMatches(p.credential, d.credentialHash);
  if (p.kind === 'stale') return false;
  return (
    d.digestCredential !== null &&
    checkDigest(p.answer, { method: p.method, realm: PROVISIONING_REALM, password: d.digestCredential }) ===
      'ok'
  );
}

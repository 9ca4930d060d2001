import type { BypassReason } from './auth';
import { isSuspended } from './auth';
import type { Device } from './device';
import { certificateRefusal, type CertificateResult, type DeviceCertificatePolicy } from './devicecert';
import { minimalDisplay, type MinimalDisplay } from './display';
import { credentialMatches } from './pap';
import { ipMatches, type WhitelistEntry } from './whitelist';

export interface ProvisioningInputs {
  /** Device record with transition 3 already applied (see `settle`). */
  readonly device: Pick<
    Device,
    'state' | 'suspendedUntil' | 'credentialHash' | 'failedUntil' | 'consecutiveFailures' | 'totalFailures'
  >;
  /** Credential the request carried (URL path or HTTP credentials), or null. */
  readonly presentedCredential: string | null;
  readonly ip: string;
  readonly permanentWhitelist: readonly WhitelistEntry[];
  /** Expiry (ms) of `ip` on the tenant's temporary whitelist, or null. */
  readonly temporaryWhitelistUntil: number | null;
  readonly now: number;
  /** The client certificate held against this request, and the tenant's policy for it. */
  readonly certificate: CertificateResult;
  readonly certificatePolicy: DeviceCertificatePolicy;
}

export type ProvisioningDecision =
  | { readonly kind: 'full'; readonly reason: Exclude<BypassReason, 'pap'> }
  | { readonly kind: 'minimal'; readonly display: MinimalDisplay }
  | {
      readonly kind: 'refuse';
      readonly reason: 'wrong_credential' | 'device_certificate_mismatch' | 'device_certificate_required';
    };

/** SPEC section 4: which configuration does this request get, and why. */
export function decideProvisioning(i: ProvisioningInputs): ProvisioningDecision {
  // A certificate can only refuse: what it proves is the phone, not who is holding it.
  const refusal = certificateRefusal(i.certificatePolicy, i.certificate);
  if (refusal !== null) return { kind: 'refuse', reason: refusal };
  if (i.presentedCredential !== null) {
    // A phone holding a credential that no longer matches (device re-created or reset) must be
    // factory-reset: handing it a minimal config would silently take a working phone offline.
    if (
      i.device.credentialHash !== null &&
      credentialMatches(i.presentedCredential, i.device.credentialHash)
    ) {
      return { kind: 'full', reason: 'credential' };
    }
    return { kind: 'refuse', reason: 'wrong_credential' };
  }
  // A device that holds its credential is that phone's: no bypass (a suspension, a whitelisted
  // network) may hand its file, and a new credential that replaces the phone's, to anyone else.
  // A factory-reset phone needs an admin's reset, as the reference says.
  if (i.device.credentialHash !== null) return { kind: 'minimal', display: minimalDisplay(i.device.state) };
  if (isSuspended(i.device, i.now)) return { kind: 'full', reason: 'suspension' };
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

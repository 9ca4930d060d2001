import type { AuthState } from './auth';
import { isEmergencyNumber } from './emergency';

/**
 * "Where does this call go": the routing of docs/calls.md ("Routing") as one pure function. The SIP edge gathers the inputs
 * (who is calling, the device's settled state, the dialled digits) and acts on the answer.
 */

export type Caller =
  /** a restricted account that passed digest authentication; state already settled (lock expiry applied) */
  | { readonly kind: 'device'; readonly state: AuthState }
  /** a PBX on the trusted list naming a device in the configured header */
  | { readonly kind: 'trusted_peer'; readonly state: AuthState | 'unknown_device' | 'store_unavailable' }
  /** the store could not be asked who this is (Redis unreachable) */
  | { readonly kind: 'store_unavailable' }
  /** anything else: failed or missing authentication, untrusted peer */
  | { readonly kind: 'unknown' };

export type CallRoute = 'emergency' | 'ivr' | 'not_possible' | 'refuse';

interface CallRules {
  readonly emergencyNumbers: readonly string[];
  readonly authServiceNumber: string;
}

/** The user part of a request URI or To header: `sip:112@host;x=y` -> `112` (percent-decoded). */
export function dialledNumber(uri: string): string {
  const m = /^(?:sips?|tel):([^@;?>]*)/i.exec(uri.trim());
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!;
  }
}

export function decideCall(caller: Caller, dialled: string, rules: CallRules): CallRoute {
  const emergency = isEmergencyNumber(dialled, rules.emergencyNumbers);
  switch (caller.kind) {
    case 'device':
      // Emergency first, whatever the state: an emergency call never depends on authentication.
      if (emergency) return 'emergency';
      // *89 and every other destination go to the IVR while the device needs authentication.
      return caller.state === 'needed' ? 'ivr' : 'not_possible';
    case 'trusted_peer':
      // A PBX may only hand over *89 calls; it routes its own emergency calls.
      if (dialled !== rules.authServiceNumber || caller.state === 'unknown_device') return 'refuse';
      return caller.state === 'needed' ? 'ivr' : 'not_possible';
    case 'store_unavailable':
      // Fail closed for authentication, but never block an emergency call on Redis.
      return emergency ? 'emergency' : 'not_possible';
    case 'unknown':
      return 'refuse';
  }
}

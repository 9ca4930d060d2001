import { InputError } from './errors';
import { isE164, type CallerIdSetter, type CivicAddress, type Site, type SiteInput } from './site';

export const DEFAULT_EMERGENCY_NUMBERS = [
  '112',
  '110',
  '911',
  '999',
  '000',
  '118',
  '119',
  '15',
  '17',
  '18',
  '144',
];

/**
 * Emergency calls written to a device's audit trail per window (`emergency_call`); the next one is
 * summed up in `emergency_calls_limited`. Anyone who knows a MAC can fetch its minimal file and
 * call 112 as it, so that many calls must not fill the audit trail; a phone's own emergency calls
 * are rarely more than a few an hour. papgate_emergency_calls_total counts every call.
 */
export const EMERGENCY_AUDIT = Object.freeze({ perDevice: 5, windowSeconds: 3600 });

/**
 * Whom an emergency call names to the route: the site's caller ID (from the site's networks), the
 * operator's EMERGENCY_CALLER_ID, the device's MAC (no caller ID configured), or nobody (the caller
 * could not be identified).
 */
export type EmergencyIdentity = 'site' | 'operator' | 'device' | 'anonymous';

/** What became of an emergency call (papgate_emergency_calls_total, `emergency_call` events). */
export type EmergencyResult = 'connected' | 'route_refused' | 'cancelled' | 'failed' | 'no_route';

/**
 * Exact match on the dialled user part: an emergency call must never depend on anything but the
 * digits, and a prefix match would turn `1100` (a normal extension) into an emergency call.
 */
export function isEmergencyNumber(dialled: string, numbers: readonly string[]): boolean {
  return numbers.includes(dialled.trim());
}

/**
 * The operator's emergency settings, as config.sip holds them: where calls go and which identity
 * they carry unless a site record says otherwise within what these allow.
 */
export interface EmergencyPolicy {
  /** EMERGENCY_ROUTE: every emergency call without an allowed site route */
  readonly emergencyRoute: string | null;
  /** EMERGENCY_SITE_ROUTES: the further routes a site record may name */
  readonly emergencySiteRoutes: readonly string[];
  /** EMERGENCY_CALLER_ID: the identity of calls without an allowed site caller ID */
  readonly emergencyCallerId: string | null;
  /** EMERGENCY_SEND_LOCATION */
  readonly emergencySendLocation: boolean;
}

/** Exact text: a route is a destination the operator wrote down, not a pattern a tenant could fit. */
function isAllowedRoute(
  route: string,
  p: Pick<EmergencyPolicy, 'emergencyRoute' | 'emergencySiteRoutes'>,
): boolean {
  return route === p.emergencyRoute || p.emergencySiteRoutes.includes(route);
}

/** Whether a tenant may give `callerId`: it begins with one of the prefixes the operator allowed it. */
function callerIdAllowed(callerId: string, prefixes: readonly string[]): boolean {
  return isE164(callerId) && prefixes.some((p) => callerId.startsWith(p));
}

const PREFIX = /^\+[1-9][0-9]{0,14}$/;
const MAX_PREFIXES = 100;

/** A tenant's `emergencyCallerIdPrefixes` (operator only): E.164 prefixes, `+` and 1-15 digits. */
export function parseCallerIdPrefixes(v: unknown): string[] {
  const field = 'emergencyCallerIdPrefixes';
  if (!Array.isArray(v) || v.length > MAX_PREFIXES)
    throw new InputError(`${field} must be a list of at most ${MAX_PREFIXES} E.164 prefixes`, field);
  for (const p of v)
    if (typeof p !== 'string' || !PREFIX.test(p))
      throw new InputError(`${field}: "${String(p)}" is not an E.164 prefix ("+" and 1-15 digits)`, field);
  return [...new Set(v as string[])].sort();
}

type SiteWrite =
  | { readonly ok: true; readonly site: Site }
  | {
      readonly ok: false;
      /** 400: nobody may write this; 403: only the operator may */
      readonly status: 400 | 403;
      readonly field: 'emergencyRoute' | 'emergencyCallerId';
      readonly message: string;
    };

/**
 * Whether `by` may write the site record `input`. Routes are the operator's configuration for
 * everyone (EMERGENCY_ROUTE, EMERGENCY_SITE_ROUTES): a record naming any other would only be
 * overruled on every call. The operator sets any caller ID; a tenant token one of its tenant's
 * prefixes, or keeps the number the operator set (`current`).
 */
export function authorizeSite(
  input: SiteInput,
  by: CallerIdSetter,
  o: {
    policy: Pick<EmergencyPolicy, 'emergencyRoute' | 'emergencySiteRoutes'>;
    prefixes: readonly string[];
    current: Site | null;
  },
): SiteWrite {
  if (input.emergencyRoute !== null && !isAllowedRoute(input.emergencyRoute, o.policy))
    return {
      ok: false,
      status: 400,
      field: 'emergencyRoute',
      message:
        'emergencyRoute must be EMERGENCY_ROUTE or one of EMERGENCY_SITE_ROUTES, the routes the operator allowed (or null)',
    };
  const id = input.emergencyCallerId;
  const kept = o.current?.emergencyCallerIdBy === 'operator' && o.current.emergencyCallerId === id;
  if (by === 'operator' || kept) return { ok: true, site: { ...input, emergencyCallerIdBy: 'operator' } };
  if (callerIdAllowed(id, o.prefixes)) return { ok: true, site: { ...input, emergencyCallerIdBy: 'tenant' } };
  return {
    ok: false,
    status: 403,
    field: 'emergencyCallerId',
    message:
      o.prefixes.length === 0
        ? 'only the operator sets emergency caller IDs for this tenant (it has no emergencyCallerIdPrefixes)'
        : `emergencyCallerId must begin with one of ${o.prefixes.join(', ')} (the tenant's emergencyCallerIdPrefixes)`,
  };
}

/** Where an emergency call goes and what it says, decided from the site record and the operator's settings. */
export interface EmergencyPlan {
  /** the site record's identity and location were not used: the call did not come from the site */
  readonly unproven: boolean;
  /** null: no route at all (EMERGENCY_ROUTE unset and no allowed site route) */
  readonly route: string | null;
  /** E.164 sent as P-Asserted-Identity and From; null: none, From names the device */
  readonly callerId: string | null;
  /** the caller ID is the site record's (the call came from the site), not EMERGENCY_CALLER_ID */
  readonly siteCallerId: boolean;
  /** the civic address to send by value, when the route takes one */
  readonly location: CivicAddress | null;
  /** what of the site record was not allowed, and so not used */
  readonly refused: readonly ('emergencyRoute' | 'emergencyCallerId')[];
}

/**
 * The call-time check of a site record (which may predate these rules, or have been written by a
 * tenant whose prefixes changed since): an allowed route and caller ID are used, anything else is
 * replaced by the operator's. Whatever the record holds, the call still goes out.
 *
 * `fromSite`: the call comes from where the site is known to be (a whitelisted network of the
 * tenant, or the site's own temporary entry). Anyone who knows a MAC can fetch its minimal file
 * and call 112 as that phone from anywhere; the site's call-back number and street address go only
 * with calls from the site, so that nobody can send an emergency service to someone else's door.
 * The site's route (one the operator allowed) is kept either way.
 */
export function planEmergency(
  site: Site | null,
  prefixes: readonly string[],
  p: EmergencyPolicy,
  fromSite: boolean,
): EmergencyPlan {
  const refused: ('emergencyRoute' | 'emergencyCallerId')[] = [];
  let route = p.emergencyRoute;
  let sendLocation = p.emergencySendLocation;
  let callerId = p.emergencyCallerId;
  let siteCallerId = false;
  if (site !== null) {
    const own = site.emergencyRoute;
    if (own !== null && !isAllowedRoute(own, p)) refused.push('emergencyRoute');
    else {
      route = own ?? route;
      // The record's sendLocation speaks of its route; an overruled route keeps the operator's.
      sendLocation = site.sendLocation ?? sendLocation;
    }
    const id = site.emergencyCallerId;
    if (!isE164(id) || (site.emergencyCallerIdBy !== 'operator' && !callerIdAllowed(id, prefixes)))
      refused.push('emergencyCallerId');
    else if (fromSite) {
      callerId = id;
      siteCallerId = true;
    }
  }
  const located = fromSite && sendLocation ? (site?.civicAddress ?? null) : null;
  return { route, callerId, siteCallerId, location: located, refused, unproven: site !== null && !fromSite };
}

/** The identity `plan` sends for a caller whose device is `mac` (null: not identified). */
export function emergencyIdentity(
  plan: Pick<EmergencyPlan, 'callerId' | 'siteCallerId'>,
  mac: string | null,
): EmergencyIdentity {
  if (plan.callerId !== null) return plan.siteCallerId ? 'site' : 'operator';
  return mac !== null ? 'device' : 'anonymous';
}

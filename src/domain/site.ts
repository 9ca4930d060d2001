import { InputError } from './errors';
import { checkText, unsafeCharacter } from './text';

/**
 * A site's emergency data as a `PUT .../sites/{site}` carries it: the call-back number and the
 * civic address an emergency service gets for a call from any phone of the site, and the route its
 * emergency calls take.
 */
export interface SiteInput {
  readonly name: string;
  /** E.164, `+` and 2-15 digits: sent as P-Asserted-Identity and From display name. */
  readonly emergencyCallerId: string;
  readonly civicAddress: CivicAddress | null;
  /** SIP URI for the site's phones instead of EMERGENCY_ROUTE, one of EMERGENCY_SITE_ROUTES; null: EMERGENCY_ROUTE. */
  readonly emergencyRoute: string | null;
  /** Whether the route accepts a location (RFC 6442); null: EMERGENCY_SEND_LOCATION. */
  readonly sendLocation: boolean | null;
}

/**
 * Who set a caller ID: the operator's token may set any number, a tenant token only one its tenant
 * was allowed (see domain/emergency). A record without it (written before it existed) counts as
 * `tenant`, so its number is checked again on every call.
 */
export type CallerIdSetter = 'operator' | 'tenant';

/** A site record as stored and answered. */
export interface Site extends SiteInput {
  readonly emergencyCallerIdBy: CallerIdSetter;
}

/**
 * The RFC 5139 civicAddress elements papgate keeps, in the order the schema's sequence wants them.
 * A small subset that locates a building, a floor and a room; `country` is ISO 3166 alpha-2.
 */
export const CIVIC_FIELDS = [
  'country',
  'A1',
  'A2',
  'A3',
  'A4',
  'RD',
  'HNO',
  'HNS',
  'LOC',
  'FLR',
  'NAM',
  'PC',
  'ROOM',
] as const;
export type CivicField = (typeof CIVIC_FIELDS)[number];
export type CivicAddress = Readonly<Partial<Record<CivicField, string>>> & { readonly country: string };

const E164 = /^\+[1-9][0-9]{1,14}$/;
/** The shape EMERGENCY_ROUTE is checked against (src/config/variables.ts); a site's own route passes the same check. */
export const SIP_ROUTE = /^sips?:[^\s]+$/;
const SITE_MAX = 128;
const CIVIC_MAX = 128;

/** A site name as devices carry it (their `site` field: trimmed, 1-128 characters, no control characters, see checkText). */
export function parseSiteName(v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new InputError('site name is required', 'site');
  if (v !== v.trim()) throw new InputError('site name must not begin or end with white space', 'site');
  if (v.length > SITE_MAX) throw new InputError(`site name is longer than ${SITE_MAX} characters`, 'site');
  checkText('site', v);
  return v;
}

export function isE164(v: unknown): v is string {
  return typeof v === 'string' && E164.test(v);
}

function parseCivicAddress(v: unknown): CivicAddress {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InputError('civicAddress must be an object', 'civicAddress');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !(CIVIC_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new InputError(
      `civicAddress has unknown field(s) ${unknown.join(', ')}; known: ${CIVIC_FIELDS.join(', ')}`,
      'civicAddress',
    );
  const out: Partial<Record<CivicField, string>> = {};
  for (const f of CIVIC_FIELDS) {
    const x = o[f];
    if (x === undefined || x === null || x === '') continue;
    if (typeof x !== 'string' || x.trim() === '' || x.length > CIVIC_MAX || unsafeCharacter(x) !== null)
      throw new InputError(
        `civicAddress.${f} must be text of 1-${CIVIC_MAX} characters without control characters`,
        'civicAddress',
      );
    out[f] = x.trim();
  }
  if (out.country === undefined || !/^[A-Z]{2}$/.test(out.country))
    throw new InputError(
      'civicAddress.country must be an ISO 3166 alpha-2 code such as "DE"',
      'civicAddress',
    );
  if (Object.keys(out).length < 2)
    throw new InputError('civicAddress needs more than a country to locate anyone', 'civicAddress');
  return out as CivicAddress;
}

/** Validates a `PUT .../sites/{site}` body for the site `name` (already checked by parseSiteName). */
export function parseSite(name: string, body: unknown): SiteInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InputError('body must be a JSON object');
  const o = body as Record<string, unknown>;
  // `name` and `emergencyCallerIdBy` may come back as GET answered them; the path names the site
  // and the token decides the setter.
  const known = [
    'name',
    'emergencyCallerId',
    'civicAddress',
    'emergencyRoute',
    'sendLocation',
    'emergencyCallerIdBy',
  ];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length > 0)
    throw new InputError(`unknown field(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  if (o.name !== undefined && o.name !== name)
    throw new InputError(`name "${String(o.name)}" differs from the site in the path`, 'name');
  if (!isE164(o.emergencyCallerId))
    throw new InputError(
      'emergencyCallerId must be an E.164 number: "+", country code and number, 2-15 digits',
      'emergencyCallerId',
    );
  const route = o.emergencyRoute ?? null;
  if (route !== null && (typeof route !== 'string' || !SIP_ROUTE.test(route) || route.length > 256))
    throw new InputError(
      'emergencyRoute must be a SIP URI such as "sip:psap.example.net:5060"',
      'emergencyRoute',
    );
  const sendLocation = o.sendLocation ?? null;
  if (sendLocation !== null && typeof sendLocation !== 'boolean')
    throw new InputError('sendLocation must be true, false or null', 'sendLocation');
  return {
    name,
    emergencyCallerId: o.emergencyCallerId,
    civicAddress:
      o.civicAddress === undefined || o.civicAddress === null ? null : parseCivicAddress(o.civicAddress),
    emergencyRoute: route,
    sendLocation,
  };
}

/**
 * The devices (by index) whose site has no record among `recorded`, the names of the tenant's site
 * records. A tenant that keeps none is not checked: its phones' emergency calls all go with the
 * operator's identity (EMERGENCY_CALLER_ID), as before sites had records.
 */
export function unrecordedSites(
  devices: readonly { readonly site: string }[],
  recorded: readonly string[],
): number[] {
  if (recorded.length === 0) return [];
  const known = new Set(recorded);
  return devices.flatMap((d, i) => (known.has(d.site) ? [] : [i]));
}

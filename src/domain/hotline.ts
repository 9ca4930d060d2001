import type { Language, SipAccount, Vendor } from './device';

/** Yealink DECT bases and managers (W52P, W60B, W80B, W80DM, ...): their files have no off-hook hot line. */
export const YEALINK_DECT = /W[0-9]{2}(?:[BP]|DM)\b/i;

/**
 * Vendors whose minimal file makes lifting the handset dial the authentication number after a
 * delay (a warm line, docs/phones.md "Minimal configuration"): Yealink `features.hotline_*` (not
 * on its DECT bases), the Cisco/Linksys dial plan, Panasonic `HOT_LINE_*`. The others have no
 * such item with a delay (Poly, Grandstream) or none at all (snom, Gigaset, Patton): their users
 * dial the number.
 */
const WARM_LINE: Readonly<Record<Vendor, boolean>> = {
  yealink: true,
  cisco: true,
  linksys: true,
  panasonic: true,
  snom: false,
  poly: false,
  spectralink: false,
  gigaset: false,
  patton: false,
  grandstream: false,
};

/** Whether lifting this phone's handset reaches the IVR by itself while it is unauthenticated. */
export function hasHotLine(vendor: Vendor, model: string): boolean {
  return WARM_LINE[vendor] && !(vendor === 'yealink' && YEALINK_DECT.test(model));
}

/** What a PAP sheet's card tells the phone's user (see papCard). */
export interface PapCard {
  /** `lift`: lift the handset and wait; `dial`: dial the authentication number. */
  readonly reach: 'lift' | 'dial';
  /** The name and extension a person recognises: the first account's display name and user. */
  readonly name: string | null;
  readonly extension: string | null;
  /** The language the card is printed in: the device's, else `fallback` (the tenant's, else DEFAULT_LANGUAGE). */
  readonly language: Language;
}

export function papCard(
  d: {
    readonly vendor: Vendor;
    readonly model: string;
    readonly language: Language | null;
    readonly accounts: readonly Pick<SipAccount, 'user' | 'displayName'>[];
  },
  fallback: Language,
): PapCard {
  const first = d.accounts[0];
  return {
    reach: hasHotLine(d.vendor, d.model) ? 'lift' : 'dial',
    name: first?.displayName ?? null,
    extension: first?.user ?? null,
    language: d.language ?? fallback,
  };
}

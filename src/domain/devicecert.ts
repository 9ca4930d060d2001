import type { Mac } from './mac';

/**
 * Per tenant: what a phone's factory certificate (HTTPS client certificate) counts for.
 * - required: provisioning without a verified certificate naming the phone's MAC is refused;
 * - recorded: the result goes into the audit event; a verified certificate naming another MAC
 *   is still refused;
 * - off: certificates are ignored (phones whose certificate names another interface's MAC).
 */
export const DEVICE_CERTIFICATE_POLICIES = ['required', 'recorded', 'off'] as const;
export type DeviceCertificatePolicy = (typeof DEVICE_CERTIFICATE_POLICIES)[number];
export const DEFAULT_DEVICE_CERTIFICATE_POLICY: DeviceCertificatePolicy = 'recorded';

export function isDeviceCertificatePolicy(v: unknown): v is DeviceCertificatePolicy {
  return typeof v === 'string' && (DEVICE_CERTIFICATE_POLICIES as readonly string[]).includes(v);
}

/** What the TLS layer saw of a client certificate. */
export type PresentedCertificate =
  | { readonly kind: 'none' }
  /** Presented, but it does not chain to PROVISIONING_DEVICE_CA (or expired, ...): `error` says why. */
  | { readonly kind: 'untrusted'; readonly error: string }
  /** Chains to PROVISIONING_DEVICE_CA; `macs`: the MACs its subject names (see `macsInCertificate`). */
  | { readonly kind: 'trusted'; readonly macs: readonly Mac[] };

/** A certificate held against one request: the provisioning audit records its `kind`. */
export type CertificateResult =
  | { readonly kind: 'verified'; readonly mac: Mac }
  | { readonly kind: 'none' }
  | { readonly kind: 'untrusted'; readonly error: string }
  /** Trusted, but it names no MAC (a vendor's generic certificate): proves nothing about the phone. */
  | { readonly kind: 'no_mac' }
  /** Trusted, and the phone it names is not the one the path or the User-Agent names. */
  | { readonly kind: 'mismatch'; readonly macs: readonly Mac[] };

const HEX = '[0-9a-f]';
/**
 * 12 hex digits, plain or as 6 pairs separated by one of ":", "-", "." throughout, or as Cisco's
 * three dotted quads; not part of a longer run of hex digits (a serial number, a key id).
 */
const MAC_IN_TEXT = new RegExp(
  `(?<!${HEX})(?:${HEX}{12}|${HEX}{2}([:.-])${HEX}{2}(?:\\1${HEX}{2}){4}|${HEX}{4}\\.${HEX}{4}\\.${HEX}{4})(?!${HEX})`,
  'gi',
);

/**
 * The MACs a certificate's subject names. Vendors put the MAC in the common name (Yealink, Poly,
 * snom: `CN=001565aabbcc`, sometimes with a prefix such as Cisco's `SEP`), in the state field
 * (Cisco multiplatform phones: `S=000e08abcdef`, next to the serial number in `L`, which is
 * therefore never read), or in a subjectAltName (DNS or URI). IP address entries are skipped.
 */
export function macsInCertificate(subject: {
  readonly CN?: string | readonly string[];
  readonly ST?: string | readonly string[];
  readonly subjectaltname?: string;
}): Mac[] {
  const texts = [subject.CN ?? [], subject.ST ?? []].flat();
  for (const entry of (subject.subjectaltname ?? '').split(/,\s*/)) {
    const m = /^(DNS|URI):(.*)$/.exec(entry);
    if (m) texts.push(m[2]!);
  }
  const macs = new Set<Mac>();
  for (const t of texts)
    for (const m of t.matchAll(MAC_IN_TEXT)) macs.add(m[0].replace(/[:.-]/g, '').toLowerCase() as Mac);
  return [...macs];
}

/**
 * Holds a presented certificate against a request for `mac` (the file name's MAC, the device
 * record's) whose User-Agent names `userAgentMac` (undefined: none). A trusted certificate is the
 * phone's identity: every MAC the request names must be one the certificate names.
 */
export function certificateResult(
  presented: PresentedCertificate,
  mac: Mac,
  userAgentMac: Mac | undefined,
): CertificateResult {
  if (presented.kind !== 'trusted') return presented;
  if (presented.macs.length === 0) return { kind: 'no_mac' };
  const named = (m: Mac) => presented.macs.includes(m);
  if (!named(mac) || (userAgentMac !== undefined && !named(userAgentMac)))
    return { kind: 'mismatch', macs: presented.macs };
  return { kind: 'verified', mac };
}

/**
 * The refusal a certificate causes under `policy`, or null. A certificate never allows anything
 * by itself: it proves which phone is asking, not who holds it, so the PAP still decides.
 */
export function certificateRefusal(
  policy: DeviceCertificatePolicy,
  result: CertificateResult,
): 'device_certificate_mismatch' | 'device_certificate_required' | null {
  if (policy === 'off') return null;
  if (result.kind === 'mismatch') return 'device_certificate_mismatch';
  if (policy === 'required' && result.kind !== 'verified') return 'device_certificate_required';
  return null;
}

/** Audit fields of a certificate result (none under policy "off": nothing was looked at). */
export function certificateAuditFields(
  policy: DeviceCertificatePolicy,
  result: CertificateResult,
): Record<string, string> {
  if (policy === 'off') return {};
  switch (result.kind) {
    case 'verified':
      return { certificate: 'verified', certificateMac: result.mac };
    case 'mismatch':
      return { certificate: 'mismatch', certificateMac: result.macs.join(',') };
    case 'untrusted':
      return { certificate: 'untrusted', certificateError: result.error };
    default:
      return { certificate: result.kind };
  }
}

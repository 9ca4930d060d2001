import { CIVIC_FIELDS, type CivicAddress, type Site } from '../domain/site';

/** What the emergency leg of a site's call carries: identity headers, and the body (SDP, or SDP + PIDF-LO). */
export interface SiteLeg {
  /** From user and display name of the B2BUA leg (drachtio-srf's callingNumber / callingName). */
  readonly callingNumber: string;
  readonly callingName: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const xml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');

/**
 * RFC 4119 PIDF-LO with an RFC 5139 civic address, shaped as RFC 5491 asks: one `dm:device`
 * (the phone, by MAC), the location it was provisioned at (`Manual`: an admin entered it).
 */
export function pidfLo(a: CivicAddress, o: { entity: string; mac: string; now: number }): string {
  const fields = CIVIC_FIELDS.filter((f) => a[f] !== undefined)
    .map((f) => `          <ca:${f}>${xml(a[f]!)}</ca:${f}>`)
    .join('\r\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<presence xmlns="urn:ietf:params:xml:ns:pidf"',
    '    xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"',
    '    xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"',
    '    xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"',
    `    entity="${xml(o.entity)}">`,
    `  <dm:device id="d${xml(o.mac)}">`,
    '    <gp:geopriv>',
    '      <gp:location-info>',
    '        <ca:civicAddress>',
    fields,
    '        </ca:civicAddress>',
    '      </gp:location-info>',
    '      <gp:usage-rules/>',
    '      <gp:method>Manual</gp:method>',
    '    </gp:geopriv>',
    `    <dm:deviceID>mac:${xml(o.mac)}</dm:deviceID>`,
    `    <dm:timestamp>${new Date(o.now).toISOString()}</dm:timestamp>`,
    '  </dm:device>',
    '</presence>',
    '',
  ].join('\r\n');
}

/**
 * The emergency leg of a call from a phone of `site`: P-Asserted-Identity and From carry the site's
 * call-back number (the phone's restricted account means nothing to an emergency service). With
 * `sendLocation` and an address, the location goes by value (RFC 6442): a `Geolocation` header
 * pointing at the PIDF-LO part of a multipart/mixed body beside the caller's SDP.
 */
export function siteLeg(
  site: Site,
  o: { sdp: string; sendLocation: boolean; mac: string; host: string; now: number; id: string },
): SiteLeg {
  const id = site.emergencyCallerId;
  const headers: Record<string, string> = { 'P-Asserted-Identity': `<tel:${id}>` };
  const base = { callingNumber: id, callingName: id, headers };
  // A late offer (no SDP) has nothing to put beside the location: the call comes first.
  if (!o.sendLocation || site.civicAddress === null || o.sdp.trim() === '') return { ...base, body: o.sdp };
  const cid = `loc-${o.id}@${o.host}`;
  const boundary = `papgate-${o.id}`;
  headers.Geolocation = `<cid:${cid}>`;
  headers['Geolocation-Routing'] = 'yes';
  headers['Content-Type'] = `multipart/mixed;boundary=${boundary}`;
  const body = [
    `--${boundary}`,
    'Content-Type: application/sdp',
    '',
    o.sdp.replace(/(\r?\n)+$/, ''),
    `--${boundary}`,
    'Content-Type: application/pidf+xml',
    `Content-ID: <${cid}>`,
    '',
    pidfLo(site.civicAddress, { entity: `pres:${id}@${o.host}`, mac: o.mac, now: o.now }).replace(
      /\r\n$/,
      '',
    ),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return { ...base, body };
}

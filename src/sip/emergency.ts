import type { EmergencyPlan } from '../domain/emergency';
import { CIVIC_FIELDS, type CivicAddress } from '../domain/site';
import { xmlText as xml } from '../domain/text';

/** What the emergency leg carries: identity headers, and the body (SDP, SDP + PIDF-LO, or none). */
export interface EmergencyLeg {
  /** From user and display name of the B2BUA leg (drachtio-srf's callingNumber / callingName). */
  readonly callingNumber: string;
  readonly callingName: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

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
 * The SDP offer of the phone's INVITE: its body when that is SDP, the SDP part of a multipart body
 * (a phone may put a location of its own beside it), else none. Nothing else of the phone's body
 * goes on; without an offer the leg is a late offer and the route makes one.
 */
export function offerSdp(contentType: string | undefined, body: string | undefined): string {
  if (!body || body.trim() === '') return '';
  const type = (contentType ?? 'application/sdp').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/sdp') return body;
  if (!type.startsWith('multipart/')) return '';
  const boundary = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType!);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return '';
  for (const part of body.split(`--${b}`).slice(1)) {
    const split = /\r?\n\r?\n/.exec(part);
    if (!split) continue;
    const head = part.slice(0, split.index);
    if (/^content-type\s*:\s*application\/sdp\s*(;|$)/im.test(head))
      return part.slice(split.index + split[0].length).replace(/\r?\n$/, '') + '\r\n';
  }
  return '';
}

/**
 * The emergency leg papgate sends to the route (through a B2BUA: a fresh INVITE, nothing of the
 * phone's but its SDP). With a caller ID, P-Asserted-Identity and From carry it (the phone's
 * restricted account means nothing to an emergency service); without, there is no
 * P-Asserted-Identity and From names the device by its MAC, or `anonymous` when the caller could not
 * be identified. With a location, it goes by value (RFC 6442): a `Geolocation` header pointing at
 * the PIDF-LO part of a multipart/mixed body beside the phone's SDP.
 */
export function emergencyLeg(
  plan: Pick<EmergencyPlan, 'callerId' | 'location'>,
  o: { sdp: string; mac: string | null; host: string; now: number; id: string },
): EmergencyLeg {
  const user = plan.callerId ?? o.mac ?? 'anonymous';
  const headers: Record<string, string> =
    plan.callerId === null ? {} : { 'P-Asserted-Identity': `<tel:${plan.callerId}>` };
  // drachtio-srf fills a missing From user and display name from the phone's own
  // P-Asserted-Identity or From: both are always given.
  const base = { callingNumber: user, callingName: user, headers };
  // A late offer (no SDP) has nothing to put beside the location: the call comes first.
  if (o.sdp === '') return { ...base, body: '' };
  // The PIDF-LO describes a device: an unidentified caller has no site, so no location either.
  if (plan.location === null || o.mac === null) {
    headers['Content-Type'] = 'application/sdp';
    return { ...base, body: o.sdp };
  }
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
    pidfLo(plan.location, { entity: `pres:${user}@${o.host}`, mac: o.mac, now: o.now }).replace(/\r\n$/, ''),
    `--${boundary}--`,
    '',
  ].join('\r\n');
  return { ...base, body };
}

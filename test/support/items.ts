import type { SettingFamily } from '../../src/domain/setting-formats';

/** The items a file sets, named as the phone reads them (key, element, P-value, symb_item ID). */
const ITEMS: Record<string, RegExp> = {
  yealink: /^([a-z0-9_.]+) = /gm,
  cisco: /<([A-Z][A-Za-z0-9_-]*_?)>/g,
  snom: /<([a-z_]+(?: idx="[0-9]+")?) perm=/g,
  poly: /\s([a-zA-Z][a-zA-Z0-9.]*)="/g,
  gigaset: /ID="([^"]+)"|<(S_CONFIGFILE_URL|S_PROV_USERNAME|S_PROV_PASSWORD|MAC_ADDRESS|PROFILE_NAME)\b/g,
  grandstream: /<(P[0-9]+)>/g,
  panasonic: /^([A-Z0-9_]+)=/gm,
};

export function items(family: string, body: string): Set<string> {
  const out = new Set<string>();
  for (const m of body.matchAll(ITEMS[family]!)) out.add(m[1] ?? m[2]!);
  return out;
}

/**
 * Account 1's transport and SRTP as the minimal file resets them (UDP, no SRTP), whatever a full
 * file or an upstream set: items no list owns, so that a tenant may choose TLS or SRTP for its own
 * account in the full file (config/templates/README.md); a server's transport (Yealink, Poly) is
 * the customer's too. [family, name as a setting, as written, where].
 */
export const RESETS: [SettingFamily, string, RegExp, RegExp?][] = [
  ['snom', 'user_srtp[1]', /<user_srtp idx="1" perm="R">off<\/user_srtp>/],
  ['snom', 'user_savp[1]', /<user_savp idx="1" perm="R">off<\/user_savp>/],
  ['poly', 'sec.srtp.enable', /sec\.srtp\.enable="0"/],
  ['poly', 'sec.srtp.offer', /sec\.srtp\.offer="0"/],
  ['poly', 'sec.srtp.require', /sec\.srtp\.require="0"/],
  ['poly', 'reg.1.server.1.transport', /reg\.1\.server\.1\.transport="UDPOnly"/],
  ['yealink', 'account.1.srtp_encryption', /^account\.1\.srtp_encryption = 0$/m],
  ['yealink', 'account.1.sip_server.1.transport_type', /^account\.1\.sip_server\.1\.transport_type = 0$/m],
  ['yealink', 'account.1.transport', /^account\.1\.transport = 0$/m],
  // Yealink DECT systems, whose account takes its server from server template 1 (where the minimal file has one).
  [
    'yealink',
    'template.1.sip_server.1.transport_type',
    /^template\.1\.sip_server\.1\.transport_type = 0$/m,
    /^template\.1\.outbound\.enable = 1$/m,
  ],
  ['cisco', 'SIP_Transport_1_', /<SIP_Transport_1_>UDP<\/SIP_Transport_1_>/],
  ['cisco', 'Secure_Call_Setting_1_', /<Secure_Call_Setting_1_>No<\/Secure_Call_Setting_1_>/],
  ['grandstream', 'P130', /<P130>0<\/P130>/],
  ['grandstream', 'P183', /<P183>0<\/P183>/],
  ['panasonic', 'SIP_TRANSPORT_1', /^SIP_TRANSPORT_1="0"$/m],
  [
    'gigaset',
    'BS_VOIP_Data.astVoipProviders[0].ucSIP_PREFERRED_TRANSPORT_LAYER',
    /ID="BS_VOIP_Data\.astVoipProviders\[0\]\.ucSIP_PREFERRED_TRANSPORT_LAYER" class="symb_item" value="17"/,
  ],
];

/**
 * What the minimal file writes besides when it asks for TLS (SIP_TLS_REGISTRAR): the certificate
 * checks and the CA, which a tenant may set for its own server in the full file.
 */
export const TLS_SETTABLE: [SettingFamily, string][] = [
  ['yealink', 'static.trusted_certificates.url'],
  ['yealink', 'trusted_certificates.url'],
  ['yealink', 'static.security.trust_certificates'],
  ['yealink', 'security.trust_certificates'],
  ['yealink', 'static.security.cn_validation'],
  ['yealink', 'security.cn_validation'],
  ['snom', 'tls_server_authentication'],
  ['poly', 'sec.TLS.SIP.strictCertCommonNameValidation'],
  ['grandstream', 'P2329'],
  ['grandstream', 'P2311'],
  ['grandstream', 'P2367'],
];

/** Whether `item` (as `items` names it) is one the minimal file resets and the full file leaves alone. */
export function isReset(family: string, item: string): boolean {
  return RESETS.some(([f, name]) => f === family && name.replace(/\[([0-9]+)\]$/, ' idx="$1"') === item);
}

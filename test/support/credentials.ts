/**
 * What a phone keeps of its full configuration to answer papgate's challenge: the HTTP user name
 * and password, read from a rendered file the way each vendor's items carry them
 * (config/templates/README.md), and the items that keep a DHCP- or PnP-named server from replacing
 * papgate's URL.
 */
const ITEMS: Record<string, RegExp> = {
  yealink:
    /^static\.auto_provision\.server\.username = (\S*)\nstatic\.auto_provision\.server\.password = (\S*)$/m,
  poly: /device\.prov\.user="([^"]*)" device\.prov\.password\.set="1" device\.prov\.password="([^"]*)"/,
  grandstream: /<P1360>([^<]*)<\/P1360>\s*<P1361>([^<]*)<\/P1361>/,
  // In the URL's user information: snom's setting_server, Patton's profile location.
  snom: /<setting_server perm="R">https?:\/\/([^:@/]+):([^@/]+)@/,
  patton: /^\s+location 1 https?:\/\/([^:@/]+):([^@/]+)@/m,
  cisco: /<Profile_Rule>\[--uid (\S+) --pwd (\S+)\]/,
  gigaset:
    /<S_PROV_USERNAME class="string" value='"([^"]*)"'\/>\s*<S_PROV_PASSWORD class="string" value='"([^"]*)"'\/>/,
  panasonic: /^HTTP_AUTH_ID="([^"]*)"\nHTTP_AUTH_PASSWORD="([^"]*)"$/m,
};

/** The HTTP credentials a file of `family` gives the phone; null when it gives none (or clears them). */
export function httpCredentialsIn(family: string, body: string): { user: string; password: string } | null {
  const m = ITEMS[family]!.exec(body);
  if (!m || m[1] === '' || m[1] === '%NULL%') return null;
  return { user: m[1]!, password: m[2]! };
}

/** Per family, what switches a DHCP- or PnP-named provisioning server off (none: it has no such item). */
export const OVERRIDE_OFF: Record<string, readonly RegExp[]> = {
  yealink: [
    /^static\.auto_provision\.pnp_enable = 0$/m,
    /^static\.auto_provision\.dhcp_option\.enable = 0$/m,
  ],
  poly: [/device\.dhcp\.bootSrvUseOpt\.set="1" device\.dhcp\.bootSrvUseOpt="Static"/],
  grandstream: [/<P145>0<\/P145>/],
  panasonic: [/^OPTION66_ENABLE="N"$/m],
  // FusionPBX snom/720/{$mac}.xml:20 (F writes `on`: it finds its server by PnP).
  snom: [/<pnp_config perm="R">off<\/pnp_config>/],
  patton: [],
  cisco: [],
  gigaset: [],
};

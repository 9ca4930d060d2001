import type { GatedFamily } from '../../domain/gate';
import { lineFormat } from './lines';
import type { Format } from './types';
import { xmlFormat } from './xml';

export { FormatError, type Format } from './types';

/**
 * Each gated family's format, and the items papgate owns there beyond those its own full file sets
 * (config/templates/<family>/): whatever decides where the phone provisions from and with which
 * credentials, and which SIP identity and server an account uses. An upstream's other items (keys,
 * codecs, time, language, firmware, the phone's own web login) pass as the upstream wrote them.
 */
export const FORMATS: Readonly<Record<GatedFamily, Format>> = {
  yealink: lineFormat({
    header: /^#!version:/,
    owned: [
      // Provisioning server, its credentials, PnP/DHCP/zero-touch sources, AES keys, repeat.
      /^(?:static\.)?auto_provision\./,
      /^static\.zero_touch\./,
      // Whether a check-sync NOTIFY is acted on: left at the phone's default (config/templates/README.md).
      /^sip\.notify_reboot_enable$/,
      // An account's identity and server, in any slot (also beyond the model's, which papgate clears).
      /^account\.\d+\.(?:enable|label|display_name|auth_name|user_name|password|sip_server|outbound|proxy_require)/,
    ],
  }),
  snom: xmlFormat({
    root: 'settings',
    container: 'phone-settings',
    keyAttributes: ['idx'],
    owned: [
      /^user_(?:active|realname|name|pname|pass|host|outbound|proxy)$/,
      /^(?:setting_server|pnp_config|update_policy|settings_refresh_timer|challenge_checksync)$/,
    ],
  }),
  grandstream: xmlFormat({
    root: 'gs_provision',
    container: 'config',
    keyAttributes: [],
    // Version 1 P-values only (a version 2 file's <item name=...> is refused as another format).
    items: /^P\d+$/,
    owned: [
      // Config server (P212 via, P237 path, P1360/P1361 credentials, P145 DHCP 66), its check
      // (P194/P193), and the config file name's prefix and postfix (P234/P235).
      /^P(?:212|237|1360|1361|145|194|193|234|235)$/,
      // Account 1's identity, server, secondary server (P2312) and backup outbound proxy (P2333);
      // papgate's file writes account 1 only.
      /^P(?:271|270|47|2312|35|36|34|3|48|2333)$/,
    ],
  }),
  cisco: xmlFormat({
    root: 'flat-profile',
    container: 'flat-profile',
    keyAttributes: [],
    owned: [
      // Provisioning: whether and from where the ATA resyncs, and whether check-sync needs credentials.
      /^(?:Provision_Enable|Resync_On_Reset|Resync_Periodic|Resync_From_SIP|Profile_Rule(?:_[B-D])?)$/,
      /^Auth_Resync-Reboot_\d+_$/,
      // A line's identity and server, in any line.
      /^(?:Line_Enable|Proxy|Alternate_Proxy|Outbound_Proxy|Use_Outbound_Proxy|Display_Name|User_ID|Password|Use_Auth_ID|Auth_ID|Register)_\d+_$/,
    ],
  }),
  panasonic: lineFormat({
    // papgate's templates write the first, FusionPBX's (tgp550/{$mac}.cfg) the second.
    header: /^# (?:Panasonic SIP Phone|PCC) Standard Format File #/,
    owned: [
      // Provisioning on or off, configuration files, their check and re-sync (CFG_*), their HTTP
      // credentials, DHCP option 66.
      /^provision_enable$/,
      /^cfg_/,
      /^http_auth_/,
      /^option66_/,
      // A line's identity and servers (second ones included), in any line.
      /^(?:phone_number|sip_uri|sip_authid|sip_pass|display_name|sip_(?:2nd)?rgstr_(?:addr|port)|sip_(?:prxy|2ndproxy)_(?:addr|port)|sip_svcdomain|sip_outproxy_(?:addr|port))_\d+$/,
    ],
  }),
};

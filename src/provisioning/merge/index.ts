import type { GatedFamily } from '../../domain/gate';
import { gigasetFormat } from './gigaset';
import { lineFormat } from './lines';
import { polyFormat } from './poly';
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
    // A P-value is a number: the phone reads P0237 as P237.
    canonical: (name) => name.replace(/^P0+(?=\d)/, 'P'),
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
  // papgate's master file `<mac>.cfg` stays papgate's (docs/gate-mode.md): the upstream's settings
  // file is merged into `<mac>-phone.cfg`, the one file papgate's master names.
  poly: polyFormat({
    owned: [
      // Provisioning server, its type and credentials, the DHCP boot server option, zero-touch; polling.
      /^device\.prov\.(?:serverName|serverType|user|password|ztpEnabled)(?:\.set)?$/i,
      /^device\.dhcp\.bootSrv/i,
      /^prov\.polling\./i,
      // Whether a check-sync NOTIFY is acted on, and whether the phone challenges it (FusionPBX's
      // polycom/6.x/{$mac}.cfg:217-219 sets both): left at the phone's default, as papgate's file does.
      /^voIpProt\.SIP\.(?:specialEvent\.checkSync|requestValidation)\./i,
      // A line's identity and servers, in any line, and the servers a line without its own uses.
      /^reg\.\d+\.(?:(?:address|displayName|label|thirdPartyName)$|(?:auth|server|outboundProxy)\.)/i,
      /^voIpProt\.(?:server|SIP\.outboundProxy)\./i,
      // Where emergency calls go: papgate's file writes it (config/templates/README.md).
      /^dialplan\.routing\.(?:server|emergency)\./i,
    ],
  }),
  // Keys in lower case, array indexes left out (gigaset.ts).
  gigaset: gigasetFormat({
    owned: [
      // Where the base provisions from, with which credentials (stored as aucS_HTTP_DIGEST_*), and
      // whether it checks for profile updates.
      /^(?:s_configfile_url|s_prov_username|s_prov_password)$/,
      /^bs_ip_data\.aucs_http_digest_/,
      /^bs_ip_data\d?\.ucb_(?:auto_update_profile|do_check_for_profile_updates)$/,
      /oneshot_provisioning_mode/,
      // N510: an account's identity and servers, in any account (`_n` suffixes), and the handsets
      // it is on (BS_Accounts: send and receive masks, name).
      /^bs_ip_data[13]\.(?:ucb_sip_account_is_active|aucs_sip_(?:account_name|displayname|login_id|password|user_id|domain|server|registrar|provider_name)|uii_sip_(?:server|registrar)_port|uci_outbound_proxy_mode|aucs_outbound_proxy|uii_outbound_proxy_port)/,
      /^bs_accounts\.astaccounts\[\]\./,
      // N720: the providers' servers, and each account's identity, provider and provisioning code.
      /^bs_voip_data\.astvoipproviders\[\]\.(?:aucsip_(?:domain|server|registrar)|uisip_(?:server|registrar)_port|ucoutbound_proxy_mode|aucoutbound_proxy|uioutbound_proxy_port)/,
      /^bs_voip_data\.astvoipaccounts\[\]\.(?:ucvoipproviderindex|aucs_sip_(?:displayname|login_id|password|user_id)|ucb_sip_account_is_active|aucs_autoprovisioning_code)/,
    ],
  }),
};

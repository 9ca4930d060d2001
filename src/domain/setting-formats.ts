import type { Vendor } from './device';
import { InputError } from './errors';
import type { SettingItem } from './settings';

/**
 * How a setting item looks in each vendor family's file format, and which items are papgate's own
 * (docs/settings.md). An item is written into the file as it is: its name and value are checked
 * here, on the way in, so that nothing a setting holds can end the item it is in (a newline in a
 * key = value line, `<` or `"` in XML) or replace an item papgate writes (the accounts, the
 * provisioning URL and its credential, the check-sync acceptance, the hot line, the dial plan).
 */

export const SETTING_FAMILIES = [
  'yealink',
  'snom',
  'poly',
  'cisco',
  'gigaset',
  'grandstream',
  'panasonic',
  'patton',
] as const;
export type SettingFamily = (typeof SETTING_FAMILIES)[number];

/** The family whose file format a vendor's phones read (the provisioning module of the vendor). */
export const FAMILY_OF: Readonly<Record<Vendor, SettingFamily>> = {
  yealink: 'yealink',
  snom: 'snom',
  poly: 'poly',
  spectralink: 'poly',
  cisco: 'cisco',
  linksys: 'cisco',
  gigaset: 'gigaset',
  patton: 'patton',
  grandstream: 'grandstream',
  panasonic: 'panasonic',
};

export function isSettingFamily(v: unknown): v is SettingFamily {
  return typeof v === 'string' && (SETTING_FAMILIES as readonly string[]).includes(v);
}

/** Items a layer may hold per family, and the longest name and value. */
export const MAX_ITEMS_PER_FAMILY = 500;
export const MAX_NAME_LENGTH = 128;
export const MAX_VALUE_LENGTH = 1024;
/**
 * Characters of names and values of one family in one layer: a file carries three layers beside
 * the operator's, and the provisioning server keeps up to 10 000 rendered files (bodies.ts), so a
 * tenant's layers decide its share of that memory. 200 items of 160 characters fit.
 */
export const MAX_FAMILY_CHARACTERS = 32 * 1024;

/** Control characters (C0, DEL, C1) and the line and paragraph separators: they end a line. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export interface SettingsFormat {
  /** What a name looks like, as the error says it. */
  readonly nameForm: string;
  readonly name: RegExp;
  /** What a value may not hold, as the error says it (null: any value the name's form allows). */
  readonly valueForm: string;
  readonly value: (value: string) => boolean;
  /** papgate's own items (compared without regard to case: a phone may read `P34` as `p34`). */
  readonly owned: readonly RegExp[];
  /** Where the items go in the file (docs/settings.md). */
  readonly placement: string;
}

const noneOf = (chars: string) => {
  const re = new RegExp(`[${chars.replace(/[\]\\^-]/g, '\\$&')}]`);
  return (v: string) => !CONTROL.test(v) && !re.test(v);
};

/** XML element text and attribute values: escaped when written, and refused when they hold markup or quotes. */
const XML_VALUE = { valueForm: 'no control characters, <, > or "', value: noneOf('<>"') };

/**
 * papgate's own items, per family: what its templates write (an indexed name such as
 * `account.\d+.x` for any n, beyond the model's count too); what decides where the phone
 * provisions from, with which credentials, and whether papgate's check-sync works; which SIP identity
 * and servers an account uses; and every dial plan (a dial plan can block an emergency number, and an
 * item stays on the phone when it gets the minimal file later). One list per family, read by the
 * settings (refused) and by gate mode (dropped from the upstream's file, src/provisioning/merge), so
 * the two cannot differ. A pattern is matched, without regard to case, against `ownedKey`.
 */
const own = (...patterns: string[]) => patterns.map((p) => new RegExp(`^(?:${p})$`, 'i'));

export const OWNED: Readonly<Record<Exclude<SettingFamily, 'patton'>, readonly RegExp[]>> = {
  yealink: own(
    // A server's transport is the customer's choice (TLS to their own server): not papgate's.
    'account\\.\\d+\\.(?:enable|label|display_name|auth_name|user_name|password|sip_server(?!\\.\\d+\\.transport_type$).*|outbound.*|proxy_require.*|dtmf\\.type)',
    'template\\.\\d+\\.(?!sip_server\\.\\d+\\.transport_type$).*',
    'phone_setting\\.emergency\\..*',
    // dialplan.*, and the older dialplan_dialnow.url and dialplan_replace_rule.url.
    'dialplan.*',
    'features\\.hotline_.*',
    'handset\\.\\d+\\.(?:incoming_lines|dial_out_lines|dial_out_default_line)',
    // Provisioning server, its credentials, PnP/DHCP/zero-touch sources, AES keys, repeat.
    '(?:static\\.)?auto_provision\\..*',
    'static\\.zero_touch\\..*',
    // Whether a check-sync NOTIFY is acted on: left at the phone's default (config/templates/README.md).
    'sip\\.notify_reboot_enable',
  ),
  snom: own(
    'user_(?:active|realname|name|pname|pass|host|outbound|idle_text|dtmf_info|proxy|dp|dp_str|dp_exp)',
    'setting_server',
    'pnp_config',
    'settings_refresh_timer',
    'update_policy',
    'challenge_checksync',
  ),
  poly: own(
    // A line's identity and servers, and the servers a line without its own uses.
    // ... but not a server's transport, the customer's choice.
    'reg\\.\\d+\\.(?:address|auth\\..*|displayName|label|thirdPartyName|server\\.(?!\\d+\\.transport$).*|outboundProxy\\..*)',
    'voIpProt\\.(?:server|SIP\\.outboundProxy)\\..*',
    'call\\.autoOffHook\\..*',
    'tone\\.dtmf\\.(?:viaRtp|rfc2833Control)',
    // Every dial plan, papgate's emergency routing (dialplan.routing.*) included.
    'dialplan\\..*',
    // Provisioning server, type, credentials, zero-touch, polling; the DHCP boot server option.
    'prov\\..*',
    'device\\.set',
    'device\\.prov\\.(?:serverName|serverType|user|password|ztpEnabled)(?:\\.set)?',
    'device\\.dhcp\\.bootSrv.*',
    // Whether a check-sync NOTIFY is acted on, and whether the phone challenges it (FusionPBX's
    // polycom/6.x/{$mac}.cfg:217-219 sets both): left at the phone's default, as papgate's file does.
    'voIpProt\\.SIP\\.(?:specialEvent\\.checkSync|requestValidation)\\..*',
  ),
  cisco: own(
    // Provisioning: whether and from where the ATA resyncs, and whether check-sync needs credentials.
    'Provision_Enable',
    'Resync_.*',
    'Profile_Rule(?:_[A-D])?',
    // A line's identity and servers, DTMF and dial plan, in any line.
    '(?:Line_Enable|Proxy|Alternate_Proxy|Outbound_Proxy|Use_Outbound_Proxy|Display_Name|User_ID|Password|Use_Auth_ID|Auth_ID|Register|Auth_Resync-Reboot|DTMF_Tx_Method|Dial_Plan)_\\d+_',
  ),
  gigaset: own(
    // Where the base provisions from, with which credentials (stored as aucS_HTTP_DIGEST_*), and
    // whether it checks for profile updates; S_* are the <Provider> elements of papgate's file.
    'S_CONFIGFILE_URL|S_PROV_USERNAME|S_PROV_PASSWORD',
    'BS_IP_Data1\\.aucS_DATA_SERVER(?:\\[\\])?',
    'BS_IP_Data\\.aucS_HTTP_DIGEST_.*',
    'BS_IP_Data\\d?\\.(?:ucB_AUTO_UPDATE_PROFILE|ucB_DO_CHECK_FOR_PROFILE_UPDATES)',
    '.*ONESHOT_PROVISIONING_MODE.*',
    // N510: an account's identity and servers, in any account (`_n` suffixes), DTMF, and the
    // handsets it is on (BS_Accounts: send and receive masks, name).
    'BS_IP_Data[13]\\.(?:ucB_SIP_ACCOUNT_IS_ACTIVE|aucS_SIP_(?:ACCOUNT_NAME|DISPLAYNAME|LOGIN_ID|PASSWORD|USER_ID|DOMAIN|SERVER|REGISTRAR|PROVIDER_NAME)|uiI_SIP_(?:SERVER|REGISTRAR)_PORT|ucI_OUTBOUND_PROXY_MODE|aucS_OUTBOUND_PROXY|uiI_OUTBOUND_PROXY_PORT|ucB_DTMF_TX_MODE_AUTO|ucI_DTMF_TX_MODE_BITS).*',
    'BS_AE_Subscriber\\.stMtDat\\[\\]\\.aucTlnName',
    'BS_Accounts\\.astAccounts\\[\\]\\..*',
    // N720: the providers' servers, and each account's identity, provider and provisioning code.
    'BS_VOIP_Data\\.astVoipProviders\\[\\]\\.(?:aucSIP_(?:DOMAIN|SERVER|REGISTRAR)|uiSIP_(?:SERVER|REGISTRAR)_PORT|ucOUTBOUND_PROXY_MODE|aucOUTBOUND_PROXY|uiOUTBOUND_PROXY_PORT)(?:\\[\\])?',
    'BS_VOIP_Data\\.astVoipAccounts\\[\\]\\.(?:ucVoipProviderIndex|aucS_SIP_(?:DISPLAYNAME|LOGIN_ID|PASSWORD|USER_ID)|ucB_SIP_ACCOUNT_IS_ACTIVE|aucS_AUTOPROVISIONING_CODE).*',
    'BS_VOIP_Data\\.(?:ucB_DTMF_TX_MODE_AUTO|ucI_DTMF_TX_MODE_BITS|NameOnIdleDisplay)',
  ),
  grandstream: own(
    // Config server (P212 via, P237 path, P1360/P1361 credentials, P145 DHCP 66), its check
    // (P194/P193), and the config file name's prefix and postfix (P234/P235).
    'P(?:212|237|1360|1361|145|194|193|234|235)',
    // Account 1: active, name, server, secondary server, user, auth ID, password, display name,
    // outbound and backup outbound proxy, DTMF (P2301-P2303); off-hook auto dial; check-sync
    // (P26015, P4428); the dial plan (P290).
    'P(?:271|270|47|2312|35|36|34|3|48|2333|2301|2302|2303|71|26015|4428|290)',
    // Accounts 2 to 6: line n's P-values are P{n+2}01 to P{n+2}07 (active, server, outbound proxy,
    // user, auth ID, password, display name), P{n+2}17 (name), and P2{n+2}01 to P2{n+2}03 (DTMF),
    // P2{n+2}12 (secondary server) as account 1's P23xx (W wazo_grandstream/common/templates/base.tpl:60-75);
    // P2{n+2}33 as account 1's backup outbound proxy P2333.
    'P[4-8](?:0[1-7]|17)',
    'P2[4-8](?:0[1-3]|12|33)',
  ),
  panasonic: own(
    // Provisioning on or off, configuration files, their check and re-sync, their HTTP credentials, DHCP 66.
    'PROVISION_ENABLE',
    'CFG_.*',
    'HTTP_AUTH_.*',
    'OPTION66_.*',
    // A line's identity and servers (second ones included), DTMF, in any line.
    '(?:PHONE_NUMBER|SIP_URI|SIP_AUTHID|SIP_PASS|DISPLAY_NAME|SIP_(?:2ND)?RGSTR_(?:ADDR|PORT)|SIP_(?:PRXY|2NDPROXY)_(?:ADDR|PORT)|SIP_SVCDOMAIN|SIP_OUTPROXY_(?:ADDR|PORT)|OUTBANDDTMF)_\\d+',
    'HOT_LINE_.*',
    'EMERGENCY_CALL\\d+',
    // DIAL_PLAN_n, DIAL_PLAN_NOT_MATCH_ENABLE_n and the other dial plan items.
    'DIAL_PLAN_.*',
  ),
};

/**
 * The name an owned pattern is matched against: a Gigaset ID with its array indexes left out
 * (`[%]` sets every index, `[01]` is index 1 to the base: both are every index here), a snom
 * setting without its `[n]` (an owned snom setting is owned at any index, and at an index it does
 * not take); gate mode compares the upstream's items the same way (merge/gigaset.ts, merge/xml.ts).
 */
export function ownedKey(family: SettingFamily, name: string): string {
  if (family === 'gigaset') return name.replace(/\[[^\]]*\]/g, '[]');
  if (family === 'snom') return name.replace(/\[[^\]]*\]$/, '');
  // A P-value is a number: the phone reads P0237 as P237.
  if (family === 'grandstream') return name.replace(/^P0+(?=\d)/, 'P');
  return name;
}

export const SETTINGS_FORMATS: Readonly<Record<SettingFamily, SettingsFormat | null>> = {
  // key = value lines of <mac>.cfg (Yealink auto-provisioning guide; config/templates/README.md).
  yealink: {
    nameForm:
      'a Yealink key: letters, digits, _ and -, in parts separated by dots (account.1.codec.1.enable)',
    name: /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/,
    valueForm: 'no control characters (a value is one line)',
    value: (v) => !CONTROL.test(v),
    owned: OWNED.yealink,
    placement: 'key = value lines after the accounts, before the auto-provisioning items',
  },
  // <name idx="n" perm="R">value</name> elements of settings.xml; `name[n]` carries an index.
  snom: {
    nameForm: 'a snom setting: letters, digits and _, optionally with an index in brackets (fkey[3])',
    name: /^[A-Za-z][A-Za-z0-9_]*(?:\[[0-9]{1,4}\])?$/,
    ...XML_VALUE,
    owned: OWNED.snom,
    placement: '<phone-settings> elements (perm="R") before papgate\'s provisioning elements',
  },
  // Attributes of an element of <mac>-phone.cfg (Polycom UC Software administrator's guide).
  poly: {
    nameForm:
      'a Poly parameter: letters, digits, _ and -, in parts separated by dots (tcpIpApp.sntp.address)',
    name: /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/,
    ...XML_VALUE,
    owned: OWNED.poly,
    placement: 'attributes of one <papgate> element before the provisioning elements',
  },
  // <Name>value</Name> elements of the flat profile <mac>.xml (SPA/PAP2T provisioning guide).
  cisco: {
    nameForm: 'a flat-profile parameter: letters, digits, _ and - (Time_Zone, Line_Enable_2_)',
    name: /^[A-Za-z][A-Za-z0-9_-]*$/,
    ...XML_VALUE,
    owned: OWNED.cisco,
    placement: 'elements of <flat-profile> before the dial plan',
  },
  // <SYMB_ITEM ID="..." class="symb_item" value="..."/> of the provider profile (N510, N720).
  gigaset: {
    nameForm:
      'a Gigaset SYMB_ITEM ID: names separated by dots, each optionally indexed (BS_IP_Data1.aucS_SNTP_SERVER, BS_X.ast[0].y)',
    name: /^[A-Za-z][A-Za-z0-9_]*(?:\[(?:[0-9]{1,3}|%)\])?(?:\.[A-Za-z][A-Za-z0-9_]*(?:\[(?:[0-9]{1,3}|%)\])?)+$/,
    valueForm:
      'a number (decimal or 0x hex), 0x bytes separated by commas (0x00,0x00) or a string in double quotes without quotes, <, > or control characters inside',
    // A byte list is how the bases take an array at once (`BS_CUSTOM.aucKdsPin[%]` = `0x00,0x00`,
    // the system PIN: W N510 `base.tpl:139-141`).
    value: (v) =>
      /^(?:0x[0-9A-Fa-f]{1,16}(?:,0x[0-9A-Fa-f]{1,16})*|[0-9]{1,20}|"[^"'<>\u0000-\u001f\u007f-\u009f\u2028\u2029]*")$/.test(
        v,
      ),
    owned: OWNED.gigaset,
    placement: 'SYMB_ITEM elements before the provisioning URL and credentials',
  },
  // <Pnnn>value</Pnnn> of cfg<mac>.xml, config version 1, which takes P-values, not aliases.
  grandstream: {
    nameForm: 'a Grandstream P-value (P64)',
    name: /^P[0-9]{1,5}$/,
    ...XML_VALUE,
    owned: OWNED.grandstream,
    placement: 'P-value elements of <config> before the provisioning server',
  },
  // KEY="value" lines of Config<MAC>.cfg (Panasonic SIP phone provisioning guide).
  panasonic: {
    nameForm: 'a Panasonic parameter: letters, digits and _ (TIME_ZONE)',
    name: /^[A-Za-z][A-Za-z0-9_]*$/,
    valueForm: 'no control characters, " or \\',
    value: noneOf('"\\'),
    owned: OWNED.panasonic,
    placement: 'KEY="value" lines before the configuration file path',
  },
  // A SmartNode start-up configuration is a CLI script: a line's meaning depends on the mode the
  // lines before it entered, and any command can replace the provisioning profile or the SIP
  // gateway. No item of it can be checked on its own, so the family takes none.
  patton: null,
};

export function familyOf(vendor: Vendor): SettingFamily {
  return FAMILY_OF[vendor];
}

/** Whether `name` is one of the items papgate writes in this family's files. */
export function isOwned(family: SettingFamily, format: SettingsFormat, name: string): boolean {
  const key = ownedKey(family, name);
  return format.owned.some((re) => re.test(key));
}

/**
 * One family's items as an admin sent them, checked: a list of {name, value}, names unique (as
 * the phone reads them, without regard to case), none of papgate's own. `field` names the list in
 * errors (`items.yealink`); an error names the item (`items.yealink.3.value`).
 */
export function parseFamilyItems(family: SettingFamily, input: unknown, field: string): SettingItem[] {
  const format = SETTINGS_FORMATS[family];
  if (!Array.isArray(input)) throw new InputError(`${field} must be a list of {name, value}`, field);
  if (input.length > 0 && format === null)
    throw new InputError(
      `${family} takes no settings: its file is a CLI script, in which no item can be checked on its own`,
      field,
    );
  if (input.length > MAX_ITEMS_PER_FAMILY)
    throw new InputError(`${field} holds more than ${MAX_ITEMS_PER_FAMILY} items`, field);
  const seen = new Set<string>();
  let characters = 0;
  return input.map((raw, i) => {
    const at = `${field}.${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new InputError(`${at} must be {name, value}`, at);
    const { name, value } = raw as Record<string, unknown>;
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH)
      throw new InputError(`${at}.name must be a text of 1 to ${MAX_NAME_LENGTH} characters`, `${at}.name`);
    if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH)
      throw new InputError(
        `${at}.value must be a text of at most ${MAX_VALUE_LENGTH} characters`,
        `${at}.value`,
      );
    characters += name.length + value.length;
    if (characters > MAX_FAMILY_CHARACTERS)
      throw new InputError(
        `${field} holds more than ${MAX_FAMILY_CHARACTERS} characters of names and values (at item ${i})`,
        field,
      );
    const f = format!;
    if (!f.name.test(name))
      throw new InputError(`${at}.name "${printable(name)}" is not ${f.nameForm}`, `${at}.name`);
    if (isOwned(family, f, name))
      throw new InputError(
        `${at}.name "${name}" is papgate's own (accounts, provisioning, check-sync, hot line, dial plan): it cannot be a setting`,
        `${at}.name`,
      );
    if (!f.value(value))
      throw new InputError(`${at}.value of "${name}" must hold ${f.valueForm}`, `${at}.value`);
    const key = name.toLowerCase();
    if (seen.has(key)) throw new InputError(`${at}.name "${name}" is given twice`, `${at}.name`);
    seen.add(key);
    return { name, value };
  });
}

/** A refused name shown in an error: its control characters as \u escapes. */
function printable(s: string): string {
  return s.replace(
    new RegExp(CONTROL.source, 'g'),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * The effective items of a file: the layers in order (earlier first), a later item replacing an
 * earlier one of the same name (without regard to case) in the earlier one's place.
 */
export function mergeItems(layers: readonly (readonly SettingItem[])[]): SettingItem[] {
  const byName = new Map<string, SettingItem>();
  for (const layer of layers) for (const item of layer) byName.set(item.name.toLowerCase(), item);
  return [...byName.values()];
}

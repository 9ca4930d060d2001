import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { MAX_ACCOUNTS } from '../../domain/device';
import type { CommonSettings, SettingItem } from '../../domain/settings';
import { xmlEscape } from '../render';
import { lookup, readCommon } from './common';
import { hhmm } from './tz';
import { bootFile, configFile, firstUserAgent, type VendorModule } from './types';

const FILE = /^([0-9A-F]{12})\.xml$/;
/**
 * The firmware master files a base asks its data server for (`/42/2/master.bin`, ...), when an
 * installer made that papgate: papgate serves none and points the data server back at Gigaset.
 */
const BOOT = [/^(?:master|baselines)\.bin$/];
// `Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4`, `N510 IP PRO/42.245.00.000.000`,
// `N720-DM-PRO/70.040.00.000.000`: the vendor prefix and the MAC are both optional.
const UA = [/^(?:Gigaset\s+)?(N[0-9]{3})[ -][^/]*\/[^;\s]*(?:;([0-9A-Fa-f]{12}))?/];

/**
 * uiI_TIME_TIMEZONE codes by standard offset (hours, minutes): W `wazo_gigaset/common/common.py:154-186`
 * (the codes W writes; the comment in its `N510/templates/base.tpl:145-147` lists other codes for
 * -4, -3, +4, +5, +7 and +8: unverified which the base takes).
 */
const ZONE_CODES: Readonly<Record<string, number>> = {
  '-12:00': 0x00,
  '-11:00': 0x01,
  '-10:00': 0x02,
  '-09:00': 0x03,
  '-08:00': 0x04,
  '-07:00': 0x07,
  '-06:00': 0x09,
  '-05:00': 0x0d,
  '-04:00': 0x10,
  '-03:00': 0x12,
  '-02:00': 0x16,
  '-01:00': 0x18,
  '+00:00': 0x1a,
  '+01:00': 0x1b,
  '+02:00': 0x20,
  '+03:00': 0x28,
  '+04:00': 0x2c,
  '+04:30': 0x2d,
  '+05:00': 0x2f,
  '+05:30': 0x30,
  '+05:45': 0x31,
  '+06:00': 0x33,
  '+06:30': 0x35,
  '+07:00': 0x36,
  '+08:00': 0x38,
  '+09:00': 0x3d,
  '+09:30': 0x40,
  '+10:00': 0x43,
  '+11:00': 0x47,
  '+12:00': 0x48,
  '+13:00': 0x50,
};

/** ucI_HTTPLANGUAGE (the base's web interface; the handsets keep their own): W `N510/templates/base.tpl:130-132`. */
const LANGUAGES: Readonly<Record<string, number>> = {
  en: 0x1,
  de: 0x2,
  es: 0x4,
  it: 0x7,
  fr: 0x9,
  nl: 0xa,
  tr: 0x10,
  pl: 0x11,
};

/** Strings are quoted inside the attribute, numbers hex (as the templates write them). */
const hex = (n: number) => `0x${n.toString(16)}`;

/**
 * N510: zone code, the base's own automatic DST, NTP server and web language, in `BS_IP_Data1`
 * (W N510 `base.tpl:130-156`). N720: the same zone codes (W `common.py:225-230` fills the one
 * `XX_timezone_code` both templates read), the DST flag and the web language in `BS_IP_Data`, the
 * language in decimal (W N720 `base.tpl:73,81-82`), and the NTP server with its sync flag
 * (`base.tpl:76-78`).
 */
function commonItems(settings: CommonSettings, model: string, year: number): SettingItem[] {
  const { rules, ntp, language } = readCommon(settings, year);
  const zone = rules ? lookup(ZONE_CODES, hhmm(rules.standardOffset)) : undefined;
  const lang = lookup(LANGUAGES, language);
  const n720 = /N720/i.test(model);
  const tree = n720 ? 'BS_IP_Data' : 'BS_IP_Data1';
  return [
    ...(rules && zone !== undefined
      ? [
          { name: `${tree}.uiI_TIME_TIMEZONE`, value: hex(zone) },
          {
            name: `${tree}.ucB_TIME_USE_AUTOMATIC_DST`,
            value: n720 ? String(rules.dst ? 1 : 0) : hex(rules.dst ? 1 : 0),
          },
        ]
      : []),
    ...(ntp
      ? n720
        ? [
            { name: 'BS_IP_Data.aucS_TIME_NTP_SERVER[%]', value: `"${ntp}"` },
            { name: 'BS_IP_Data.ucB_TIME_USE_AUTOMATIC_NTP_SYN', value: '1' },
          ]
        : [{ name: 'BS_IP_Data1.aucS_TIME_NTP_SERVER', value: `"${ntp}"` }]
      : []),
    ...(lang !== undefined
      ? [{ name: `${tree}.ucI_HTTPLANGUAGE`, value: n720 ? String(lang) : hex(lang) }]
      : []),
  ];
}

/**
 * Gigaset N510 IP PRO and N720 DM PRO bases: one provider profile `<MAC>.xml`; the N720 uses its
 * own tree (`n720/`).
 */
export const gigaset: VendorModule = {
  family: 'gigaset',
  vendors: ['gigaset'],
  files: ['<MAC>.xml'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  // Gigaset bases answer a provisioning challenge with Digest only (vendor wiki, "Auto
  // provisioning: HTTP Digest"; config/templates/README.md).
  httpAuth: 'Digest',
  settings: SETTINGS_FORMATS.gigaset,
  matchFile: (file) => configFile(FILE, 'provider.xml', file) ?? bootFile(BOOT, file),
  parseUserAgent: (ua) => firstUserAgent(UA, ua),
  // The N510 takes six connections, one per handset (N510 IP PRO operation manual, as
  // config/templates/README.md cites); no count for the N720 in the references.
  accountSlots: (model) => (/N510/i.test(model) ? 6 : MAX_ACCOUNTS),
  overrides: (device) => (/N720/i.test(device.model) ? ['n720'] : []),
  commonItems,
};

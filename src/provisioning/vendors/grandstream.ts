import type { CommonSettings, SettingItem } from '../../domain/settings';
import { knownModel } from '../../domain/models';
import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { xmlEscape } from '../render';
import { lookup, readCommon } from './common';
import { posixTz } from './tz';
import { bootFile, configFile, firstUserAgent, type VendorModule } from './types';

const FILE = /^cfg([0-9a-f]{12})\.xml$/;
/**
 * What a Grandstream asks for around `cfg<mac>.xml` (SIP Device Provisioning Guide): the legacy
 * binary `cfg<mac>` (newer firmware `cfg<mac>.bin`) before it, and `cfg<model>.xml` and the
 * generic `cfg.xml` after a failure. papgate serves the XML file only.
 */
const BOOT = [/^cfg[0-9a-f]{12}(?:\.bin)?$/, /^cfg(?:[a-z]{2,4}[0-9]{3,4}[a-z]{0,2})?\.xml$/];
const UA = [
  // `Grandstream Model HW GXP2200 V2.2A SW 1.0.1.33 DevId 000b82462d97`
  /^Grandstream\s+Model\s+HW\s+([A-Za-z0-9_-]+)(?:.*?\bDevId\s+([0-9A-Fa-f]{12}))?/,
  // `Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8`
  /^Grandstream\s+(GXP[0-9]+)\s+\(.*?\bDevId\s+([0-9A-Fa-f]{12})/,
];

/**
 * P1362 codes: W `wazo_grandstream/common/common.py:39-47` (de en es fr it nl), F
 * `grandstream/grp2612/{$mac}.xml:3990-3996` (pl, tr).
 */
const LANGUAGES: Readonly<Record<string, string>> = {
  de: 'de',
  en: 'en',
  es: 'es',
  fr: 'fr',
  it: 'it',
  nl: 'nl',
  pl: 'pl',
  tr: 'tr',
};

/**
 * P64 `customize` with the zone's POSIX TZ string in P246 (F `grandstream/grp2612/{$mac}.xml:3887-3905`,
 * `ht704/{$mac}.xml:2023-2030`), so every zone works, not only those of P64's list, and P143 0 so DHCP option 2 does
 * not replace it; P30 the NTP
 * server (W `common/templates/base.tpl:7-14`).
 */
function commonItems(settings: CommonSettings, _model: string, year: number): SettingItem[] {
  const { rules, ntp, language } = readCommon(settings, year);
  const lang = lookup(LANGUAGES, language);
  return [
    ...(rules && settings.timeZone !== undefined
      ? [
          { name: 'P64', value: 'customize' },
          { name: 'P246', value: posixTz(settings.timeZone, rules, year) },
          // "Allow DHCP Option 2 to Override Time Zone Setting" defaults to yes (F
          // `grandstream/grp2612/{$mac}.xml:3897-3900`): the network's offset would replace the zone.
          { name: 'P143', value: '0' },
        ]
      : []),
    ...(ntp ? [{ name: 'P30', value: ntp }] : []),
    ...(lang ? [{ name: 'P1362', value: lang }] : []),
  ];
}

/** Models whose references give no TLS value of P130 (see sipTls). */
const NO_TLS = /^(?:GXP2000|GXV\d+)$/;

export const grandstream: VendorModule = {
  family: 'grandstream',
  vendors: ['grandstream'],
  files: ['cfg<mac>.xml', 'cfg<mac>, cfg<mac>.bin, cfg<model>.xml, cfg.xml (404)'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.grandstream,
  matchFile: (file) => configFile(FILE, 'cfg.xml', file) ?? bootFile(BOOT, file),
  parseUserAgent: (ua) => firstUserAgent(UA, ua),
  // Six accounts, the most a Grandstream phone takes (GXP2160, GXP2170, GRP2616); a model with fewer
  // ignores the P-values of accounts it lacks. Every slot is written or cleared (docs/settings.md).
  accountSlots: () => 6,
  // P130 2 = TLS and P183 2 = SRTP forced in FusionPBX's GXP110x to GXP3240, GRP26xx and HT80x
  // files; not the GXP2000 ("1 - UDP, 2 - TCP", F gxp20xx/{$mac}.xml:406) nor the Android GXV
  // (F gxv3370 writes their transport as an item of another format).
  // A model declared with EXTRA_MODELS is none of these: it stays on UDP (a GXP2020 would read 2 as TCP).
  sipTls: (device) => {
    const model = knownModel('grandstream', device.model);
    return model !== null && !NO_TLS.test(model);
  },
  sipTlsUndo: () => [
    [{ name: 'P130', value: '0' }],
    [{ name: 'P183', value: '0' }],
    // "SIP URI Scheme when using TLS ... Default is 1" (sips): the minimal file writes 0.
    [{ name: 'P2329', value: '1' }],
  ],
  overrides: () => [],
  commonItems,
};

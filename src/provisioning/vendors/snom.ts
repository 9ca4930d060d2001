import type { CommonSettings, SettingItem } from '../../domain/settings';
import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { xmlEscape } from '../render';
import { lookup, readCommon } from './common';
import { sameRules, zoneRules, type ZoneRules } from './tz';
import { bootFile, configFile, modelAndMac, type VendorModule } from './types';

const HTM = /^snom[A-Za-z0-9]{2,12}-([0-9A-F]{12})\.htm$/;
/** setting_server `.../{mac}.xml`: the references take the MAC in either case (FusionPBX .htaccess). */
const XML = /^([0-9A-Fa-f]{12})\.xml$/;
/** Model-wide files a snom asks for on boot (setting lists, firmware, languages). */
const BOOT = [
  /^snom[A-Za-z0-9]{2,12}(?:-firmware)?\.(?:htm|xml)$/,
  /^(?:snom-general|gui_lang|web_lang)\.xml$/,
];
// `Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)`,
// `snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0`,
// `snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 ...`:
// the MAC, when present, is a token of exactly 12 hex digits, after a build date in parentheses.
const UA = /\bsnom([A-Za-z0-9]+)-SIP\b(?:(?:[^()]|\([^()]*\))*?\s([0-9A-F]{12})(?=[\s);]|$))?/i;

/** language/web_language names: W `wazo_snom/common/common.py:143-151`. */
const LANGUAGES: Readonly<Record<string, string>> = {
  de: 'Deutsch',
  en: 'English',
  es: 'Espanol',
  fr: 'Français',
  it: 'Italiano',
  nl: 'Nederlands',
};

/**
 * snom's `timezone` takes a code from the phone's own list (a country and the offset, which
 * carries the country's daylight-saving rule). The zones the references give a code for: W writes
 * `<country of the locale><offset in hours>` (`common.py:268-280`, countries :143-151: GER, USA, ESP,
 * FRA, ITA, NLD); F's default is `USA-7` (`app/snom/app_config.php:45-49`).
 */
const ZONE_CODES: readonly (readonly [string, string])[] = [
  ['Europe/Berlin', 'GER+1'],
  ['Europe/Paris', 'FRA+1'],
  ['Europe/Madrid', 'ESP+1'],
  ['Europe/Rome', 'ITA+1'],
  ['Europe/Amsterdam', 'NLD+1'],
  ['America/New_York', 'USA-5'],
  ['America/Chicago', 'USA-6'],
  ['America/Denver', 'USA-7'],
  ['America/Los_Angeles', 'USA-8'],
  ['America/Anchorage', 'USA-9'],
  ['Pacific/Honolulu', 'USA-10'],
];

/**
 * The code of the zone, or of the first listed zone with the very same rules this year (Vienna
 * takes Berlin's GER+1, Toronto New York's USA-5); none: no item, the phone keeps its own zone
 * (a code with other rules would put its clock off for part of the year).
 */
function snomZoneCode(zone: string, rules: ZoneRules, year: number): string | null {
  const exact = ZONE_CODES.find(([z]) => z === zone);
  if (exact) return exact[1];
  return ZONE_CODES.find(([z]) => sameRules(zoneRules(z, year), rules))?.[1] ?? null;
}

function commonItems(settings: CommonSettings, _model: string, year: number): SettingItem[] {
  const { rules, ntp, language } = readCommon(settings, year);
  const code = rules && settings.timeZone !== undefined ? snomZoneCode(settings.timeZone, rules, year) : null;
  const lang = lookup(LANGUAGES, language);
  return [
    ...(code ? [{ name: 'timezone', value: code }] : []),
    ...(ntp ? [{ name: 'ntp_server', value: ntp }] : []),
    ...(lang
      ? [
          { name: 'language', value: lang },
          { name: 'web_language', value: lang },
        ]
      : []),
  ];
}

export const snom: VendorModule = {
  family: 'snom',
  vendors: ['snom'],
  files: ['snom<model>-<MAC>.htm', '<MAC>.xml or <mac>.xml'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.snom,
  matchFile(file) {
    return (
      configFile(HTM, 'settings.xml', file) ?? configFile(XML, 'settings.xml', file) ?? bootFile(BOOT, file)
    );
  },
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  // FusionPBX snom/720/{$mac}.xml:520-591 writes twelve identities, those it has no account for cleared.
  accountSlots: () => 12,
  sipTls: () => true,
  // The full file writes user_outbound empty (no proxy, no transport). Factory values as FusionPBX's
  // settings dump has them for the identities it does not use (snom/720/{$mac}.xml:640-651, 1235-1246).
  sipTlsUndo: () => [[{ name: 'user_srtp[1]', value: 'on' }], [{ name: 'user_savp[1]', value: 'off' }]],
  overrides: () => [],
  commonItems,
};

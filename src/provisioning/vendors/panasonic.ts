import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { MAX_ACCOUNTS } from '../../domain/device';
import type { CommonSettings, SettingItem } from '../../domain/settings';
import { quotedEscape } from '../render';
import { lookup, readCommon } from './common';
import type { DstChange } from './tz';
import { configFile, modelAndMac, type VendorModule } from './types';

// Panasonic's default CFG_STANDARD_FILE_PATH ends in `Config{MAC}.cfg` ({MAC}: upper-case MAC).
const FILE = /^Config([0-9A-F]{12})\.cfg$/;
/**
 * What a phone asks for when DHCP option 66 names a server but no file (`KX-HDV130.cfg`,
 * `KX-TGP500B04.cfg`): a common file that only sets CFG_STANDARD_FILE_PATH.
 */
const MODEL_FILE = /^KX-[A-Z0-9]{3,12}\.cfg$/;
// `Panasonic_KX-HDV130/01.133 (0080f0aabbcc)`, `Panasonic_KX-UT136/...`
const UA = /^Panasonic[_-]([A-Za-z0-9-]+)(?:\/\S*)?(?:\s+\(([0-9A-Fa-f]{12})\))?/;

/**
 * Lines per model: Wazo wazo_panasonic/v01_133/plugin-info (KX-UT113 1, UT123 2, UT133 3, UT136 6),
 * FusionPBX panasonic/ut670/{$mac}.cfg (SIP_PASS_1..6); other models MAX_ACCOUNTS.
 */
const LINES: readonly [RegExp, number][] = [
  [/^(?:Panasonic[\s_-]*)?(?:KX-)?UT113\b/i, 1],
  [/^(?:Panasonic[\s_-]*)?(?:KX-)?UT123\b/i, 2],
  [/^(?:Panasonic[\s_-]*)?(?:KX-)?UT133\b/i, 3],
  [/^(?:Panasonic[\s_-]*)?(?:KX-)?UT(?:136|670)\b/i, 6],
];

/** DEFAULT_LANGUAGE: the references write `en-US` only (F `panasonic/ut670/{$mac}.cfg:130`). */
const LANGUAGES: Readonly<Record<string, string>> = { en: 'en-US' };

/** DST_START_* or DST_STOP_*: month, nth weekday (5: last), day of week (0 = Sunday), minutes after midnight. */
function dstChange(which: 'START' | 'STOP', c: DstChange): SettingItem[] {
  return [
    { name: `DST_${which}_MONTH`, value: String(c.month) },
    { name: `DST_${which}_ORDINAL_DAY`, value: String(c.week) },
    { name: `DST_${which}_DAY_OF_WEEK`, value: String(c.weekday) },
    { name: `DST_${which}_TIME`, value: String(c.time / 60) },
  ];
}

/** F `panasonic/tgp550/{$mac}.cfg:18-28` (time, minutes), :103 and W `common/templates/base.tpl:16` (NTP). */
function commonItems(settings: CommonSettings, _model: string, year: number): SettingItem[] {
  const { rules, ntp, language } = readCommon(settings, year);
  const dst = rules?.dst;
  const lang = lookup(LANGUAGES, language);
  return [
    ...(rules
      ? [
          { name: 'TIME_ZONE', value: String(rules.standardOffset / 60) },
          { name: 'DST_ENABLE', value: dst ? 'Y' : 'N' },
          ...(dst
            ? [
                { name: 'DST_OFFSET', value: String(dst.save / 60) },
                ...dstChange('START', dst.start),
                ...dstChange('STOP', dst.end),
              ]
            : []),
        ]
      : []),
    ...(ntp ? [{ name: 'NTP_ADDR', value: ntp }] : []),
    ...(lang ? [{ name: 'DEFAULT_LANGUAGE', value: lang }] : []),
  ];
}

export const panasonic: VendorModule = {
  family: 'panasonic',
  vendors: ['panasonic'],
  files: ['{MODEL}.cfg (common)', 'Config<MAC>.cfg'],
  contentType: 'text/plain; charset=utf-8',
  escape: quotedEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.panasonic,
  matchFile: (file) =>
    MODEL_FILE.test(file)
      ? { role: 'common', template: 'model.cfg', vars: {} }
      : configFile(FILE, 'config.cfg', file),
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  accountSlots: (model) => LINES.find(([re]) => re.test(model))?.[1] ?? MAX_ACCOUNTS,
  overrides: () => [],
  commonItems,
};

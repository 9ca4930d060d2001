import type { CommonSettings, SettingItem } from '../../domain/settings';
import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { quotedEscape } from '../render';
import { readCommon } from './common';
import { hhmm, type DstChange } from './tz';
import { configFile, modelAndMac, type VendorModule } from './types';

const FILE = /^([0-9a-f]{12})\.cfg$/;
// `Patton SmartNode SN4112/JS/EUI ...` (no MAC)
const UA = /\b(?:Patton|SmartNode)\b(?:.*?\b(SN[0-9][A-Za-z0-9]*))?/;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKS = ['first', 'second', 'third', 'fourth', 'last'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** `02:00 mar last sunday`: W `wazo_patton/common/common.py:92-197`. */
function dstChange(c: DstChange): string {
  return `${hhmm(c.time).slice(1)} ${MONTHS[c.month - 1]} ${WEEKS[c.week - 1]} ${DAYS[c.weekday]}`;
}

/**
 * CLI lines, `name value` (W `common/templates/base.tpl:3-16`, offsets and rule from
 * `common.py:315-326`); the SmartNode has no display, so no language item.
 */
function commonItems(settings: CommonSettings, _model: string, year: number): SettingItem[] {
  const { rules, ntp } = readCommon(settings, year);
  const dst = rules?.dst;
  return [
    ...(rules ? [{ name: 'clock local default-offset', value: hhmm(rules.standardOffset) }] : []),
    ...(rules && dst
      ? [
          {
            name: 'clock local dst-rule',
            value: `DSTRULE ${hhmm(rules.standardOffset + dst.save)} from ${dstChange(dst.start)} until ${dstChange(dst.end)}`,
          },
        ]
      : []),
    ...(ntp
      ? [
          { name: 'sntp-client', value: '' },
          { name: 'sntp-client server primary', value: ntp },
        ]
      : []),
  ];
}

export const patton: VendorModule = {
  family: 'patton',
  vendors: ['patton'],
  files: ['<mac>.cfg'],
  contentType: 'text/plain; charset=utf-8',
  escape: quotedEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.patton,
  matchFile: (file) => configFile(FILE, 'startup.cfg', file),
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  // Each download replaces the whole start-up configuration: an account not in it is gone.
  accountSlots: () => 0,
  overrides: () => [],
  commonItems,
};

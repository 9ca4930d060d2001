import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { MAX_ACCOUNTS } from '../../domain/device';
import { YEALINK_DECT } from '../../domain/hotline';
import { knownModel, YEALINK_ACCOUNTS } from '../../domain/models';
import { lineEscape } from '../render';
import type { CommonSettings, SettingItem } from '../../domain/settings';
import { lookup, readCommon } from './common';
import { isoWeekday, shortOffset, type DstChange, type ZoneRules } from './tz';
import { bootFile, configFile, firstUserAgent, type VendorModule } from './types';

const COMMON = /^y(0{9}[0-9]{3})\.cfg$/;
const DEVICE = /^([0-9a-f]{12})\.cfg$/;
/** Boot files (V81+): answered, they would replace the common and MAC files; 404 keeps those. */
const BOOT = [/^y0{12}\.boot$/, /^[0-9a-f]{12}\.boot$/];
// With colons, or (T5x firmware) without.
const MAC = '((?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}|[0-9a-fA-F]{12})';
const UA = [
  // `Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc`, `Yealink SIP-T56A 58.80.0.25 001565f429a4`,
  // `Yealink SIP VP-T49G ...`, `Yealink W60B ...`, `Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0` (no MAC)
  new RegExp(`^[yY]ealink[\\s-]+(?:SIP[-\\s])?(?:VP-)?([A-Za-z0-9_]+)(?:\\s+\\S+(?:\\s+${MAC}\\b)?)?`),
  // `W52P 25.30.0.2 00:15:65:44:b3:7c`, `VP530P 23.70.0.40 ...`: older firmware names no vendor.
  new RegExp(`^((?:W[0-9]{2}|VP[0-9]{3})[A-Z]?)\\s+[0-9.]+\\s+${MAC}\\b`),
];
/**
 * DECT systems whose 8x.87 firmware takes the SIP server from a server template (Wazo
 * wazo_yealink/v87 W70B/W75B/W80B/W90B/W75DM/W80DM/W90DM.tpl, all `extends 'base-dect.tpl'`).
 */
const DECT_SYSTEM = /W(?:70|75|80|90)(?:B|DM)\b/i;

/** SIP accounts per model (YEALINK_ACCOUNTS); models without a count get MAX_ACCOUNTS. */
const SIP_ACCOUNTS = new Map<string, number>(
  YEALINK_ACCOUNTS.flatMap(([count, models]) =>
    count === null ? [] : models.split(' ').map((m) => [m, count] as const),
  ),
);
/**
 * Handsets a DECT base takes, where FusionPBX writes their line items (`handset.X.*`: W52P/W56P
 * `y000000000025.cfg` "X ranges from 1 to 5", W60B `y000000000077.cfg:509-547`, W70B
 * `y000000000146.cfg:492-530`); never fewer than the model's accounts.
 */
const HANDSETS: Readonly<Record<string, number>> = { W52P: 5, W56P: 5, W60B: 8, W70B: 8 };

/** The canonical name (`SIP-T54W`, `Yealink T54W` -> `T54W`): a device stored before models were checked may have another. */
function modelKey(model: string): string {
  return knownModel('yealink', model) ?? model;
}

function sipAccounts(model: string): number {
  return SIP_ACCOUNTS.get(modelKey(model)) ?? MAX_ACCOUNTS;
}

/** lang.gui/lang.wui names and the DECT handsets' language number: W `wazo_yealink/common/common.py:324-331`. */
const LANGUAGES: Readonly<Record<string, readonly [string, string]>> = {
  de: ['German', '2'],
  en: ['English', '0'],
  es: ['Spanish', '6'],
  fr: ['French', '1'],
  it: ['Italian', '3'],
};

/**
 * The standard offsets `local_time.time_zone` takes: W clamps to -11..+12 (`common.py:431`). A zone
 * outside (Pacific/Kiritimati +14, Pacific/Tongatapu +13, Etc/GMT+12) gets no time items rather
 * than W's clamped offset, which would set the clock hours wrong.
 */
const MIN_OFFSET = -11 * 3600;
const MAX_OFFSET = 12 * 3600;

/**
 * Time as W writes it (`common.py:429-448`): the standard offset and a DST rule by week, so every
 * zone works without the phone's own list of zone names; config/templates/README.md, "Common settings".
 */
function timeItems(rules: ZoneRules): SettingItem[] {
  if (rules.standardOffset < MIN_OFFSET || rules.standardOffset > MAX_OFFSET) return [];
  const items: SettingItem[] = [
    { name: 'local_time.time_zone', value: shortOffset(rules.standardOffset) },
    { name: 'local_time.summer_time', value: rules.dst ? '1' : '0' },
  ];
  if (!rules.dst) return items;
  const when = (c: DstChange) => `${c.month}/${c.week}/${isoWeekday(c.weekday)}/${Math.floor(c.time / 3600)}`;
  return [
    ...items,
    { name: 'local_time.dst_time_type', value: '1' },
    { name: 'local_time.start_time', value: when(rules.dst.start) },
    { name: 'local_time.end_time', value: when(rules.dst.end) },
    { name: 'local_time.offset_time', value: String(rules.dst.save / 60) },
  ];
}

function commonItems(settings: CommonSettings, model: string, year: number): SettingItem[] {
  const { rules, ntp, language } = readCommon(settings, year);
  const lang = lookup(LANGUAGES, language);
  return [
    ...(rules ? timeItems(rules) : []),
    ...(ntp ? [{ name: 'local_time.ntp_server1', value: ntp }] : []),
    ...(lang
      ? YEALINK_DECT.test(model)
        ? [
            { name: 'lang.wui', value: lang[0] },
            { name: 'custom.handset.language', value: lang[1] },
          ]
        : [
            { name: 'lang.gui', value: lang[0] },
            { name: 'lang.wui', value: lang[0] },
          ]
      : []),
  ];
}

export const yealink: VendorModule = {
  family: 'yealink',
  vendors: ['yealink'],
  files: ['y0000000000xx.cfg (common, xx = model code)', '<mac>.cfg', 'y000000000000.boot, <mac>.boot (404)'],
  contentType: 'text/plain; charset=utf-8',
  escape: lineEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.yealink,
  matchFile(file) {
    const c = COMMON.exec(file);
    if (c) return { role: 'common', template: 'common.cfg', vars: { modelCode: c[1]! } };
    return configFile(DEVICE, 'device.cfg', file) ?? bootFile(BOOT, file);
  },
  parseUserAgent: (ua) => firstUserAgent(UA, ua),
  accountSlots: sipAccounts,
  handsets: (model) =>
    YEALINK_DECT.test(model) ? Math.max(HANDSETS[modelKey(model)] ?? 0, sipAccounts(model)) : 0,
  // Every family of theirs: V8x desk phones and DECT systems by transport_type, V7x firmware and the
  // older DECT bases by account.1.transport, SRTP by srtp_encryption (config/templates/README.md).
  sipTls: () => true,
  // The two generations' names of one choice (the same 0 UDP, 1 TCP, 2 TLS, 3 DNS-NAPTR), and a DECT
  // system's server template: a layer that sets one sets the transport of all.
  sipTlsUndo: (model) => [
    [
      { name: 'account.1.sip_server.1.transport_type', value: '0' },
      { name: 'account.1.transport', value: '0' },
      ...(DECT_SYSTEM.test(model) ? [{ name: 'template.1.sip_server.1.transport_type', value: '0' }] : []),
    ],
    [{ name: 'account.1.srtp_encryption', value: '0' }],
  ],
  overrides(device) {
    if (DECT_SYSTEM.test(device.model)) return ['dect-system', 'dect'];
    return YEALINK_DECT.test(device.model) ? ['dect'] : [];
  },
  commonItems,
};

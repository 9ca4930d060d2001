import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { MAX_ACCOUNTS } from '../../domain/device';
import { knownModel } from '../../domain/models';
import type { CommonSettings, SettingItem } from '../../domain/settings';
import { xmlEscape } from '../render';
import { lookup, readCommon } from './common';
import type { DstChange, ZoneRules } from './tz';
import { bootFile, modelAndMac, macFrom, type VendorModule } from './types';

const MASTER = /^([0-9a-f]{12})\.cfg$/;
const PHONE = /^([0-9a-f]{12})-phone\.cfg$/;
/** Directory, web and licence files and the firmware a booting phone asks for. */
const BOOT = [
  /^[0-9a-f]{12}-(?:directory\.xml|web\.cfg|license\.cfg)$/,
  /^sip\.(?:ld|ver)$/,
  /^[0-9a-z]{4,12}-sip\.ld$/,
];
// `FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234`, `FileTransport SpectraLink8400-SL_8440-UA/...`
const UA = /\b(?:Polycom|Spectralink)[A-Za-z0-9]*-([A-Za-z0-9_]+)-UA\//i;

/** lcl.ml.lang names: W `wazo_polycom/common/common.py:151-159`. */
const LANGUAGES: Readonly<Record<string, string>> = {
  de: 'German_Germany',
  en: 'English_United_States',
  es: 'Spanish_Spain',
  fr: 'French_France',
  it: 'Italian_Italy',
  nl: 'Dutch_Netherlands',
};

const SNTP = 'tcpIpApp.sntp';

/**
 * One DST change as W writes it (`common.py:193-221`): month, hour, day of week (1 = Sunday), and
 * either "last in month" or the first date the nth weekday can fall on (8 for the 2nd Sunday).
 */
function dstChange(which: 'start' | 'stop', c: DstChange): SettingItem[] {
  const p = `${SNTP}.daylightSavings.${which}`;
  return [
    { name: `${p}.month`, value: String(c.month) },
    { name: `${p}.time`, value: String(Math.floor(c.time / 3600)) },
    { name: `${p}.dayOfWeek`, value: String(c.weekday + 1) },
    { name: `${p}.dayOfWeek.lastInMonth`, value: c.week === 5 ? '1' : '0' },
    ...(c.week === 5 ? [] : [{ name: `${p}.date`, value: String((c.week - 1) * 7 + 1) }]),
  ];
}

function timeItems(rules: ZoneRules): SettingItem[] {
  const items: SettingItem[] = [
    { name: `${SNTP}.gmtOffset`, value: String(rules.standardOffset) },
    // Else a DHCP server's option 2 replaces it (F `polycom/6.x/{$mac}.cfg:127`).
    { name: `${SNTP}.gmtOffset.overrideDHCP`, value: '1' },
    { name: `${SNTP}.daylightSavings.enable`, value: rules.dst ? '1' : '0' },
  ];
  if (!rules.dst) return items;
  return [
    ...items,
    { name: `${SNTP}.daylightSavings.fixedDayEnable`, value: '0' },
    ...dstChange('start', rules.dst.start),
    ...dstChange('stop', rules.dst.end),
  ];
}

function commonItems(settings: CommonSettings, _model: string, year: number): SettingItem[] {
  const { rules, ntp, language } = readCommon(settings, year);
  const lang = lookup(LANGUAGES, language);
  return [
    ...(rules ? timeItems(rules) : []),
    ...(ntp
      ? [
          { name: `${SNTP}.address`, value: ntp },
          { name: `${SNTP}.address.overrideDHCP`, value: '1' },
        ]
      : []),
    ...(lang ? [{ name: 'lcl.ml.lang', value: lang }] : []),
  ];
}

/**
 * "TLS is not supported on SoundPoint IP 300 and 500 phones" (SoundPoint IP SIP 2.2 administrator's
 * guide, https://azmanual.top/manuals/189944/polycom-soundpoint-sip-220.html?page=120): the 301 and
 * 501 papgate knows are those phones' later builds, read alike.
 */
const NO_TLS = new Set(['SPIP300', 'SPIP301', 'SPIP500', 'SPIP501']);

/**
 * Poly UC Software phones, and Spectralink's UCS-based handsets (84xx/Versity), which request the
 * same files: `<mac>.cfg` (per-phone master file, falling back to `000000000000.cfg`), which only
 * lists `<mac>-phone.cfg`, where the settings are.
 */
export const poly: VendorModule = {
  family: 'poly',
  vendors: ['poly', 'spectralink'],
  files: ['000000000000.cfg (common master file)', '<mac>.cfg (master file)', '<mac>-phone.cfg'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.poly,
  matchFile(file) {
    if (file === '000000000000.cfg') return { role: 'common', template: 'master.cfg', vars: {} };
    const m = MASTER.exec(file);
    const master = macFrom(m?.[1]);
    if (master) return { role: 'pointer', template: 'master.cfg', mac: master };
    const p = PHONE.exec(file);
    const mac = macFrom(p?.[1]);
    return mac ? { role: 'config', template: 'phone.cfg', mac } : bootFile(BOOT, file);
  },
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  // The references write only the lines in use (FusionPBX polycom/6.x, Wazo wazo_polycom base.tpl):
  // no count, so every line papgate can have written.
  accountSlots: () => MAX_ACCOUNTS,
  // Spectralink's handsets: no reference names their TLS and SRTP items (docs/phones.md); a model
  // declared with EXTRA_MODELS is none papgate knows to take them either.
  sipTls: (device) => {
    const model = device.vendor === 'poly' ? knownModel('poly', device.model) : null;
    return model !== null && !NO_TLS.has(model);
  },
  // SRTP is the phone's, not the line's (sec.srtp.*): written back for every line at once.
  sipTlsUndo: () => [
    // "DNSnaptr" is the factory value (UCS administrator's guides, reg.x.server.y.transport), read
    // as UDP where the port is given, as papgate's accounts give it.
    [{ name: 'reg.1.server.1.transport', value: 'DNSnaptr' }],
    [{ name: 'sec.srtp.enable', value: '0' }],
    [{ name: 'sec.srtp.offer', value: '0' }],
    [{ name: 'sec.srtp.require', value: '0' }],
  ],
  overrides: (device) => (device.vendor === 'spectralink' ? ['spectralink'] : []),
  commonItems,
};

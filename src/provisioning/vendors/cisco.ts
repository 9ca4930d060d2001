import type { CommonSettings, SettingItem } from '../../domain/settings';
import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { xmlEscape } from '../render';
import { readCommon } from './common';
import { hhmm, isoWeekday, type DstChange } from './tz';
import { configFile, firstUserAgent, type VendorModule } from './types';

const FILE = /^([0-9a-f]{12})\.xml$/;
/** What a factory-reset ATA asks for first (Profile_Rule `/spa$PSN.cfg`; the PAP2T: `init.cfg`). */
const BOOT_PROFILE = /^(?:spa[0-9a-z]{2,6}|init)\.cfg$/;
const UA = [
  // `Cisco/SPA501G-7.4.4 (8843E157DDCC)(CBT141100HR)`: the MAC only ever comes before the serial;
  // `Cisco/SPA525G-7.4.4 (CBT141900G7)` carries the serial alone.
  /^Cisco\/([A-Za-z0-9]+)-\S+\s*(?:\(([0-9A-Fa-f]{12})\)(?=\(\w+\)))?/,
  // `Linksys/SPA-942-6.1.5(a) (88019FA42805)`: the group is a serial number even when it looks
  // like a MAC, so no MAC is read.
  /^Linksys\/([A-Za-z]+-?[0-9]+[A-Za-z0-9]*)-/,
];

/** `3/-1/7/2:0:0`: W's form (`wazo_cisco_spa/common/common.py:344-358`): day -1 the last weekday, else the first date the nth can fall on; weekday 1 = Monday. */
function dstChange(c: DstChange): string {
  const day = c.week === 5 ? -1 : (c.week - 1) * 7 + 1;
  return `${c.month}/${day}/${isoWeekday(c.weekday)}/${hms(c.time)}`;
}

function hms(seconds: number): string {
  return `${Math.floor(seconds / 3600)}:${Math.floor((seconds % 3600) / 60)}:${seconds % 60}`;
}

/** Time as W writes it (`common.py:360-380`); the ATAs have no display, so no language item. */
function commonItems(settings: CommonSettings, _model: string, year: number): SettingItem[] {
  const { rules, ntp } = readCommon(settings, year);
  const dst = rules?.dst;
  return [
    ...(rules
      ? [
          { name: 'Time_Zone', value: `GMT${hhmm(rules.standardOffset)}` },
          { name: 'Daylight_Saving_Time_Enable', value: dst ? 'yes' : 'no' },
          ...(dst
            ? [
                {
                  name: 'Daylight_Saving_Time_Rule',
                  value: `start=${dstChange(dst.start)};end=${dstChange(dst.end)};save=${hms(dst.save)}`,
                },
              ]
            : []),
        ]
      : []),
    ...(ntp ? [{ name: 'Primary_NTP_Server', value: ntp }] : []),
  ];
}

/**
 * Cisco SPA112/SPA122 and Linksys PAP2T/SPA2102 ATAs: one flat-profile XML `<mac>.xml` fetched via
 * Profile_Rule. Linksys devices run the same firmware family (and report "Cisco/" or "Linksys/"
 * depending on the firmware), so the two vendors share this module. The ATA190/ATA191 are not
 * among them: their reference provisions them in the CUCM format (`ATA<MAC>.cnf.xml`).
 */
export const cisco: VendorModule = {
  family: 'cisco',
  vendors: ['cisco', 'linksys'],
  files: ['spa<PSN>.cfg, init.cfg (boot profile)', '<mac>.xml (Profile_Rule $MA.xml)'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.cisco,
  matchFile: (file) =>
    BOOT_PROFILE.test(file)
      ? { role: 'common', template: 'spa.cfg', vars: {} }
      : configFile(FILE, 'profile.xml', file),
  parseUserAgent: (ua) => firstUserAgent(UA, ua),
  // Wazo's common ATA profile switches off and clears lines 1-8 ("Disable all lines and make sure
  // all credentials are promptly removed", wazo_cisco_spa/common/var/tftpboot/spa-ata.xml:146-213).
  accountSlots: () => 8,
  overrides: () => [],
  commonItems,
};

import { lineEscape } from '../render';
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
/** DECT bases and managers (W52P, W60B, W80B, W80DM, ...): no off-hook hot line. */
const DECT = /W[0-9]{2}(?:[BP]|DM)\b/i;
/**
 * DECT systems whose 8x.87 firmware takes the SIP server from a server template (Wazo
 * wazo_yealink/v87 W70B/W75B/W80B/W90B/W75DM/W80DM/W90DM.tpl, all `extends 'base-dect.tpl'`).
 */
const DECT_SYSTEM = /W(?:70|75|80|90)(?:B|DM)\b/i;

export const yealink: VendorModule = {
  family: 'yealink',
  vendors: ['yealink'],
  files: ['y0000000000xx.cfg (common, xx = model code)', '<mac>.cfg', 'y000000000000.boot, <mac>.boot (404)'],
  contentType: 'text/plain; charset=utf-8',
  escape: lineEscape,
  httpAuth: 'Basic',
  matchFile(file) {
    const c = COMMON.exec(file);
    if (c) return { role: 'common', template: 'common.cfg', vars: { modelCode: c[1]! } };
    return configFile(DEVICE, 'device.cfg', file) ?? bootFile(BOOT, file);
  },
  parseUserAgent: (ua) => firstUserAgent(UA, ua),
  overrides(device) {
    if (DECT_SYSTEM.test(device.model)) return ['dect-system', 'dect'];
    return DECT.test(device.model) ? ['dect'] : [];
  },
};

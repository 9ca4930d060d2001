import { lineEscape } from '../render';
import { configFile, modelAndMac, type VendorModule } from './types';

const COMMON = /^y(0{9}[0-9]{3})\.cfg$/;
const DEVICE = /^([0-9a-f]{12})\.cfg$/;
// `Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc`, `Yealink W60B 77.83.0.85 00:15:65:aa:bb:cc`
const UA =
  /^Yealink\s+(?:SIP[-\s])?([A-Za-z0-9_-]+)(?:\s+\S+(?:\s+((?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}))?)?/;
const DECT_BASE = /W[0-9]{2}[BP]\b/i;

export const yealink: VendorModule = {
  family: 'yealink',
  vendors: ['yealink'],
  files: ['y0000000000xx.cfg (common, xx = model code)', '<mac>.cfg'],
  contentType: 'text/plain; charset=utf-8',
  escape: lineEscape,
  httpCredentials: true,
  matchFile(file) {
    const c = COMMON.exec(file);
    if (c) return { role: 'common', template: 'common.cfg', vars: { modelCode: c[1]! } };
    return configFile(DEVICE, 'device.cfg', file);
  },
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  overrides(device) {
    return DECT_BASE.test(device.model) ? ['dect'] : [];
  },
};

import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { quotedEscape } from '../render';
import { configFile, modelAndMac, type VendorModule } from './types';

const FILE = /^([0-9a-f]{12})\.cfg$/;
// `Patton SmartNode SN4112/JS/EUI ...` (no MAC)
const UA = /\b(?:Patton|SmartNode)\b(?:.*?\b(SN[0-9][A-Za-z0-9]*))?/;

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
};

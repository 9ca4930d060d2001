import { quotedEscape } from '../render';
import { configFile, modelAndMac, type VendorModule } from './types';

// Panasonic's default CFG_STANDARD_FILE_PATH ends in `Config{MAC}.cfg` ({MAC}: upper-case MAC).
const FILE = /^Config([0-9A-F]{12})\.cfg$/;
// `Panasonic_KX-HDV130/01.133 (0080f0aabbcc)`, `Panasonic_KX-UT136/...`
const UA = /^Panasonic[_-]([A-Za-z0-9-]+)(?:\/\S*)?(?:\s+\(([0-9A-Fa-f]{12})\))?/;

export const panasonic: VendorModule = {
  family: 'panasonic',
  vendors: ['panasonic'],
  files: ['Config<MAC>.cfg'],
  contentType: 'text/plain; charset=utf-8',
  escape: quotedEscape,
  httpAuth: 'Basic',
  matchFile: (file) => configFile(FILE, 'config.cfg', file),
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  overrides: () => [],
};

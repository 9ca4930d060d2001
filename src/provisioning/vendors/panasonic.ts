import { quotedEscape } from '../render';
import { macFrom, type VendorModule } from './types';

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
  httpCredentials: false,
  matchFile(file) {
    const mac = macFrom(FILE.exec(file)?.[1]);
    return mac ? { role: 'config', template: 'config.cfg', mac } : null;
  },
  parseUserAgent(ua) {
    const m = UA.exec(ua);
    if (!m) return null;
    const mac = macFrom(m[2]);
    return { model: m[1]!, ...(mac ? { mac } : {}) };
  },
  overrides: () => [],
};

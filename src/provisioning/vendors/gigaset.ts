import { xmlEscape } from '../render';
import { configFile, modelAndMac, type VendorModule } from './types';

const FILE = /^([0-9A-F]{12})\.xml$/;
// `Gigaset N670 IP PRO/83.V2.11.0+build.a546b8d;7C2F80AABBCC` (MAC not always present)
const UA = /^Gigaset\s+([A-Za-z0-9]+)/;

export const gigaset: VendorModule = {
  family: 'gigaset',
  vendors: ['gigaset'],
  files: ['<MAC>.xml'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpCredentials: false,
  matchFile: (file) => configFile(FILE, 'provider.xml', file),
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  overrides: () => [],
};

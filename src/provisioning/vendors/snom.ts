import { xmlEscape } from '../render';
import { configFile, modelAndMac, type VendorModule } from './types';

const HTM = /^snom[A-Za-z0-9]{2,12}-([0-9A-F]{12})\.htm$/;
const XML = /^([0-9A-F]{12})\.xml$/;
// `Mozilla/4.0 (compatible; snom710-SIP 10.1.x ...)`, `snomD785-SIP ...`
const UA = /\bsnom([A-Za-z0-9]+)-SIP\b/i;

export const snom: VendorModule = {
  family: 'snom',
  vendors: ['snom'],
  files: ['snom<model>-<MAC>.htm', '<MAC>.xml'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  // snom sends HTTP credentials only when they are part of setting_server's URL; we keep the
  // credential in the URL path instead.
  httpCredentials: false,
  matchFile(file) {
    return configFile(HTM, 'settings.xml', file) ?? configFile(XML, 'settings.xml', file);
  },
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  overrides: () => [],
};

import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { xmlEscape } from '../render';
import { bootFile, configFile, modelAndMac, type VendorModule } from './types';

const HTM = /^snom[A-Za-z0-9]{2,12}-([0-9A-F]{12})\.htm$/;
/** setting_server `.../{mac}.xml`: the references take the MAC in either case (FusionPBX .htaccess). */
const XML = /^([0-9A-Fa-f]{12})\.xml$/;
/** Model-wide files a snom asks for on boot (setting lists, firmware, languages). */
const BOOT = [
  /^snom[A-Za-z0-9]{2,12}(?:-firmware)?\.(?:htm|xml)$/,
  /^(?:snom-general|gui_lang|web_lang)\.xml$/,
];
// `Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)`,
// `snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0`,
// `snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 ...`:
// the MAC, when present, is a token of exactly 12 hex digits, after a build date in parentheses.
const UA = /\bsnom([A-Za-z0-9]+)-SIP\b(?:(?:[^()]|\([^()]*\))*?\s([0-9A-F]{12})(?=[\s);]|$))?/i;

export const snom: VendorModule = {
  family: 'snom',
  vendors: ['snom'],
  files: ['snom<model>-<MAC>.htm', '<MAC>.xml or <mac>.xml'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.snom,
  matchFile(file) {
    return (
      configFile(HTM, 'settings.xml', file) ?? configFile(XML, 'settings.xml', file) ?? bootFile(BOOT, file)
    );
  },
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  // FusionPBX snom/720/{$mac}.xml:520-591 writes twelve identities, those it has no account for cleared.
  accountSlots: () => 12,
  overrides: () => [],
};

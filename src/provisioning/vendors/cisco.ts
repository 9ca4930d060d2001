import { xmlEscape } from '../render';
import { configFile, modelAndMac, type VendorModule } from './types';

const FILE = /^([0-9a-f]{12})\.xml$/;
// `Cisco/SPA112-1.4.1 (0011aabbccdd)`, `Linksys/PAP2T-5.1.6(LS) (0011aabbccdd)`
const UA = /^(?:Cisco|Linksys)\/([A-Za-z0-9]+)-\S*(?:\s+\(([0-9A-Fa-f]{12})\))?/;

/**
 * Cisco SPA112/ATA191 and Linksys PAP2T/SPA2102 ATAs: one flat-profile XML `<mac>.xml` fetched
 * via Profile_Rule. Linksys devices run the same firmware family (and report "Cisco/" or
 * "Linksys/" depending on the firmware), so the two vendors share this module; `linksys/` holds
 * the Linksys overrides.
 */
export const cisco: VendorModule = {
  family: 'cisco',
  vendors: ['cisco', 'linksys'],
  files: ['<mac>.xml (Profile_Rule $MA.xml)'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  // Profile_Rule can carry --uid/--pwd, but the credential in the URL path is enough.
  httpCredentials: false,
  matchFile: (file) => configFile(FILE, 'profile.xml', file),
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  overrides: (device) => (device.vendor === 'linksys' ? ['linksys'] : []),
};

import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { MAX_ACCOUNTS } from '../../domain/device';
import { xmlEscape } from '../render';
import { bootFile, configFile, firstUserAgent, type VendorModule } from './types';

const FILE = /^([0-9A-F]{12})\.xml$/;
/**
 * The firmware master files a base asks its data server for (`/42/2/master.bin`, ...), when an
 * installer made that papgate: papgate serves none and points the data server back at Gigaset.
 */
const BOOT = [/^(?:master|baselines)\.bin$/];
// `Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4`, `N510 IP PRO/42.245.00.000.000`,
// `N720-DM-PRO/70.040.00.000.000`: the vendor prefix and the MAC are both optional.
const UA = [/^(?:Gigaset\s+)?(N[0-9]{3})[ -][^/]*\/[^;\s]*(?:;([0-9A-Fa-f]{12}))?/];

/**
 * Gigaset N510 IP PRO and N720 DM PRO bases: one provider profile `<MAC>.xml`; the N720 uses its
 * own tree (`n720/`).
 */
export const gigaset: VendorModule = {
  family: 'gigaset',
  vendors: ['gigaset'],
  files: ['<MAC>.xml'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  // Gigaset bases answer a provisioning challenge with Digest only (vendor wiki, "Auto
  // provisioning: HTTP Digest"; config/templates/README.md).
  httpAuth: 'Digest',
  settings: SETTINGS_FORMATS.gigaset,
  matchFile: (file) => configFile(FILE, 'provider.xml', file) ?? bootFile(BOOT, file),
  parseUserAgent: (ua) => firstUserAgent(UA, ua),
  // The N510 takes six connections, one per handset (N510 IP PRO operation manual, as
  // config/templates/README.md cites); no count for the N720 in the references.
  accountSlots: (model) => (/N510/i.test(model) ? 6 : MAX_ACCOUNTS),
  overrides: (device) => (/N720/i.test(device.model) ? ['n720'] : []),
};

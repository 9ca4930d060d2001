import { SETTINGS_FORMATS } from '../../domain/setting-formats';
import { MAX_ACCOUNTS } from '../../domain/device';
import { xmlEscape } from '../render';
import { bootFile, modelAndMac, macFrom, type VendorModule } from './types';

const MASTER = /^([0-9a-f]{12})\.cfg$/;
const PHONE = /^([0-9a-f]{12})-phone\.cfg$/;
/** Directory, web and licence files and the firmware a booting phone asks for. */
const BOOT = [
  /^[0-9a-f]{12}-(?:directory\.xml|web\.cfg|license\.cfg)$/,
  /^sip\.(?:ld|ver)$/,
  /^[0-9a-z]{4,12}-sip\.ld$/,
];
// `FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234`, `FileTransport SpectraLink8400-SL_8440-UA/...`
const UA = /\b(?:Polycom|Spectralink)[A-Za-z0-9]*-([A-Za-z0-9_]+)-UA\//i;

/**
 * Poly UC Software phones, and Spectralink's UCS-based handsets (84xx/Versity), which request the
 * same files: `<mac>.cfg` (per-phone master file, falling back to `000000000000.cfg`), which only
 * lists `<mac>-phone.cfg`, where the settings are.
 */
export const poly: VendorModule = {
  family: 'poly',
  vendors: ['poly', 'spectralink'],
  files: ['000000000000.cfg (common master file)', '<mac>.cfg (master file)', '<mac>-phone.cfg'],
  contentType: 'application/xml; charset=utf-8',
  escape: xmlEscape,
  httpAuth: 'Basic',
  settings: SETTINGS_FORMATS.poly,
  matchFile(file) {
    if (file === '000000000000.cfg') return { role: 'common', template: 'master.cfg', vars: {} };
    const m = MASTER.exec(file);
    const master = macFrom(m?.[1]);
    if (master) return { role: 'pointer', template: 'master.cfg', mac: master };
    const p = PHONE.exec(file);
    const mac = macFrom(p?.[1]);
    return mac ? { role: 'config', template: 'phone.cfg', mac } : bootFile(BOOT, file);
  },
  parseUserAgent: (ua) => modelAndMac(UA, ua),
  // The references write only the lines in use (FusionPBX polycom/6.x, Wazo wazo_polycom base.tpl):
  // no count, so every line papgate can have written.
  accountSlots: () => MAX_ACCOUNTS,
  overrides: (device) => (device.vendor === 'spectralink' ? ['spectralink'] : []),
};

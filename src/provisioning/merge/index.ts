import type { GatedFamily } from '../../domain/gate';
import { OWNED, ownedKey } from '../../domain/setting-formats';
import { gigasetFormat } from './gigaset';
import { lineFormat } from './lines';
import { polyFormat } from './poly';
import type { Format } from './types';
import { xmlFormat } from './xml';

export { FormatError, type Format } from './types';

/**
 * Each gated family's format, and the items papgate owns there beyond those its own full file sets
 * (config/templates/<family>/): the list the settings refuse (`OWNED`, src/domain/setting-formats.ts),
 * so that what no setting may set, no upstream sets either. An upstream's other items (keys,
 * codecs, time, language, firmware, the phone's own web login) pass as the upstream wrote them.
 */
export const FORMATS: Readonly<Record<GatedFamily, Format>> = {
  yealink: lineFormat({
    header: /^#!version:/,
    owned: OWNED.yealink,
  }),
  snom: xmlFormat({
    root: 'settings',
    container: 'phone-settings',
    keyAttributes: ['idx'],
    owned: OWNED.snom,
  }),
  grandstream: xmlFormat({
    root: 'gs_provision',
    container: 'config',
    keyAttributes: [],
    // Version 1 P-values only (a version 2 file's <item name=...> is refused as another format).
    items: /^P\d+$/,
    // A P-value is a number: the phone reads P0237 as P237 (ownedKey).
    canonical: (name) => ownedKey('grandstream', name),
    owned: OWNED.grandstream,
  }),
  cisco: xmlFormat({
    root: 'flat-profile',
    container: 'flat-profile',
    keyAttributes: [],
    owned: OWNED.cisco,
  }),
  panasonic: lineFormat({
    // papgate's templates write the first, FusionPBX's (tgp550/{$mac}.cfg) the second.
    header: /^# (?:Panasonic SIP Phone|PCC) Standard Format File #/,
    owned: OWNED.panasonic,
  }),
  // papgate's master file `<mac>.cfg` stays papgate's (docs/gate-mode.md): the upstream's settings
  // file is merged into `<mac>-phone.cfg`, the one file papgate's master names.
  poly: polyFormat({
    owned: OWNED.poly,
  }),
  // Keys in lower case, array indexes left out (gigaset.ts).
  gigaset: gigasetFormat({
    owned: OWNED.gigaset,
  }),
};

import type { Vendor } from '../../domain/device';
import { VENDORS } from '../../domain/device';
import { cisco } from './cisco';
import { gigaset } from './gigaset';
import { grandstream } from './grandstream';
import { panasonic } from './panasonic';
import { patton } from './patton';
import { poly } from './poly';
import { snom } from './snom';
import type { FileMatch, VendorModule } from './types';
import { yealink } from './yealink';

export type { FileMatch, UserAgentInfo, VendorModule } from './types';

/**
 * The registry of vendor modules. A new vendor needs more than a line here: docs/architecture.md,
 * "Adding a vendor"; test/provisioning-vendors.test.ts checks that each vendor is wired.
 */
export const VENDOR_MODULES: readonly VendorModule[] = [
  yealink,
  snom,
  poly,
  cisco,
  gigaset,
  patton,
  grandstream,
  panasonic,
];

const byVendor = new Map<Vendor, VendorModule>();
for (const m of VENDOR_MODULES) for (const v of m.vendors) byVendor.set(v, m);
for (const v of VENDORS) if (!byVendor.has(v)) throw new Error(`no provisioning module for vendor ${v}`);

export function moduleFor(vendor: Vendor): VendorModule {
  return byVendor.get(vendor)!;
}

/** Every family's reading of a file name (several families request e.g. `<mac>.cfg`). */
export function matchFile(file: string): { module: VendorModule; match: FileMatch }[] {
  const out: { module: VendorModule; match: FileMatch }[] = [];
  for (const module of VENDOR_MODULES) {
    const match = module.matchFile(file);
    if (match) out.push({ module, match });
  }
  return out;
}

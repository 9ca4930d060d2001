import { BoundedMap } from '../lib/bounded';
import type { Mac } from '../domain/mac';

/** Enough for every MAC of a large installation; beyond it the oldest hints are dropped. */
const MAX_HINTS = 200_000;

/**
 * The tenant owning a MAC, remembered per process: it saves reading the global MAC index (another
 * Cluster slot, so another round trip) for every request about a device seen before. A hint
 * decides nothing: a device record exists in one tenant only while that tenant holds the MAC's
 * index entry (devices.ts claims the MAC before creating the record and releases it after deleting
 * it), so a caller that finds no record under the hinted tenant forgets the hint and reads the index.
 */
export class TenantHints {
  private readonly tenants = new BoundedMap<Mac, string>(MAX_HINTS);

  get(mac: Mac): string | undefined {
    return this.tenants.get(mac);
  }

  remember(mac: Mac, tenant: string): void {
    this.tenants.set(mac, tenant);
  }

  forget(mac: Mac): void {
    this.tenants.delete(mac);
  }
}

import type { Vendor } from '../domain/device';
import type { DeviceCertificatePolicy } from '../domain/devicecert';
import type { Mac } from '../domain/mac';
import { entriesContaining } from '../domain/whitelist';
import { BoundedMap } from '../lib/bounded';

/**
 * What the quick path of the provisioning server keeps in the process. A device answered before
 * is decided and recorded by one script in one round trip (Store.provision) on what this process
 * assumes of it, which the script checks; and the script takes, per client address, the whitelist
 * entries that could contain it, which are pure to compute but not cheap (an IPv6 address has 129).
 * Both are bounded: beyond them the oldest go, and a forgotten device takes the long way once.
 */

/** What a process assumes of a device it has answered before: checked by Store.provision. */
export interface Hint {
  readonly tenant: string;
  readonly vendor: Vendor;
  readonly model: string;
  readonly policy: DeviceCertificatePolicy;
}

export class QuickCache {
  /** What this process assumes of a device it has answered. */
  readonly hints: BoundedMap<Mac, Hint>;
  private readonly containingCache: BoundedMap<string, string | null>;

  constructor(max: { readonly devices: number; readonly addresses: number }) {
    this.hints = new BoundedMap(max.devices);
    this.containingCache = new BoundedMap(max.addresses);
  }

  /** entriesContaining per client address, as Store.provision takes them (null: not an address it takes). */
  containing(ip: string): string | null {
    return this.containingCache.memo(ip, () => {
      try {
        return ` ${entriesContaining(ip).join(' ')} `;
      } catch {
        return null;
      }
    });
  }
}

import type { Config } from '../config';
import { effectiveCommon, pickCommon, type TenantSettings } from '../domain/setting-layers';
import { familyOf, mergeItems } from '../domain/setting-formats';
import type { SettingItem } from '../domain/settings';
import { BoundedMap } from '../lib/bounded';
import type { RenderedDevice } from '../store/provisioning';
import type { Settings } from '../store/settings';
import type { FileSettings } from './files';
import { givesTls } from './scope';
import type { VendorModule } from './vendors';

/**
 * The setting items of a device's files (docs/settings.md). A file's items are made of the
 * tenant's settings version and common settings (read with the decision, in the same script),
 * the device's family, model, site and MAC, and the year; kept by all of them, they are read from Redis once
 * per change (one HMGET), on every process, and the body cache keys its bodies by the same text.
 */
export class FileSettingsSource {
  private readonly kept: BoundedMap<string, FileSettings>;

  constructor(
    private readonly config: Config,
    private readonly settings: Pick<Settings, 'forDevice' | 'tenantSettings'>,
    max: number,
    /** The clock whose year the zones' rules are read for (the files follow it across New Year). */
    private readonly now: () => number = Date.now,
  ) {
    this.kept = new BoundedMap(max);
  }

  /** The tenant's settings as a provisioning decision reads them (for a file rendered outside one). */
  tenantSettings(tenant: string): Promise<TenantSettings> {
    return this.settings.tenantSettings(tenant);
  }

  /**
   * A full file's items: with SIP_TLS_REGISTRAR, what the TLS minimal file changed written back
   * (sipTlsUndo); then common items, the operator default, tenant, site and device layers, each
   * replacing an item of the same name before it.
   */
  full(
    module: VendorModule,
    device: RenderedDevice,
    tenant: TenantSettings,
  ): Promise<FileSettings> | FileSettings {
    const undo = givesTls(this.config, device) ? (module.sipTlsUndo?.(device.model) ?? []) : [];
    return this.items('full', module, device, tenant, async (year) => {
      const family = familyOf(device.vendor);
      const l = await this.settings.forDevice(device.tenant, family, device.site, device.mac);
      const common = effectiveCommon(tenant.common, l.siteCommon);
      const layers = [
        module.commonItems(common, device.model, year),
        this.config.settingsDefault[family] ?? [],
        l.tenant,
        l.site,
        l.device,
      ];
      return withUndo(undo, layers);
    });
  }

  /** A minimal file's items: only the common settings MINIMAL_SETTINGS marks safe. */
  minimal(
    module: VendorModule,
    device: RenderedDevice,
    tenant: TenantSettings,
  ): Promise<FileSettings> | FileSettings {
    if (this.config.minimalSettings.length === 0) return { key: '', items: [] };
    return this.items('minimal', module, device, tenant, async (year) => {
      const l = await this.settings.forDevice(
        device.tenant,
        familyOf(device.vendor),
        device.site,
        device.mac,
      );
      const common = pickCommon(effectiveCommon(tenant.common, l.siteCommon), this.config.minimalSettings);
      return { items: module.commonItems(common, device.model, year) };
    });
  }

  private items(
    kind: string,
    module: VendorModule,
    device: RenderedDevice,
    tenant: TenantSettings,
    read: (year: number) => Promise<Omit<FileSettings, 'key'>>,
  ): Promise<FileSettings> | FileSettings {
    const c = tenant.common;
    // The zones' rules are this year's: a process running across New Year makes new items (and,
    // the body keys holding this key, new bodies) instead of keeping last year's DST dates.
    const year = new Date(this.now()).getUTCFullYear();
    const key = [
      kind,
      year,
      device.tenant,
      tenant.version,
      device.vendor,
      c.timeZone ?? '',
      c.ntpServer ?? '',
      c.phoneLanguage ?? '',
      module.family,
      device.model,
      device.site,
      device.mac,
    ].join('\0');
    const kept = this.kept.get(key);
    if (kept !== undefined) return kept;
    return read(year).then((read) => {
      const made = { key, ...read };
      this.kept.set(key, made);
      return made;
    });
  }
}

/**
 * The layers' items over the undo groups (VendorModule.sipTlsUndo): a group none of whose names a
 * layer sets is papgate's, and gives way to an upstream (`yielding`); in a group a layer touched,
 * every name takes the value of the most specific layer that sets one of them.
 */
function withUndo(
  undo: readonly (readonly SettingItem[])[],
  layers: readonly (readonly SettingItem[])[],
): Omit<FileSettings, 'key'> {
  const set = (group: readonly SettingItem[]) => {
    const names = new Set(group.map((u) => u.name.toLowerCase()));
    for (const layer of [...layers].reverse()) {
      const hit = [...layer].reverse().find((i) => names.has(i.name.toLowerCase()));
      if (hit) return hit;
    }
    return null;
  };
  const hits = undo.map(set);
  // every name of a touched group, whichever layer wrote it, takes the most specific value
  const value = new Map(
    undo.flatMap((group, i) =>
      hits[i] ? group.map((u) => [u.name.toLowerCase(), hits[i]!.value] as const) : [],
    ),
  );
  const items = mergeItems([undo.flat(), ...layers]);
  return {
    items: items.map((i) => {
      const v = value.get(i.name.toLowerCase());
      return v === undefined || v === i.value ? i : { name: i.name, value: v };
    }),
    yielding: undo.filter((_, i) => !hits[i]),
  };
}

import {
  COMMON_FIELDS,
  tenantSettingsOf,
  type LayerChange,
  type LayerItems,
  type TenantSettings,
} from '../domain/setting-layers';
import { SETTING_FAMILIES, type SettingFamily } from '../domain/setting-formats';
import type { CommonSettings, SettingItem } from '../domain/settings';
import type { RedisClient } from './connect';
import { keys } from './keys';
import { scripts } from './scripts';

/** Which layer: the tenant's, a site's (by name) or a device's (by MAC). */
export type LayerScope =
  | { readonly scope: 'tenant' }
  | { readonly scope: 'site'; readonly site: string }
  | { readonly scope: 'device'; readonly mac: string };

/** A stored layer: its items per family and (tenant, site) its common settings. */
export interface Layer {
  readonly items: LayerItems;
  readonly common: CommonSettings;
}

/** The layers a device's file is rendered from, for one family (the operator default aside). */
export interface DeviceLayers {
  readonly tenant: readonly SettingItem[];
  readonly site: readonly SettingItem[];
  readonly siteCommon: CommonSettings;
  readonly device: readonly SettingItem[];
}

/**
 * A field of the settings hash: `<part>\x1f<layer>`, part a family or `common`, layer `t`,
 * `s\x1f<site>` or `d\x1f<mac>`. Any site name is a field without escaping (see sites.ts).
 */
function suffix(s: LayerScope): string {
  return s.scope === 'tenant' ? 't' : s.scope === 'site' ? `s\x1f${s.site}` : `d\x1f${s.mac}`;
}

/** The fields of a device's layer in the settings hash (removed with the device, delete.lua). */
export function deviceLayerFields(mac: string): string[] {
  return SETTING_FAMILIES.map((f) => `${f}\x1f${suffix({ scope: 'device', mac })}`);
}

function itemList(json: string | null | undefined): SettingItem[] {
  if (!json) return [];
  const list = JSON.parse(json) as unknown;
  return Array.isArray(list) ? (list as SettingItem[]) : [];
}

/** The common settings from their values in COMMON_FIELDS order (null or empty: unset). */
function commonOf(values: readonly (string | null | undefined)[]): CommonSettings {
  return Object.fromEntries(COMMON_FIELDS.flatMap((f, i) => (values[i] ? [[f, values[i]]] : [])));
}

/**
 * Settings layers of a tenant (docs/settings.md): items per family in one hash, the tenant's
 * common settings on its record, a site's beside its items. Every change is settings.lua, which
 * counts the tenant's settings version (`sv` on the tenant record) up.
 */
export class Settings {
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: { eventsMaxLen: number; now?: () => number },
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Applies a change; answers the new settings version, or why not: `too_large` when the tenant's
   * settings would grow past `maxBytes` (bytes of the settings hash's fields and values, every layer
   * of the tenant counted; SETTINGS_TENANT_MAX_BYTES).
   */
  async put(
    tenant: string,
    at: LayerScope,
    change: LayerChange,
    actor: string,
    maxBytes: number,
  ): Promise<number | 'no_tenant' | 'no_device' | { tooLarge: { bytes: number; max: number } }> {
    const k = keys.tenant(tenant);
    const parts: string[] = [];
    for (const [family, items] of Object.entries(change.items))
      parts.push(
        family,
        items.length === 0 ? '' : JSON.stringify(items.map(({ name, value }) => ({ name, value }))),
      );
    // A site's common fields are parts of their own, each replaced alone; a tenant's are on its record.
    const tenantFields: string[] = [];
    for (const [f, v] of Object.entries(change.common))
      if (at.scope === 'tenant') tenantFields.push(f, v ?? '');
      else parts.push(f, v ?? '');
    try {
      return (await scripts.settings.run(
        this.redis,
        [k.settings, k.info, k.events, at.scope === 'device' ? k.device(at.mac) : k.settings],
        [
          this.now(),
          this.opts.eventsMaxLen,
          actor,
          at.scope,
          at.scope === 'site' ? at.site : at.scope === 'device' ? at.mac : '',
          suffix(at),
          maxBytes,
          parts.length / 2,
          ...parts,
          ...tenantFields,
        ],
      )) as number;
    } catch (err) {
      const m = err instanceof Error ? err.message : '';
      if (m.includes('no_tenant')) return 'no_tenant';
      if (m.includes('no_device')) return 'no_device';
      const large = /too_large (\d+) (\d+)/.exec(m);
      if (large) return { tooLarge: { bytes: Number(large[1]), max: Number(large[2]) } };
      throw err;
    }
  }

  /** One layer as stored (a tenant's common settings from its record). */
  async get(tenant: string, at: LayerScope): Promise<Layer> {
    const k = keys.tenant(tenant);
    const s = suffix(at);
    const [values, info] = await Promise.all([
      this.redis.hmGet(
        k.settings,
        [...SETTING_FAMILIES, ...COMMON_FIELDS].map((p) => `${p}\x1f${s}`),
      ),
      at.scope === 'tenant' ? this.redis.hmGet(k.info, [...COMMON_FIELDS]) : Promise.resolve([]),
    ]);
    const items: Partial<Record<SettingFamily, SettingItem[]>> = {};
    SETTING_FAMILIES.forEach((f, i) => {
      const list = itemList(values[i]);
      if (list.length > 0) items[f] = list;
    });
    const common = commonOf(at.scope === 'tenant' ? info : values.slice(SETTING_FAMILIES.length));
    return { items, common };
  }

  /** The tenant's settings version and common settings, as the provisioning scripts read them with the tenant. */
  async tenantSettings(tenant: string): Promise<TenantSettings> {
    const [sv, ...common] = await this.redis.hmGet(keys.tenant(tenant).info, ['sv', ...COMMON_FIELDS]);
    return tenantSettingsOf({
      ...(sv ? { sv } : {}),
      ...Object.fromEntries(COMMON_FIELDS.flatMap((f, i) => (common[i] ? [[f, common[i]]] : []))),
    });
  }

  /** What a device's file of `family` is rendered from: one read. */
  async forDevice(tenant: string, family: SettingFamily, site: string, mac: string): Promise<DeviceLayers> {
    const k = keys.tenant(tenant);
    const [t, s, d, ...c] = await this.redis.hmGet(k.settings, [
      `${family}\x1ft`,
      `${family}\x1fs\x1f${site}`,
      `${family}\x1fd\x1f${mac}`,
      ...COMMON_FIELDS.map((f) => `${f}\x1fs\x1f${site}`),
    ]);
    return {
      tenant: itemList(t),
      site: site === '' ? [] : itemList(s),
      siteCommon: site === '' ? {} : commonOf(c),
      device: itemList(d),
    };
  }
}

import { InputError } from './errors';
import {
  isSettingFamily,
  MAX_NAME_LENGTH,
  parseFamilyItems,
  SETTING_FAMILIES,
  type SettingFamily,
} from './setting-formats';
import {
  parseNtpServer,
  parsePhoneLanguage,
  parseTimeZone,
  type CommonSettings,
  type SettingItem,
} from './settings';

/**
 * Settings in layers (docs/settings.md): operator default -> tenant -> site -> device, each holding
 * items per family; the tenant and the site also hold the common settings, a site's replacing the
 * tenant's field by field.
 */

export const COMMON_FIELDS = ['timeZone', 'ntpServer', 'phoneLanguage'] as const;
export type CommonField = (typeof COMMON_FIELDS)[number];

export function isCommonField(v: unknown): v is CommonField {
  return typeof v === 'string' && (COMMON_FIELDS as readonly string[]).includes(v);
}

/** Items per family of one layer. */
export type LayerItems = Partial<Record<SettingFamily, readonly SettingItem[]>>;

/** A change of a layer: a family given replaces its list (empty: none), a common field given replaces it (null clears it). */
export interface LayerChange {
  readonly items: LayerItems;
  readonly common: { readonly [F in CommonField]?: string | null };
}

/** One common field's value as an admin sent it: canonical (src/domain/settings.ts), or null to clear it. */
export function parseCommonField(field: CommonField, v: unknown, at: string): string | null {
  if (v === null) return null;
  switch (field) {
    case 'timeZone':
      return parseTimeZone(v, at);
    case 'ntpServer':
      return parseNtpServer(v, at);
    case 'phoneLanguage':
      return parsePhoneLanguage(v, at);
  }
}

/**
 * A layer change as an admin sent it: `{ items?: { <family>: [{name, value}] }, common?: {...} }`;
 * `common` only where the layer holds common settings (tenant, site).
 */
export function parseLayerChange(body: Record<string, unknown>, takesCommon: boolean): LayerChange {
  const items: Partial<Record<SettingFamily, SettingItem[]>> = {};
  if (body.items !== undefined) {
    if (typeof body.items !== 'object' || body.items === null || Array.isArray(body.items))
      throw new InputError('items must be an object of lists by vendor family', 'items');
    for (const [family, list] of Object.entries(body.items)) {
      if (!isSettingFamily(family))
        throw new InputError(
          `items.${family.slice(0, MAX_NAME_LENGTH)}: the families are ${SETTING_FAMILIES.join(', ')}`,
          'items',
        );
      items[family] = parseFamilyItems(family, list, `items.${family}`);
    }
  }
  const common: { [F in CommonField]?: string | null } = {};
  if (body.common !== undefined) {
    if (!takesCommon)
      throw new InputError(
        'a device layer holds no common settings (set them on the tenant or site)',
        'common',
      );
    if (typeof body.common !== 'object' || body.common === null || Array.isArray(body.common))
      throw new InputError('common must be an object', 'common');
    for (const [field, v] of Object.entries(body.common)) {
      if (!isCommonField(field))
        throw new InputError(
          `common.${field.slice(0, MAX_NAME_LENGTH)}: the common settings are ${COMMON_FIELDS.join(', ')}`,
          'common',
        );
      if (v !== undefined) common[field] = parseCommonField(field, v, `common.${field}`);
    }
  }
  return { items, common };
}

/** The common settings that apply: the site's fields over the tenant's. */
export function effectiveCommon(tenant: CommonSettings, site: CommonSettings): CommonSettings {
  const out: { -readonly [F in CommonField]?: string } = {};
  for (const f of COMMON_FIELDS) {
    const v = site[f] ?? tenant[f];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

/** Only the common fields an operator marked safe for the minimal file (MINIMAL_SETTINGS). */
export function pickCommon(common: CommonSettings, fields: readonly CommonField[]): CommonSettings {
  const out: { -readonly [F in CommonField]?: string } = {};
  for (const f of fields) if (common[f] !== undefined) out[f] = common[f];
  return out;
}

/** What a tenant record holds of its settings: its common settings, and the version every change of a layer counts up. */
export interface TenantSettings {
  readonly version: number;
  readonly common: CommonSettings;
}

/** A tenant's settings from its record's fields (`sv` the version; an empty field is unset). */
export function tenantSettingsOf(h: Readonly<Record<string, string | undefined>>): TenantSettings {
  const common: { -readonly [F in CommonField]?: string } = {};
  for (const f of COMMON_FIELDS) if (h[f]) common[f] = h[f];
  return { version: Number(h.sv ?? 0), common };
}

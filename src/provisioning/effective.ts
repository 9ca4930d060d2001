import type { Config } from '../config';
import type { RenderedDevice } from '../store/provisioning';
import { configFileName, renderFull } from './files';
import { MASK, maskSecrets } from './mask';
import { familyOf } from '../domain/setting-formats';
import type { FileSettingsSource } from './settings';
import type { Origin, TemplateFile, TemplateSet } from './templates';

export { MASK };
import { moduleFor } from './vendors';

/** A device's full file as it would be served now, secrets masked, and the templates it came from. */
export interface EffectiveFile {
  /** The name the phone asks for. */
  readonly file: string;
  readonly contentType: string;
  readonly sources: readonly { readonly origin: Origin; readonly path: string }[];
  readonly body: string;
}

/**
 * The full file `device` would get now, rendered as the phone gets it (renderFull), with every
 * secret masked (account passwords, the device credential in the URL and the HTTP credentials,
 * the restricted password): no real one reaches the scope. Issues no credential and changes nothing.
 * null: no file of the family's reads as this device's configuration.
 */
export async function effectiveFile(
  config: Config,
  templates: TemplateSet,
  settings: FileSettingsSource,
  device: RenderedDevice,
): Promise<EffectiveFile | null> {
  const module = moduleFor(device.vendor);
  const file = configFileName(module, device);
  const fm = file === null ? null : module.matchFile(file);
  if (file === null || fm?.role !== 'config') return null;
  const masked = {
    ...device,
    sipPassword: MASK,
    accounts: device.accounts.map((a) => ({ ...a, password: MASK })),
  };
  const used: TemplateFile[] = [];
  const { items } = await settings.full(module, device, await settings.tenantSettings(device.tenant));
  // A setting or an operator's template may hold a secret of the vendor's own (an admin password, a
  // PIN, a URL with a credential): masked in the rendered file, by where it stands (mask.ts).
  const body = maskSecrets(
    familyOf(device.vendor),
    renderFull(config, templates, module, fm, masked, MASK, items, used),
  );
  return {
    file,
    contentType: module.contentType,
    sources: used.map((f) => ({ origin: f.origin, path: f.path })),
    body,
  };
}

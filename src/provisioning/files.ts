import type { Config } from '../config';
import type { SettingItem } from '../domain/settings';
import type { RenderedDevice } from '../store/provisioning';
import { file, type Answer } from './answer';
import { BodyCache } from './bodies';
import { commonScope, deviceScope, minimalFields, type MinimalKind } from './scope';
import type { Layer, TemplateFile, TemplateSet } from './templates';
import type { VendorModule } from './vendors';

/**
 * The setting items a file carries (settings.ts): `key` names everything they are made of, for the
 * body cache.
 */
export interface FileSettings {
  readonly key: string;
  readonly items: readonly SettingItem[];
  /**
   * Groups of `items` that give way to an upstream that sets any item of the group, its value then
   * written for the others (VendorModule.sipTlsUndo, Gate.yieldTo).
   */
  readonly yielding?: readonly (readonly SettingItem[])[];
}

/**
 * A device's full file carrying `credential` and the setting `items`: the one rendering of it, for the phone and for the
 * effective file alike. The operator's templates (PROVISIONING_TEMPLATES_DIR) apply to it, its
 * model folder first; `used` collects the files it is made of.
 */
export function renderFull(
  config: Config,
  templates: TemplateSet,
  module: VendorModule,
  fm: { template: string },
  device: RenderedDevice,
  credential: string,
  items: readonly SettingItem[],
  used?: TemplateFile[],
): string {
  return templates.render(
    module.family,
    fm.template,
    module.overrides(device),
    deviceScope(config, device, { kind: 'full', credential }, items),
    module.escape,
    { model: device.model },
    used,
  );
}

/**
 * The operator's templates also apply to the files that carry nothing of a device (common files,
 * pointers), which anyone may fetch; the minimal file is papgate's own, so that what a phone gets
 * before its PAP never holds more than papgate writes (docs/phones.md, "Your own templates").
 */
const MAC_LESS_LAYER: Layer = { model: null };

/**
 * The configuration files the provisioning server sends, rendered through the body cache
 * (bodies.ts). Rendering a template costs far more than the rest of a request, and a phone asks
 * for the same file every few minutes; what makes a body the same is written here once, as the
 * cache key, beside the rendering it stands for, so that the two cannot drift apart.
 */
export class ConfigFiles {
  private readonly bodies: BodyCache;

  constructor(
    private readonly config: Config,
    private readonly templates: TemplateSet,
    /** Rendered bodies kept; a few KB each. */
    maxBodies: number,
  ) {
    this.bodies = new BodyCache(maxBodies);
  }

  /** A file without a MAC, the same for every phone of the family: nothing secret, never cached. */
  common(module: VendorModule, fm: { template: string; vars: Readonly<Record<string, string>> }): Answer {
    return file(
      module.contentType,
      this.templates.render(
        module.family,
        fm.template,
        [],
        commonScope(this.config, fm.vars),
        module.escape,
        MAC_LESS_LAYER,
      ),
    );
  }

  /** The minimal configuration of `device`. */
  minimal(
    module: VendorModule,
    fm: { template: string },
    device: RenderedDevice,
    what: MinimalKind,
    settings: FileSettings,
  ): Answer {
    const { display, password } = minimalFields(this.config, device, what);
    return file(
      module.contentType,
      this.bodies.body(
        `minimal\0${bodyKey(module, fm, device)}\0${display}\0${password}\0${settings.key}`,
        null,
        () => this.renderer(module, fm, device, null)(deviceScope(this.config, device, what, settings.items)),
      ),
    );
  }

  /** The full configuration of `device`, carrying `credential`. */
  full(
    module: VendorModule,
    fm: { template: string },
    device: RenderedDevice,
    credential: string,
    settings: FileSettings,
  ): Answer {
    return file(
      module.contentType,
      this.bodies.body(
        `full\0${bodyKey(module, fm, device)}\0${JSON.stringify(device.accounts)}\0${settings.key}`,
        credential,
        (c) => renderFull(this.config, this.templates, module, fm, device, c!, settings.items),
      ),
    );
  }

  /** A file that points at the next one only: the same for minimal and full, never cached. */
  pointer(module: VendorModule, fm: { template: string }, device: RenderedDevice): Answer {
    return file(
      module.contentType,
      this.renderer(
        module,
        fm,
        device,
        MAC_LESS_LAYER,
      )({ ...commonScope(this.config, {}), mac: device.mac, MAC: device.mac.toUpperCase() }),
    );
  }

  private renderer(module: VendorModule, fm: { template: string }, device: RenderedDevice, layer: Layer) {
    const overrides = module.overrides(device);
    return (scope: Parameters<TemplateSet['render']>[3]) =>
      this.templates.render(module.family, fm.template, overrides, scope, module.escape, layer);
  }
}

/** A body is made of the template (vendor, model, file) and the values in its key, nothing else. */
function bodyKey(module: VendorModule, fm: { template: string }, device: RenderedDevice): string {
  return `${module.family}\0${fm.template}\0${device.vendor}\0${device.model}\0${device.mac}`;
}

/**
 * The name `device` asks its configuration by: the first of its family's file patterns (`files`)
 * with a MAC that reads as the device's configuration file.
 */
export function configFileName(
  module: VendorModule,
  device: Pick<RenderedDevice, 'mac' | 'model'>,
): string | null {
  for (const pattern of module.files.flatMap((f) => f.split(/,\s*|\s+or\s+/))) {
    const name = pattern
      .split(/\s/)[0]!
      .replace('<mac>', device.mac)
      .replace('<MAC>', device.mac.toUpperCase())
      .replace('<model>', device.model);
    const m = name === pattern.split(/\s/)[0] ? null : module.matchFile(name);
    if (m?.role === 'config' && m.mac === device.mac) return name;
  }
  return null;
}

import type { Config } from '../config';
import type { SettingItem } from '../domain/settings';
import type { RenderedDevice } from '../store/provisioning';
import { file, type Answer } from './answer';
import { BodyCache } from './bodies';
import { commonScope, deviceScope, minimalFields, type MinimalKind } from './scope';
import type { TemplateSet } from './templates';
import type { VendorModule } from './vendors';

/**
 * The setting items a file carries (settings.ts): `key` names everything they are made of, for the
 * body cache.
 */
export interface FileSettings {
  readonly key: string;
  readonly items: readonly SettingItem[];
}

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
      this.templates.render(module.family, fm.template, [], commonScope(this.config, fm.vars), module.escape),
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
        () => this.renderer(module, fm, device)(deviceScope(this.config, device, what, settings.items)),
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
        (c) =>
          this.renderer(
            module,
            fm,
            device,
          )(deviceScope(this.config, device, { kind: 'full', credential: c! }, settings.items)),
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
      )({ ...commonScope(this.config, {}), mac: device.mac, MAC: device.mac.toUpperCase() }),
    );
  }

  private renderer(module: VendorModule, fm: { template: string }, device: RenderedDevice) {
    const overrides = module.overrides(device);
    return (scope: Parameters<TemplateSet['render']>[3]) =>
      this.templates.render(module.family, fm.template, overrides, scope, module.escape);
  }
}

/** A body is made of the template (vendor, model, file) and the values in its key, nothing else. */
function bodyKey(module: VendorModule, fm: { template: string }, device: RenderedDevice): string {
  return `${module.family}\0${fm.template}\0${device.vendor}\0${device.model}\0${device.mac}`;
}

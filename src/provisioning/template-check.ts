import type { Config } from '../config';
import { VENDORS, type SipAccount } from '../domain/device';
import { parseMac } from '../domain/mac';
import { TemplateError, type Node, type Scope } from './render';
import { configFileName } from './files';
import { commonScope, deviceScope, type RenderKind } from './scope';
import { MODEL_FOLDER, OWN_PARTIAL, TemplateSet, type TemplateFile } from './templates';
import { VENDOR_MODULES } from './vendors';

/** Names a common file's match adds to its scope (a FileMatch's `vars`): Yealink's model code. */
export const MATCH_VARS = ['modelCode'];

/** Models the scopes are built for, so that every list in them has elements (a DECT base: handsets). */
export const PROBE_MODELS = ['T54W', 'W60B'];

/**
 * What papgate must own in a full file: the provisioning URL and HTTP credentials (which carry the
 * device credential) and the accounts, those in use and those switched off and cleared. An
 * operator's file must use each of these that papgate's file it replaces uses.
 */
export const OWNED = [
  'provisioningUrl',
  'provisioningUrlWithCredentials',
  'provisioningUrlHttpImplied',
  'provisioningDirNoScheme',
  'httpCredentials',
  'httpUser',
  'httpPassword',
  'accounts',
  'vacant',
  'user',
  'authUser',
  'password',
  'serverHost',
];

const PROBE_MAC = parseMac('000000000000');
const PROBE_ACCOUNT: SipAccount = { server: 'sip.example.net:5060', user: '100', password: 'probe' };

/** The names a template may use: at the top of its file, and inside a section over a list. */
export interface ScopeNames {
  /** A device file's (minimal or full). */
  readonly device: ReadonlySet<string>;
  /** A file without a device: a common file's, with what its match adds, and a pointer's. */
  readonly common: ReadonlySet<string>;
  /** What each list's elements add, by the list's name. */
  readonly lists: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The names of `scope` into `top`, those of its lists' elements into `lists`. */
function namesOf(scope: Scope, top: Set<string>, lists: Map<string, Set<string>>): void {
  for (const [k, v] of Object.entries(scope)) {
    top.add(k);
    if (!Array.isArray(v)) continue;
    const inner = lists.get(k) ?? new Set<string>();
    lists.set(k, inner);
    for (const item of v as readonly Scope[]) namesOf(item, inner, lists);
  }
}

/** One setting item, so that the names of a setting's scope are known where `settings` is listed. */
const PROBE_SETTINGS = [{ name: 'probe', value: 'probe' }];

/**
 * Every variable and section name a template may use, where: what deviceScope (minimal and full)
 * and commonScope give, built for every vendor, and what a common file's match adds.
 */
export function scopeNames(config: Config): ScopeNames {
  const lists = new Map<string, Set<string>>();
  // A pointer's scope is a common file's with the MAC (ConfigFiles.pointer).
  const common = new Set<string>([...MATCH_VARS, 'mac', 'MAC']);
  namesOf(commonScope(config, {}), common, lists);
  const device = new Set<string>();
  const kinds: RenderKind[] = [
    { kind: 'minimal', display: 'needed', ip: '127.0.0.1' },
    { kind: 'full', credential: 'probe' },
  ];
  for (const vendor of VENDORS)
    for (const model of PROBE_MODELS)
      for (const what of kinds)
        namesOf(
          deviceScope(
            config,
            // Two accounts, so that the list of accounts 2 and up (`secondary`) is filled too.
            { mac: PROBE_MAC, model, vendor, accounts: [PROBE_ACCOUNT, PROBE_ACCOUNT], sipPassword: 'probe' },
            what,
            PROBE_SETTINGS,
          ),
          device,
          lists,
        );
  return { device, common, lists };
}

/** `<family>`, the folder (null: the family's own) and the file name of a template path. */
function parts(rel: string): { family: string; folder: string | null; name: string } | null {
  const p = rel.split('/');
  if (p.length === 2) return { family: p[0]!, folder: null, name: p[1]! };
  if (p.length === 3) return { family: p[0]!, folder: p[1]!, name: p[2]! };
  return null;
}

/** `<family>/<name>` of every partial `files` include by its name (not as `papgate:`). */
function includedBy(files: readonly TemplateFile[]): Set<string> {
  const out = new Set<string>();
  const walk = (family: string, nodes: readonly Node[]): void => {
    for (const n of nodes) {
      if (n.t === 'partial' && !n.name.startsWith(OWN_PARTIAL)) out.add(`${family}/${n.name}`);
      if (n.t === 'section') walk(family, n.body);
    }
  };
  for (const f of files) walk(parts(f.path)!.family, f.template.nodes);
  return out;
}

/** `<family>/<template>` of every family's device configuration file (the others: common or pointer). */
function deviceTemplates(): Set<string> {
  const out = new Set<string>();
  for (const module of VENDOR_MODULES)
    for (const model of PROBE_MODELS) {
      const file = configFileName(module, { mac: PROBE_MAC, model });
      const m = file === null ? null : module.matchFile(file);
      if (m?.role === 'config') out.add(`${module.family}/${m.template}`);
    }
  return out;
}

class Checker {
  constructor(
    private readonly set: TemplateSet,
    private readonly names: ScopeNames,
    /** deviceTemplates() */
    private readonly devices: ReadonlySet<string>,
    /** With the operator's files over papgate's (full and MAC-less files), or papgate's only (minimal). */
    private readonly layered: boolean,
  ) {}

  /**
   * The file a partial of `from` names, as every device it is rendered for finds it (its own
   * folder, else the family's); `papgate:` names papgate's own file.
   */
  partial(from: TemplateFile, name: string): TemplateFile | undefined {
    const { family, folder } = parts(from.path)!;
    const own = name.startsWith(OWN_PARTIAL);
    const file = own ? name.slice(OWN_PARTIAL.length) : name;
    for (const rel of [...(folder ? [`${family}/${folder}/${file}`] : []), `${family}/${file}`]) {
      const found = (this.layered && !own && this.set.file('operator', rel)) || this.set.file('papgate', rel);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * Every tag of `f` names what the scope gives where it stands (`scopes`: the top's names, then
   * those of each list section around it), and every partial resolves, checked where it is included.
   */
  check(f: TemplateFile, scopes: readonly ReadonlySet<string>[], chain: readonly TemplateFile[] = []): void {
    const at = (line: number, message: string) => new TemplateError(f.template.name, message, line);
    const walk = (nodes: readonly Node[], inside: readonly ReadonlySet<string>[]): void => {
      for (const n of nodes) {
        if (n.t === 'text') continue;
        if (n.t === 'partial') {
          const p = this.partial(f, n.name);
          if (!p) throw at(n.line, `unknown partial "${n.name}"`);
          if (p === f || chain.includes(p)) throw at(n.line, `partial "${n.name}" includes itself`);
          this.check(p, inside, [...chain, f]);
          continue;
        }
        if (!inside.some((s) => s.has(n.name)))
          throw at(n.line, `unknown ${n.t === 'var' ? 'variable' : 'section'} "${n.name}"`);
        if (n.t !== 'section') continue;
        const list = n.inverted ? undefined : this.names.lists.get(n.name);
        walk(n.body, list ? [...inside, list] : inside);
      }
    };
    walk(f.template.nodes, scopes);
  }

  /**
   * Checks every file no other file includes from the top of its scope: a device configuration
   * file's, else (common files, pointers) a file's without a device; the others are checked where
   * they are included.
   */
  checkAll(files: readonly TemplateFile[]): void {
    const included = includedBy(files);
    for (const f of files) {
      const { family, name } = parts(f.path)!;
      if (included.has(`${family}/${name}`)) continue;
      this.check(f, [this.devices.has(`${family}/${name}`) ? this.names.device : this.names.common]);
    }
  }

  /** The OWNED names `f` uses, its partials' included. */
  owned(f: TemplateFile, into = new Set<string>(), seen = new Set<TemplateFile>()): Set<string> {
    seen.add(f);
    const walk = (nodes: readonly Node[]): void => {
      for (const n of nodes) {
        if (n.t === 'text') continue;
        if (n.t === 'partial') {
          const p = this.partial(f, n.name);
          if (p && !seen.has(p)) this.owned(p, into, seen);
          continue;
        }
        if (OWNED.includes(n.name)) into.add(n.name);
        if (n.t === 'section') walk(n.body);
      }
    };
    walk(f.template.nodes);
    return into;
  }
}

/**
 * Checks every template before anything is served (TemplateError naming the file, and the line
 * where there is one): each compiles (TemplateSet.load), names only what the scopes give where it
 * stands, finds its partials; papgate's alone (the minimal file) and with the operator's over them.
 * An operator's file sits where a device can reach it, and still writes what papgate's file it
 * replaces writes of OWNED (docs/phones.md, "Your own templates").
 */
export function checkTemplates(set: TemplateSet, config: Config): void {
  const names = scopeNames(config);
  const own = [...set.files('papgate')];
  const operator = [...set.files('operator')];
  const families = new Set(VENDOR_MODULES.map((m) => m.family));
  // Names an operator's file may have without a file of papgate's of that name: its partials'.
  const partials = includedBy(operator);
  const included = includedBy([...own, ...operator]);
  const devices = deviceTemplates();
  const ownOnly = new Checker(set, names, devices, false);
  const layered = new Checker(set, names, devices, true);
  const replacing: [TemplateFile, TemplateFile][] = [];
  for (const f of operator) {
    const where = parts(f.path);
    const wrong = (message: string) => new TemplateError(f.template.name, message);
    if (!where || !families.has(where.family))
      throw wrong(
        `not a template: the layout is <family>/[<folder>/]<file>, family one of ${[...families].join(', ')}`,
      );
    const { family, folder, name } = where;
    const ownFolder = folder !== null && own.some((o) => o.path.startsWith(`${family}/${folder}/`));
    if (folder !== null && !ownFolder && !folder.toLowerCase().startsWith(MODEL_FOLDER))
      throw wrong(
        `unknown folder "${folder}": a model is ${MODEL_FOLDER}<MODEL>, or one of papgate's folders of ${family}`,
      );
    const replaces = set.file('papgate', f.path) ?? set.file('papgate', `${family}/${name}`);
    if (!replaces && !partials.has(`${family}/${name}`))
      throw wrong(
        `"${name}" is no file of papgate's ${family} templates, nor a partial of one of yours: nothing uses it`,
      );
    // A model's folder is looked in for its device file only (and what that includes).
    if (
      folder?.toLowerCase().startsWith(MODEL_FOLDER) &&
      !devices.has(`${family}/${name}`) &&
      !included.has(`${family}/${name}`)
    )
      throw wrong(
        `a model's folder is for its device file (${family}'s: ${[...devices]
          .filter((d) => d.startsWith(`${family}/`))
          .map((d) => d.slice(family.length + 1))
          .join(', ')}) and the partials it includes`,
      );
    if (replaces) replacing.push([f, replaces]);
  }
  ownOnly.checkAll(own);
  layered.checkAll([...own, ...operator]);
  for (const [f, replaces] of replacing) {
    const kept = layered.owned(f);
    const lost = [...ownOnly.owned(replaces)].filter((n) => !kept.has(n));
    if (lost.length)
      throw new TemplateError(
        f.template.name,
        `leaves out what papgate's ${replaces.path} writes and a full file must keep: ${lost.join(', ')} (use them, or {{>${OWN_PARTIAL}${parts(f.path)!.name}}})`,
      );
  }
}

/** papgate's templates and the operator's (PROVISIONING_TEMPLATES_DIR), read and checked. */
export function loadTemplates(config: Config, dir?: string): TemplateSet {
  const set = TemplateSet.load(dir, config.provisioningTemplatesDir);
  checkTemplates(set, config);
  return set;
}

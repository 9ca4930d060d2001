import type { Config } from '../config';
import { VENDORS, type SipAccount } from '../domain/device';
import { parseMac } from '../domain/mac';
import { TemplateError, type Node, type Scope } from './render';
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

/** Every name in `scope` and in the elements of its lists. */
function namesOf(scope: Scope, into: Set<string>): void {
  for (const [k, v] of Object.entries(scope)) {
    into.add(k);
    if (Array.isArray(v)) for (const item of v as readonly Scope[]) namesOf(item, into);
  }
}

/**
 * Every variable and section name a template may use: what deviceScope (minimal and full) and
 * commonScope give, built for every vendor, and what a common file's match adds.
 */
export function scopeNames(config: Config): Set<string> {
  const names = new Set<string>(MATCH_VARS);
  namesOf(commonScope(config, {}), names);
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
            { mac: PROBE_MAC, model, vendor, accounts: [PROBE_ACCOUNT], sipPassword: 'probe' },
            what,
          ),
          names,
        );
  return names;
}

/** `<family>`, the folder (null: the family's own) and the file name of a template path. */
function parts(rel: string): { family: string; folder: string | null; name: string } | null {
  const p = rel.split('/');
  if (p.length === 2) return { family: p[0]!, folder: null, name: p[1]! };
  if (p.length === 3) return { family: p[0]!, folder: p[1]!, name: p[2]! };
  return null;
}

class Checker {
  constructor(
    private readonly set: TemplateSet,
    private readonly names: ReadonlySet<string>,
  ) {}

  /**
   * The file a partial of `from` names, as every device it is rendered for finds it (its own
   * folder, else the family's). An operator's file sees the operator's files first; papgate's own
   * file (and `papgate:`) only papgate's.
   */
  partial(from: TemplateFile, name: string): TemplateFile | undefined {
    const { family, folder } = parts(from.path)!;
    const own = name.startsWith(OWN_PARTIAL) || from.origin === 'papgate';
    const file = name.startsWith(OWN_PARTIAL) ? name.slice(OWN_PARTIAL.length) : name;
    for (const rel of [...(folder ? [`${family}/${folder}/${file}`] : []), `${family}/${file}`]) {
      const found = (!own && this.set.file('operator', rel)) || this.set.file('papgate', rel);
      if (found) return found;
    }
    return undefined;
  }

  /** Every tag of `f` names something the scopes give, and every partial resolves (no cycle). */
  check(f: TemplateFile, stack: readonly TemplateFile[] = []): void {
    const at = (line: number, message: string) => new TemplateError(f.template.name, message, line);
    const walk = (nodes: readonly Node[]): void => {
      for (const n of nodes) {
        if (n.t === 'text') continue;
        if (n.t === 'partial') {
          const p = this.partial(f, n.name);
          if (!p) throw at(n.line, `unknown partial "${n.name}"`);
          if (p === f || stack.includes(p)) throw at(n.line, `partial "${n.name}" includes itself`);
          this.check(p, [...stack, f]);
          continue;
        }
        if (!this.names.has(n.name))
          throw at(n.line, `unknown ${n.t === 'var' ? 'variable' : 'section'} "${n.name}"`);
        if (n.t === 'section') walk(n.body);
      }
    };
    walk(f.template.nodes);
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
 * where there is one): each compiles (TemplateSet.load), names only what the scopes give, finds its
 * partials; an operator's file sits where a device can reach it, and still writes what papgate's
 * file it replaces writes of OWNED (docs/phones.md, "Your own templates").
 */
export function checkTemplates(set: TemplateSet, config: Config): void {
  const checker = new Checker(set, scopeNames(config));
  for (const f of set.files('papgate')) checker.check(f);
  const families = new Set(VENDOR_MODULES.map((m) => m.family));
  const operator = [...set.files('operator')];
  // Names an operator's file may have without a file of papgate's of that name: its partials'.
  const partials = new Set<string>();
  const collect = (family: string, nodes: readonly Node[]): void => {
    for (const n of nodes) {
      if (n.t === 'partial' && !n.name.startsWith(OWN_PARTIAL)) partials.add(`${family}/${n.name}`);
      if (n.t === 'section') collect(family, n.body);
    }
  };
  for (const f of operator) collect(f.path.split('/')[0]!, f.template.nodes);
  for (const f of operator) {
    const where = parts(f.path);
    const wrong = (message: string) => new TemplateError(f.template.name, message);
    if (!where || !families.has(where.family))
      throw wrong(
        `not a template: the layout is <family>/[<folder>/]<file>, family one of ${[...families].join(', ')}`,
      );
    const { family, folder, name } = where;
    const ownFolder =
      folder !== null && [...set.files('papgate')].some((o) => o.path.startsWith(`${family}/${folder}/`));
    if (folder !== null && !ownFolder && !folder.toLowerCase().startsWith(MODEL_FOLDER))
      throw wrong(
        `unknown folder "${folder}": a model is ${MODEL_FOLDER}<MODEL>, or one of papgate's folders of ${family}`,
      );
    const replaces = set.file('papgate', f.path) ?? set.file('papgate', `${family}/${name}`);
    if (!replaces && !partials.has(`${family}/${name}`))
      throw wrong(
        `"${name}" is no file of papgate's ${family} templates, nor a partial of one of yours: nothing uses it`,
      );
    checker.check(f);
    if (replaces) {
      const kept = checker.owned(f);
      const lost = [...checker.owned(replaces)].filter((n) => !kept.has(n));
      if (lost.length)
        throw wrong(
          `leaves out what papgate's ${replaces.path} writes and a full file must keep: ${lost.join(', ')} (use them, or {{>${OWN_PARTIAL}${name}}})`,
        );
    }
  }
}

/** papgate's templates and the operator's (PROVISIONING_TEMPLATES_DIR), read and checked. */
export function loadTemplates(config: Config, dir?: string): TemplateSet {
  const set = TemplateSet.load(dir, config.provisioningTemplatesDir);
  checkTemplates(set, config);
  return set;
}

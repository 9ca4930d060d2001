import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { compile, render, type Escaper, type Scope, type Template } from './render';

const DEFAULT_TEMPLATES_DIR = path.join(PROJECT_ROOT, 'config', 'templates');

const MAX_FILES = 1000;
const MAX_FILE_BYTES = 256 * 1024;

/** Whose a template is: papgate's own (config/templates) or the operator's (PROVISIONING_TEMPLATES_DIR). */
export type Origin = 'papgate' | 'operator';

/** One template file: whose, its path under its folder (`<family>/[<folder>/]<file>`), compiled. */
export interface TemplateFile {
  readonly origin: Origin;
  readonly path: string;
  readonly template: Template;
}

/** A partial naming papgate's own file (`{{>papgate:name}}`): how an operator's file extends it. */
export const OWN_PARTIAL = 'papgate:';

/** An operator's folder for one model: `<family>/model-<MODEL>/` (the model as the device records it). */
export const MODEL_FOLDER = 'model-';

/**
 * Which templates a file is rendered from: papgate's own only (`null`: the minimal file, whatever
 * the operator's folder holds), or the operator's over papgate's, for a device of `model` (its
 * model folder first; none for a file without a device).
 */
export type Layer = { readonly model: string | null } | null;

function read(dir: string, origin: Origin, into: Map<string, TemplateFile>): void {
  const walk = (abs: string, rel: string, depth: number) => {
    if (depth > 3) return;
    for (const ent of fs.readdirSync(abs, { withFileTypes: true })) {
      if (ent.name.startsWith('.')) continue;
      const a = path.join(abs, ent.name);
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      // Symbolic links are not followed: templates are data files inside this folder only.
      if (ent.isDirectory()) walk(a, r, depth + 1);
      else if (ent.isFile() && depth > 0) {
        // Files at the top (README) are documentation; templates live in the family folders.
        if (into.size >= MAX_FILES) throw new Error(`more than ${MAX_FILES} templates under ${dir}`);
        const st = fs.statSync(a);
        if (st.size > MAX_FILE_BYTES) throw new Error(`template ${a} is larger than ${MAX_FILE_BYTES} bytes`);
        // The operator's files are named by where they are, so that an error points at the file.
        const name = origin === 'operator' ? a : r;
        if (into.has(key(r)))
          throw new Error(`template ${a}: a model's folder is there twice, in another case`);
        into.set(key(r), { origin, path: r, template: compile(name, fs.readFileSync(a, 'utf8')) });
      }
    }
  };
  walk(dir, '', 0);
}

/** Model folders are matched without regard to case (`model-t54w` is `model-T54W`). */
function key(rel: string): string {
  const parts = rel.split('/');
  if (parts.length === 3 && parts[1]!.toLowerCase().startsWith(MODEL_FOLDER))
    parts[1] = parts[1]!.toLowerCase();
  return parts.join('/');
}

/**
 * Every template, read once at start-up into memory and compiled: papgate's own and, when an
 * operator's folder is given, the operator's (template-check.ts checks both before anything is
 * served). Nothing is read from disk per request, and no file path is ever built from a request URL.
 *
 * Layout: `<dir>/<family>/<file>` is a vendor family's base template or partial;
 * `<dir>/<family>/<override>/<file>` replaces `<file>` for the models that override applies to;
 * the operator's `<family>/model-<MODEL>/<file>` replaces it for that model. An operator's file
 * replaces papgate's of the same path.
 */
export class TemplateSet {
  private constructor(
    private readonly own: ReadonlyMap<string, TemplateFile>,
    private readonly operator: ReadonlyMap<string, TemplateFile>,
  ) {}

  static load(dir: string = DEFAULT_TEMPLATES_DIR, operatorDir: string | null = null): TemplateSet {
    const own = new Map<string, TemplateFile>();
    const operator = new Map<string, TemplateFile>();
    read(dir, 'papgate', own);
    if (operatorDir !== null) read(operatorDir, 'operator', operator);
    return new TemplateSet(own, operator);
  }

  /** Every file of `origin`. */
  files(origin: Origin): Iterable<TemplateFile> {
    return (origin === 'papgate' ? this.own : this.operator).values();
  }

  /** The file at `rel` (`<family>/[<folder>/]<file>`) of `origin`. */
  file(origin: Origin, rel: string): TemplateFile | undefined {
    return (origin === 'papgate' ? this.own : this.operator).get(key(rel));
  }

  /**
   * The file `name` of `family` for a device with `overrides`: the operator's model folder, then
   * each override folder, then the family's own, the operator's file before papgate's at each.
   */
  resolve(
    family: string,
    name: string,
    overrides: readonly string[],
    layer: Layer = null,
  ): TemplateFile | undefined {
    const model = layer?.model;
    const folders = [...(model ? [`${MODEL_FOLDER}${model}`] : []), ...overrides].map(
      (o) => `${family}/${o}/${name}`,
    );
    for (const rel of [...folders, `${family}/${name}`]) {
      const f = (layer && this.operator.get(key(rel))) || this.own.get(rel);
      if (f) return f;
    }
    return undefined;
  }

  /** Renders `name`; `used` collects every file it was made of (partials included), in order. */
  render(
    family: string,
    name: string,
    overrides: readonly string[],
    scope: Scope,
    escape: Escaper,
    layer: Layer = null,
    used?: TemplateFile[],
  ): string {
    const f = this.resolve(family, name, overrides, layer);
    if (!f) throw new Error(`no template ${family}/${name}`);
    const byTemplate = new Map<Template, TemplateFile>([[f.template, f]]);
    used?.push(f);
    return render(f.template, scope, {
      escape,
      partial: (p) => {
        const own = p.startsWith(OWN_PARTIAL);
        const found = this.resolve(
          family,
          own ? p.slice(OWN_PARTIAL.length) : p,
          overrides,
          own ? null : layer,
        );
        if (found && used && !byTemplate.has(found.template)) {
          byTemplate.set(found.template, found);
          used.push(found);
        }
        return found?.template;
      },
    });
  }
}

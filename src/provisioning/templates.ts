import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { compile, render, type Escaper, type Scope, type Template } from './render';

const DEFAULT_TEMPLATES_DIR = path.join(PROJECT_ROOT, 'config', 'templates');

const MAX_FILES = 1000;
const MAX_FILE_BYTES = 256 * 1024;

/**
 * Every template, read once at start-up into memory and compiled. Nothing is read from disk per
 * request, and no file path is ever built from a request URL.
 *
 * Layout: `<dir>/<family>/<file>` is a vendor family's base template or partial;
 * `<dir>/<family>/<override>/<file>` replaces `<file>` for the models that override applies to.
 */
export class TemplateSet {
  private constructor(private readonly byPath: ReadonlyMap<string, Template>) {}

  static load(dir: string = DEFAULT_TEMPLATES_DIR): TemplateSet {
    const map = new Map<string, Template>();
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
          if (map.size >= MAX_FILES) throw new Error(`more than ${MAX_FILES} templates under ${dir}`);
          const st = fs.statSync(a);
          if (st.size > MAX_FILE_BYTES)
            throw new Error(`template ${r} is larger than ${MAX_FILE_BYTES} bytes`);
          map.set(r, compile(r, fs.readFileSync(a, 'utf8')));
        }
      }
    };
    walk(dir, '', 0);
    return new TemplateSet(map);
  }

  has(family: string, name: string): boolean {
    return this.byPath.has(`${family}/${name}`);
  }

  /** `<family>/<override>/<name>` for the first override that has it, else `<family>/<name>`. */
  resolve(family: string, name: string, overrides: readonly string[]): Template | undefined {
    for (const o of overrides) {
      const t = this.byPath.get(`${family}/${o}/${name}`);
      if (t) return t;
    }
    return this.byPath.get(`${family}/${name}`);
  }

  render(family: string, name: string, overrides: readonly string[], scope: Scope, escape: Escaper): string {
    const t = this.resolve(family, name, overrides);
    if (!t) throw new Error(`no template ${family}/${name}`);
    return render(t, scope, { escape, partial: (p) => this.resolve(family, p, overrides) });
  }
}

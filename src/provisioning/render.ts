import { stripControl, xmlText } from '../domain/text';

/**
 * A tiny, logic-less template engine (a Mustache subset) for phone configuration files.
 *
 *   {{name}}            value, escaped for the file's format (never raw)
 *   {{#name}}..{{/name}} section: once for true / a non-empty string or number, once per element
 *                        of an array (the element's fields join the scope), skipped otherwise
 *   {{^name}}..{{/name}} inverted section: rendered when `name` is false, empty or missing
 *   {{>name}}           partial: another template of the same vendor (model overrides first)
 *   {{! comment }}      dropped
 *
 * A tag alone on its line takes the line with it. An unknown variable is an error (a template bug
 * must not silently render an empty password field).
 */

export type Scalar = string | number | boolean | null | undefined;
export interface Scope {
  readonly [name: string]: Scalar | readonly Scope[];
}

/** Makes a value safe for one file format. */
export type Escaper = (value: string) => string;

/** XML text and attribute values (the one escaper the SIP edge's PIDF-LO uses too). */
export const xmlEscape: Escaper = xmlText;

/** Unquoted key = value lines (Yealink): a value can never start a new line, hence a new key. */
export const lineEscape: Escaper = (value) => stripControl(value);

/** key="value" lines and CLI strings in double quotes (Panasonic, Patton): no quote or backslash either. */
export const quotedEscape: Escaper = (value) => stripControl(value).replace(/["\\]/g, '');

type Node =
  | { readonly t: 'text'; readonly text: string }
  | { readonly t: 'var'; readonly name: string }
  | {
      readonly t: 'section';
      readonly name: string;
      readonly inverted: boolean;
      readonly body: readonly Node[];
    }
  | { readonly t: 'partial'; readonly name: string };

export interface Template {
  readonly name: string;
  readonly nodes: readonly Node[];
}

class TemplateError extends Error {
  constructor(template: string, message: string) {
    super(`template ${template}: ${message}`);
    this.name = 'TemplateError';
  }
}

const TAG = /\{\{([#^/>!]?)\s*([A-Za-z0-9_.-]*)\s*\}\}/g;

export function compile(name: string, source: string): Template {
  // Standalone tags (alone on their line, except a variable) remove the line they stand on.
  const text = source.replace(/^[ \t]*(\{\{[#^/>!][^}]*\}\})[ \t]*\r?\n/gm, '$1');
  const root: Node[] = [];
  const stack: { name: string; inverted: boolean; body: Node[] }[] = [];
  const current = () => (stack.length ? stack[stack.length - 1]!.body : root);
  let last = 0;
  for (const m of text.matchAll(TAG)) {
    const at = m.index!;
    if (at > last) current().push({ t: 'text', text: text.slice(last, at) });
    last = at + m[0].length;
    const [, sigil, tagName = ''] = m;
    if (sigil !== '!' && tagName === '') throw new TemplateError(name, `empty tag at offset ${at}`);
    switch (sigil) {
      case '!':
        break;
      case '#':
      case '^':
        stack.push({ name: tagName, inverted: sigil === '^', body: [] });
        break;
      case '/': {
        const open = stack.pop();
        if (!open || open.name !== tagName) throw new TemplateError(name, `unexpected {{/${tagName}}}`);
        current().push({ t: 'section', name: open.name, inverted: open.inverted, body: open.body });
        break;
      }
      case '>':
        current().push({ t: 'partial', name: tagName });
        break;
      default:
        current().push({ t: 'var', name: tagName });
    }
  }
  if (stack.length) throw new TemplateError(name, `unclosed {{#${stack[stack.length - 1]!.name}}}`);
  if (last < text.length) current().push({ t: 'text', text: text.slice(last) });
  if (
    /\{\{|\}\}/.test(
      root
        .filter((n) => n.t === 'text')
        .map((n) => (n as { text: string }).text)
        .join(''),
    )
  ) {
    throw new TemplateError(name, 'malformed tag');
  }
  return { name, nodes: root };
}

interface RenderOptions {
  readonly escape: Escaper;
  /** Resolves a partial's name to a template (already considering model overrides). */
  readonly partial: (name: string) => Template | undefined;
}

function lookup(template: string, scopes: readonly Scope[], name: string): Scalar | readonly Scope[] {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const s = scopes[i]!;
    if (Object.prototype.hasOwnProperty.call(s, name)) return s[name];
  }
  throw new TemplateError(template, `unknown variable "${name}"`);
}

function truthy(v: Scalar | readonly Scope[]): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return v !== false && v !== null && v !== undefined && v !== '' && v !== 0;
}

export function render(template: Template, scope: Scope, opts: RenderOptions): string {
  const out: string[] = [];
  const walk = (t: Template, nodes: readonly Node[], scopes: Scope[], depth: number): void => {
    if (depth > 16) throw new TemplateError(t.name, 'partials nested too deep');
    for (const n of nodes) {
      switch (n.t) {
        case 'text':
          out.push(n.text);
          break;
        case 'var': {
          const v = lookup(t.name, scopes, n.name);
          if (Array.isArray(v)) throw new TemplateError(t.name, `"${n.name}" is a list, not a value`);
          out.push(v === null || v === undefined || v === false ? '' : opts.escape(String(v)));
          break;
        }
        case 'section': {
          const v = scopes.some((s) => Object.prototype.hasOwnProperty.call(s, n.name))
            ? lookup(t.name, scopes, n.name)
            : undefined;
          if (n.inverted) {
            if (!truthy(v)) walk(t, n.body, scopes, depth);
          } else if (Array.isArray(v)) {
            for (const item of v as readonly Scope[]) walk(t, n.body, [...scopes, item], depth);
          } else if (truthy(v)) {
            walk(t, n.body, scopes, depth);
          }
          break;
        }
        case 'partial': {
          const p = opts.partial(n.name);
          if (!p) throw new TemplateError(t.name, `unknown partial "${n.name}"`);
          walk(p, p.nodes, scopes, depth + 1);
          break;
        }
      }
    }
  };
  walk(template, template.nodes, [scope], 0);
  return out.join('');
}

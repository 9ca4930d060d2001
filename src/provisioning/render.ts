import { stripControl, xmlText } from '../domain/text';

/**
 * A tiny, logic-less template engine (a Mustache subset) for phone configuration files.
 *
 *   {{name}}            value, escaped for the file's format (never raw)
 *   {{#name}}..{{/name}} section: once for true / a non-empty string or number, once per element
 *                        of an array (the element's fields join the scope), skipped otherwise
 *   {{^name}}..{{/name}} inverted section: rendered when `name` is false, empty or missing
 *   {{>name}}           partial: another template of the same vendor (model overrides first);
 *                        `{{>papgate:name}}` is papgate's own `name` (an operator's file extending it)
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

/** A tag's `line` is its line in the file (from 1), for errors an operator can find. */
export type Node =
  | { readonly t: 'text'; readonly text: string }
  | { readonly t: 'var'; readonly name: string; readonly line: number }
  | {
      readonly t: 'section';
      readonly name: string;
      readonly inverted: boolean;
      readonly body: readonly Node[];
      readonly line: number;
    }
  | { readonly t: 'partial'; readonly name: string; readonly line: number };

export interface Template {
  readonly name: string;
  readonly nodes: readonly Node[];
}

/** `line`: where in the file (from 1); without it, an error found while rendering. */
export class TemplateError extends Error {
  constructor(template: string, message: string, line?: number) {
    super(`template ${template}${line === undefined ? '' : ` line ${line}`}: ${message}`);
    this.name = 'TemplateError';
  }
}

const TAG = /\{\{([#^/>!]?)\s*([A-Za-z0-9_.:-]*)\s*\}\}/g;

/** How many of the ascending `sorted` are less than `x`. */
function below(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function compile(name: string, source: string): Template {
  // Standalone tags (alone on their line, except a variable) remove the line they stand on; where
  // each removed line ended is kept, so that an error still names the file's own line.
  const removed: number[] = [];
  let shift = 0;
  const text = source.replace(
    /^[ \t]*(\{\{[#^/>!][^}]*\}\})[ \t]*\r?\n/gm,
    (whole: string, tag: string, offset: number) => {
      removed.push(offset - shift + tag.length);
      shift += whole.length - tag.length;
      return tag;
    },
  );
  const newlines: number[] = [];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines.push(i);
  const lineAt = (at: number) => 1 + below(newlines, at) + below(removed, at + 1);
  const fail = (message: string, at: number) => new TemplateError(name, message, lineAt(at));
  const root: Node[] = [];
  const stack: { name: string; inverted: boolean; body: Node[]; at: number }[] = [];
  const current = () => (stack.length ? stack[stack.length - 1]!.body : root);
  const pushText = (from: number, to: number) => {
    const piece = text.slice(from, to);
    const stray = piece.search(/\{\{|\}\}/);
    if (stray !== -1) throw fail('malformed tag', from + stray);
    current().push({ t: 'text', text: piece });
  };
  let last = 0;
  for (const m of text.matchAll(TAG)) {
    const at = m.index!;
    if (at > last) pushText(last, at);
    last = at + m[0].length;
    const [, sigil, tagName = ''] = m;
    if (sigil !== '!' && tagName === '') throw fail('empty tag', at);
    switch (sigil) {
      case '!':
        break;
      case '#':
      case '^':
        stack.push({ name: tagName, inverted: sigil === '^', body: [], at });
        break;
      case '/': {
        const open = stack.pop();
        if (!open || open.name !== tagName) throw fail(`unexpected {{/${tagName}}}`, at);
        current().push({
          t: 'section',
          name: open.name,
          inverted: open.inverted,
          body: open.body,
          line: lineAt(open.at),
        });
        break;
      }
      case '>':
        current().push({ t: 'partial', name: tagName, line: lineAt(at) });
        break;
      default:
        current().push({ t: 'var', name: tagName, line: lineAt(at) });
    }
  }
  const open = stack[stack.length - 1];
  if (open) throw fail(`unclosed {{${open.inverted ? '^' : '#'}${open.name}}}`, open.at);
  if (last < text.length) pushText(last, text.length);
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
          if (Array.isArray(v)) throw new TemplateError(t.name, `"${n.name}" is a list, not a value`, n.line);
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
          if (!p) throw new TemplateError(t.name, `unknown partial "${n.name}"`, n.line);
          walk(p, p.nodes, scopes, depth + 1);
          break;
        }
      }
    }
  };
  walk(template, template.nodes, [scope], 0);
  return out.join('');
}

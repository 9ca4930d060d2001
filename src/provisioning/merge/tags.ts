import { FormatError } from './types';

/**
 * A file cut into its tags and what lies between them, each piece as written: a merge that only
 * drops and adds pieces leaves every other byte of the upstream's file as it was (quotes, layout,
 * a raw `&` a Gigaset base takes), where a parser and a builder would write it anew.
 */
export type Piece =
  | {
      readonly kind: 'tag';
      readonly text: string;
      readonly name: string;
      readonly closing: boolean;
      /** `<name .../>`: an element without content. */
      readonly empty: boolean;
      /** Its attributes, each with its span in `text` (the whitespace before it included). */
      readonly attrs: readonly {
        readonly name: string;
        readonly value: string;
        readonly span: [number, number];
      }[];
    }
  | { readonly kind: 'other'; readonly text: string };

// Comments, processing instructions (the XML declaration) and CDATA are kept whole, so that a tag
// inside a comment (Wazo's N720 base.tpl:174-176) is no item.
const TOKEN =
  /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|[^<]+/y;
const ATTR = /\s+([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * `text` in pieces; throws FormatError at a `<` that starts no tag, comment or declaration, at
 * CDATA or a processing instruction other than the XML declaration, and at an attribute written
 * twice (in any case). CDATA is refused rather than kept: a phone that does not read it as text
 * would find the elements written inside it (`<![CDATA[<setting_server>...]]>`), which papgate never
 * saw as items; an attribute written twice is read by one phone as the first, by another as the last.
 */
export function pieces(text: string): Piece[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new FormatError('a DTD (<!DOCTYPE or <!ENTITY) is refused');
  const out: Piece[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) throw new FormatError(`no tag at offset ${at}`);
    if (m[2] === undefined) {
      if (m[0].startsWith('<![CDATA[')) throw new FormatError(`CDATA at offset ${at} is refused`);
      if (m[0].startsWith('<?') && !(at === 0 && /^<\?xml\s/.test(m[0])))
        throw new FormatError(`a processing instruction at offset ${at} is refused`);
      out.push({ kind: 'other', text: m[0] });
      continue;
    }
    const offset = 1 + m[1]!.length + m[2].length;
    const attrs = [...m[3]!.matchAll(ATTR)].map((a) => ({
      name: a[1]!,
      value: a[2] ?? a[3]!,
      span: [offset + a.index, offset + a.index + a[0].length] as [number, number],
    }));
    const names = attrs.map((a) => a.name.toLowerCase());
    if (new Set(names).size !== names.length)
      throw new FormatError(`<${m[2]}> at offset ${at} has an attribute written twice`);
    out.push({ kind: 'tag', text: m[0], name: m[2], closing: m[1] === '/', empty: m[4] === '/', attrs });
  }
  return out;
}

/** The first element's start tag and the index of the end tag that closes it (null: `<x/>`). */
export function rootOf(list: readonly Piece[]): { start: number; end: number | null } {
  const start = list.findIndex((p) => p.kind === 'tag');
  const root = list[start];
  if (root?.kind !== 'tag' || root.closing) throw new FormatError('no root element');
  return { start, end: root.empty ? null : closing(list, start) };
}

/** The index of the end tag of the element whose start tag is at `start`. */
export function closing(list: readonly Piece[], start: number): number {
  let depth = 0;
  for (let i = start; i < list.length; i++) {
    const p = list[i]!;
    if (p.kind !== 'tag' || p.empty) continue;
    depth += p.closing ? -1 : 1;
    if (depth === 0) return i;
  }
  throw new FormatError(`<${(list[start] as { name: string }).name}> is not closed`);
}

/**
 * The XML declaration is papgate's own file's: the answer is sent in UTF-8, the upstream's body was
 * read as UTF-8, and a declaration of another encoding (Wazo's Gigaset templates declare ISO-8859-1)
 * would make the phone read papgate's items wrongly. `upstream` is the merged file's pieces' text.
 */
export function ownDeclaration(upstream: string[], own: readonly Piece[]): void {
  const mine = own.find((p) => p.kind === 'other' && p.text.startsWith('<?xml'));
  const at = upstream.findIndex((t) => t.startsWith('<?xml'));
  if (mine !== undefined && at !== -1) upstream[at] = mine.text;
}

const ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** XML text or an attribute value as written, its entities and character references read. */
export function decodeXml(text: string): string {
  return text.replace(
    /&(?:#x([0-9a-f]+)|#([0-9]+)|([a-z]+));/gi,
    (whole, hex?: string, dec?: string, name?: string) => {
      if (name !== undefined) return ENTITIES[name] ?? whole;
      const code = hex !== undefined ? parseInt(hex, 16) : Number(dec);
      return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    },
  );
}

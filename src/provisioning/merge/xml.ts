import { XMLValidator } from 'fast-xml-parser';
import { closing, decodeXml, ownDeclaration, pieces, rootOf, type Piece } from './tags';
import { FormatError, type Format } from './types';

type Tag = Extract<Piece, { kind: 'tag' }>;

/** An element: the index of its start tag and of its end tag (null: `<x/>`). */
interface Span {
  readonly start: number;
  readonly end: number | null;
}

/**
 * A file whose items are elements inside one container under the root (snom `settings >
 * phone-settings`, Grandstream `gs_provision > config`), or the root itself (Cisco `flat-profile`).
 * Everything outside the container (snom's function keys, phone book, dial plan) is the upstream's,
 * as it is. Checked as well-formed XML, then cut into its tags (tags.ts) and written back as it
 * came, only the dropped items taken out: a parser and a builder would write `<X/>` as `<X></X>`,
 * which a Cisco SPA reads as "set to empty" where `<X/>` leaves the value as it is.
 */
export function xmlFormat(spec: {
  readonly root: string;
  readonly container: string;
  /** What makes two elements the same item: their name and the attributes listed here. */
  readonly keyAttributes: readonly string[];
  /** Element names papgate owns beyond those its own file sets. */
  readonly owned: readonly RegExp[];
  /** Element names the container may hold (a file of another version of the format is refused). */
  readonly items?: RegExp;
  /** An item's name as the phone reads it (Grandstream: `P0237` is P237). */
  readonly canonical?: (name: string) => string;
}): Format {
  const canonical = spec.canonical ?? ((name: string) => name);
  const nameOf = (list: readonly Piece[], e: Span) => canonical((list[e.start] as Tag).name);
  const keyOf = (list: readonly Piece[], e: Span) => {
    const tag = list[e.start] as Tag;
    const value = (a: string) => tag.attrs.find((x) => x.name === a)?.value ?? '';
    return [nameOf(list, e), ...spec.keyAttributes.map(value)].join('\0');
  };
  const ownedName = (name: string) =>
    spec.owned.some((re) => re.test(name)) || (spec.items?.test(name) ?? false);
  const parts = (text: string) => {
    wellFormed(text);
    const list = pieces(text);
    const root = rootOf(list);
    if ((list[root.start] as Tag).name !== spec.root) throw new FormatError(`no <${spec.root}> root element`);
    let container: Span | null = root;
    if (spec.container !== spec.root) {
      const found = elementsIn(list, root).filter((e) => (list[e.start] as Tag).name === spec.container);
      if (found.length > 1) throw new FormatError(`a second <${spec.container}>`);
      container = found[0] ?? null;
      // An item outside the container, where papgate would neither drop nor see it.
      for (let i = root.start + 1; i < (root.end ?? root.start); i++) {
        if (container !== null && i === container.start) i = container.end ?? i;
        const p = list[i]!;
        if (p.kind === 'tag' && !p.closing && ownedName(canonical(p.name)))
          throw new FormatError(`<${p.name}> outside <${spec.container}>`);
      }
    }
    const items = container === null ? [] : elementsIn(list, container);
    for (const e of items) {
      const tag = list[e.start] as Tag;
      if (spec.items && !spec.items.test(tag.name))
        throw new FormatError(`<${tag.name}> in <${spec.container}> is not an item of this format`);
      if (e.end !== null && list.slice(e.start + 1, e.end).some((p) => p.kind === 'tag'))
        throw new FormatError(`<${tag.name}> in <${spec.container}> holds an element: an item is a value`);
      for (const a of tag.attrs)
        if (spec.keyAttributes.includes(a.name) && a.value !== a.value.trim())
          throw new FormatError(`<${tag.name}>'s ${a.name} has spaces around its value`);
    }
    return { list, root, container, items };
  };
  return {
    check: (upstream) => void parts(upstream),
    values(upstream, items) {
      const u = parts(upstream);
      return items.map((item) => {
        // A setting names an indexed element `name[idx]` (snom); an element the upstream wrote
        // without the index is that item too.
        const m = /^(.*)\[([^\]]*)\]$/.exec(item);
        const name = canonical(m ? m[1]! : item);
        const e = [...u.items].reverse().find((x) => {
          const tag = u.list[x.start] as Tag;
          if (nameOf(u.list, x) !== name) return false;
          return spec.keyAttributes.every((a) => {
            const v = tag.attrs.find((y) => y.name === a)?.value ?? '';
            return v === '' || v === (m && a === 'idx' ? m[2] : '');
          });
        });
        if (e === undefined) return null;
        const inner = e.end === null ? [] : u.list.slice(e.start + 1, e.end);
        return decodeXml(inner.map((p) => p.text).join(''));
      });
    },
    merge(upstream, own) {
      const u = parts(upstream);
      const o = parts(own);
      const texts = u.list.map((p) => p.text);
      const mine = new Set(o.items.map((e) => keyOf(o.list, e)));
      const inner = (e: Span) => (e.end === null ? [] : o.list.slice(e.start + 1, e.end).map((p) => p.text));
      if (u.container === null) {
        const c = o.container!;
        openInto(
          texts,
          u.list,
          u.root,
          o.list.slice(c.start, (c.end ?? c.start) + 1).map((p) => p.text),
        );
      } else {
        // Dropped back to front, so that the indexes before stay right; the insertion comes last.
        const c = u.container;
        for (const e of [...u.items].reverse()) {
          const name = nameOf(u.list, e);
          if (!mine.has(keyOf(u.list, e)) && !spec.owned.some((re) => re.test(name))) continue;
          // The indentation before a dropped element goes with it.
          const from = e.start > c.start + 1 && /^\s*$/.test(texts[e.start - 1]!) ? e.start - 1 : e.start;
          for (let i = from; i <= (e.end ?? e.start); i++) texts[i] = '';
        }
        openInto(texts, u.list, c, inner(o.container!));
      }
      ownDeclaration(texts, o.list);
      return texts.join('');
    },
  };
}

/** The elements directly inside `parent`. */
function elementsIn(list: readonly Piece[], parent: Span): Span[] {
  const out: Span[] = [];
  if (parent.end === null) return out;
  for (let i = parent.start + 1; i < parent.end; i++) {
    const p = list[i]!;
    if (p.kind !== 'tag') continue;
    const end = p.empty ? null : closing(list, i);
    out.push({ start: i, end });
    i = end ?? i;
  }
  return out;
}

/** `add` at the end of the element `e` of `texts`, before the whitespace that closes it; `<x/>` is opened. */
function openInto(texts: string[], list: readonly Piece[], e: Span, add: readonly string[]): void {
  if (e.end === null) {
    texts[e.start] =
      `${texts[e.start]!.replace(/\s*\/>$/, '>')}${add.join('')}</${(list[e.start] as Tag).name}>`;
    return;
  }
  let at = e.end;
  while (at > e.start + 1 && texts[at - 1] === '') at--;
  const before = texts[at - 1]!;
  if (at > e.start + 1 && /^\s*$/.test(before)) texts[at - 1] = add.join('') + before;
  else texts[e.end] = add.join('') + texts[e.end]!;
}

/** Throws FormatError unless `text` is well-formed XML without a DTD: no entity of the upstream's is ever expanded. */
export function wellFormed(text: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new FormatError('a DTD (<!DOCTYPE or <!ENTITY) is refused');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new FormatError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
}

import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { FormatError, type Format } from './types';

/**
 * Parsed in document order, text and attributes as they are written (no entity is expanded, no
 * value converted), so that what papgate does not replace is written back as the upstream wrote it.
 */
const OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  commentPropName: '#comment',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  suppressEmptyNode: false,
} as const;
const parser = new XMLParser(OPTIONS);
const builder = new XMLBuilder(OPTIONS);

/** A node as the parser gives it with preserveOrder: one name -> children, attributes under `:@`. */
type XmlNode = Record<string, unknown>;
const ATTRS = ':@';

/**
 * A file whose items are elements inside one container under the root (snom `settings >
 * phone-settings`, Grandstream `gs_provision > config`), or the root itself (Cisco `flat-profile`).
 * Everything outside the container (snom's function keys, phone book, dial plan) is the upstream's,
 * as it is.
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
}): Format {
  const keyOf = (n: XmlNode) => {
    const attrs = (n[ATTRS] ?? {}) as Record<string, string>;
    return [nameOf(n), ...spec.keyAttributes.map((a) => attrs[`@_${a}`] ?? '')].join('\0');
  };
  const parts = (text: string) => {
    const doc = parse(text);
    const root = doc.find((n) => nameOf(n) === spec.root);
    if (root === undefined) throw new FormatError(`no <${spec.root}> root element`);
    const container =
      spec.container === spec.root
        ? root
        : (children(root).find((n) => nameOf(n) === spec.container) ?? null);
    if (container && spec.items)
      for (const n of children(container))
        if (isElement(n) && !spec.items.test(nameOf(n)))
          throw new FormatError(`<${nameOf(n)}> in <${spec.container}> is not an item of this format`);
    return { doc, root, container };
  };
  return {
    check: (upstream) => void parts(upstream),
    merge(upstream, own) {
      const u = parts(upstream);
      const o = parts(own);
      const mine = children(o.container!);
      if (u.container === null) {
        insertBeforeTrailingSpace(children(u.root), [o.container!]);
        return builder.build(u.doc) as string;
      }
      const keys = new Set(mine.filter(isElement).map(keyOf));
      const items = children(u.container);
      const kept: XmlNode[] = [];
      for (const n of items) {
        if (isElement(n) && (keys.has(keyOf(n)) || spec.owned.some((re) => re.test(nameOf(n))))) {
          // The indentation before a dropped element goes with it.
          if (kept.length > 0 && isSpace(kept[kept.length - 1]!)) kept.pop();
          continue;
        }
        kept.push(n);
      }
      items.splice(0, items.length, ...kept);
      insertBeforeTrailingSpace(items, mine);
      return builder.build(u.doc) as string;
    },
  };
}

function parse(text: string): XmlNode[] {
  wellFormed(text);
  return parser.parse(text) as XmlNode[];
}

/** Throws FormatError unless `text` is well-formed XML without a DTD: no entity of the upstream's is ever expanded. */
export function wellFormed(text: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new FormatError('a DTD (<!DOCTYPE or <!ENTITY) is refused');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new FormatError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
}

function nameOf(n: XmlNode): string {
  return Object.keys(n).find((k) => k !== ATTRS) ?? '';
}

function isElement(n: XmlNode): boolean {
  const name = nameOf(n);
  return name !== '#text' && name !== '#comment' && !name.startsWith('?');
}

function isSpace(n: XmlNode): boolean {
  return nameOf(n) === '#text' && String(n['#text']).trim() === '';
}

function children(n: XmlNode): XmlNode[] {
  return n[nameOf(n)] as XmlNode[];
}

/** `add` at the end of `list`, before the whitespace that closes the element. */
function insertBeforeTrailingSpace(list: XmlNode[], add: readonly XmlNode[]): void {
  const at = list.length > 0 && isSpace(list[list.length - 1]!) ? list.length - 1 : list.length;
  list.splice(at, 0, ...add);
}

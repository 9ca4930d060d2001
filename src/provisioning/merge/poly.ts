import { decodeXml, ownDeclaration, pieces, rootOf } from './tags';
import { FormatError, type Format } from './types';
import { wellFormed } from './xml';

/**
 * A Poly (and Spectralink UCS) configuration file: every item is an attribute (`reg.1.address`),
 * on any element, whatever the element's name (Wazo's `<mac>-user.cfg` puts them on the root
 * `polycomConfig`, FusionPBX's `<mac>.cfg` on `<REGISTRATION>`, `<DEVICE_SETTINGS>`, ... under `<PHONE>`).
 * The upstream's attributes papgate's file sets or `owned` names (compared in lower case) are
 * dropped wherever they are; papgate's elements close the upstream's root. A master file
 * (`<APPLICATION CONFIG_FILES=...>`) is not such a file: papgate serves its own.
 */
export function polyFormat(spec: {
  /** Attribute names papgate owns beyond those its own file sets. */
  readonly owned: readonly RegExp[];
}): Format {
  const parts = (text: string) => {
    wellFormed(text);
    const list = pieces(text);
    const root = rootOf(list);
    const name = (list[root.start] as { name: string }).name;
    if (/^APPLICATION$/i.test(name))
      throw new FormatError('a master file (<APPLICATION>): the pattern must name the phone’s settings file');
    if (!list.some((p) => p.kind === 'tag' && p.attrs.some((a) => a.name.includes('.'))))
      throw new FormatError('no Poly parameter (an attribute such as reg.1.address)');
    return { list, root };
  };
  return {
    check: (upstream) => void parts(upstream),
    values(upstream, items) {
      const attrs = parts(upstream).list.flatMap((p) => (p.kind === 'tag' ? p.attrs : []));
      return items.map((item) => {
        const a = attrs.find((x) => x.name.toLowerCase() === item.toLowerCase());
        return a === undefined ? null : decodeXml(a.value);
      });
    },
    merge(upstream, own) {
      const u = parts(upstream);
      const o = parts(own);
      const mine = new Set(
        o.list.flatMap((p) => (p.kind === 'tag' ? p.attrs.map((a) => a.name.toLowerCase()) : [])),
      );
      const drop = (name: string) => mine.has(name.toLowerCase()) || spec.owned.some((re) => re.test(name));
      const texts = u.list.map((p) => {
        if (p.kind !== 'tag') return p.text;
        let text = p.text;
        for (const a of [...p.attrs].reverse())
          if (drop(a.name)) text = text.slice(0, a.span[0]) + text.slice(a.span[1]);
        return text;
      });
      // papgate's elements: what its root holds.
      const inner = o.root.end === null ? [] : o.list.slice(o.root.start + 1, o.root.end).map((p) => p.text);
      if (u.root.end === null) {
        // `<polycomConfig ... />` (Wazo's base.tpl:2,134): opened to take papgate's elements.
        const name = (u.list[u.root.start] as { name: string }).name;
        const open = texts[u.root.start]!.replace(/\s*\/>$/, '\n>');
        texts.splice(u.root.start, 1, open, ...inner, `</${name}>`);
      } else texts.splice(u.root.end, 0, ...inner);
      ownDeclaration(texts, o.list);
      return texts.join('');
    },
  };
}

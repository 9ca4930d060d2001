import { closing, decodeXml, ownDeclaration, pieces, type Piece } from './tags';
import { FormatError, type Format } from './types';

type Tag = Extract<Piece, { kind: 'tag' }>;

/**
 * A Gigaset provider profile (`ProviderFrame > Provider`, Wazo's `wazo_gigaset/N510` and `N720`
 * base.tpl): each item is an empty element of `<Provider>`, a `SYMB_ITEM` by its `ID`, any other
 * by its name. An ID is compared in lower case with its array indexes left out: `[%]` sets every
 * index of an array (Wazo's N720 base.tpl:106-117), so an upstream item on any index of an array
 * papgate writes is papgate's. Not parsed as XML: Wazo writes a raw `&` into a URL (N510 base.tpl:11,
 * N720 :12-13), which the bases take; the file is cut into tags, and a DTD is refused all the same.
 */
export function gigasetFormat(spec: {
  /** Items papgate owns beyond those its own file sets, as keyOf writes them (case-insensitive). */
  readonly owned: readonly RegExp[];
}): Format {
  const parts = (text: string) => {
    const list = pieces(text);
    const frame = list.findIndex((p) => p.kind === 'tag');
    if ((list[frame] as Tag | undefined)?.name !== 'ProviderFrame')
      throw new FormatError('no <ProviderFrame> root element');
    const start = list.findIndex((p) => p.kind === 'tag' && p.name === 'Provider' && !p.closing);
    if (start === -1 || (list[start] as Tag).empty) throw new FormatError('no <Provider> element');
    const end = closing(list, start);
    // Nothing but <Provider> in the frame: a second one, or an item beside it, would be read by the
    // base and never seen by the merge.
    const outside = list.findIndex(
      (p, i) =>
        p.kind === 'tag' &&
        i !== frame &&
        i !== start &&
        i !== end &&
        (i < start || i > end) &&
        !(p.closing && p.name === 'ProviderFrame'),
    );
    if (outside !== -1) throw new FormatError(`<${(list[outside] as Tag).name}> outside <Provider>`);
    for (const p of list.slice(start + 1, end)) {
      if (p.kind !== 'tag') continue;
      if (!p.empty) throw new FormatError(`<${p.name}> in <Provider>: an item is an empty element`);
      // An ID is read by the base as written: one in another case, or with spaces, is no ID papgate compares.
      const id = p.attrs.find((a) => /^id$/i.test(a.name));
      if (id !== undefined && (id.name !== 'ID' || id.value !== id.value.trim()))
        throw new FormatError(
          `<${p.name} ${id.name}="${id.value}">: an ID is written ID="..." without spaces`,
        );
    }
    return { list, start, end };
  };
  return {
    check: (upstream) => void parts(upstream),
    values(upstream, items) {
      const u = parts(upstream);
      const tags = u.list.slice(u.start + 1, u.end).filter((x): x is Tag => x.kind === 'tag');
      return items.map((item) => {
        const key = item.replace(/\[[^\]]*\]/g, '[]').toLowerCase();
        const p = tags.find((x) => keyOf(x) === key);
        return p === undefined ? null : decodeXml(p.attrs.find((a) => a.name === 'value')?.value ?? '');
      });
    },
    merge(upstream, own) {
      const u = parts(upstream);
      const o = parts(own);
      const items = o.list.slice(o.start + 1, o.end);
      const mine = new Set(items.filter((p) => p.kind === 'tag').map(keyOf));
      const out: Piece[] = [];
      let dropped = false;
      const drop = (key: string) => mine.has(key) || spec.owned.some((re) => re.test(key));
      for (let i = 0; i < u.end; i++) {
        const p = u.list[i]!;
        if (i > u.start && p.kind === 'tag' && drop(keyOf(p))) {
          // The item's line goes with it: its indentation here, its line end below.
          const before = out[out.length - 1];
          if (before?.kind === 'other')
            out[out.length - 1] = { ...before, text: before.text.replace(/[ \t]*$/, '') };
          dropped = true;
          continue;
        }
        out.push(dropped && p.kind === 'other' ? { ...p, text: p.text.replace(/^[ \t]*\r?\n/, '') } : p);
        dropped = false;
      }
      // papgate's items close the upstream's <Provider>, with papgate's layout before its end tag.
      const last = out[out.length - 1];
      if (last?.kind === 'other') out[out.length - 1] = { ...last, text: last.text.replace(/\s*$/, '') };
      const texts = [...out, ...items, ...u.list.slice(u.end)].map((p) => p.text);
      ownDeclaration(texts, o.list);
      return texts.join('');
    },
  };
}

/** An item's key: a SYMB_ITEM's ID without its indexes, any other element's name; lower case. */
function keyOf(p: Piece): string {
  const tag = p as Tag;
  const id = tag.name === 'SYMB_ITEM' ? tag.attrs.find((a) => a.name === 'ID')?.value : undefined;
  return (id === undefined ? tag.name : id.replace(/\[[^\]]*\]/g, '[]')).toLowerCase();
}

import { FormatError, type Format } from './types';

/**
 * A file of `key = value` (Yealink) or `KEY="value"` (Panasonic) lines after a header line, `#`
 * starting a comment; an item is what precedes the first `=`. Keys are compared in lower case: a key that differs only in case is dropped rather than
 * left to the phone to read as papgate's. A line of the upstream's that is neither blank, a comment
 * nor `key = value` is dropped: a Yealink reads `include:config "<url>"` as a file to load, which
 * could set what papgate owns.
 */
export function lineFormat(spec: {
  /** The first line the format requires; the upstream's own is kept. */
  readonly header: RegExp;
  /** Items papgate owns beyond those its own file sets (lower-case keys). */
  readonly owned: readonly RegExp[];
}): Format {
  const split = (text: string) => {
    // A lone CR ends a line too: a phone that reads it so would otherwise find an item inside a
    // line papgate took for another (or for the header).
    const lines = text.split(/\r\n|\r|\n/);
    const first = lines.findIndex((l) => l.trim() !== '');
    return { header: lines[first] ?? '', body: lines.slice(first + 1) };
  };
  return {
    check(upstream) {
      if (!spec.header.test(split(upstream).header))
        throw new FormatError(`the first line is not ${String(spec.header)}`);
    },
    values(upstream, items) {
      // the last line of a key, as the phone reads the file
      const set = new Map<string, string>();
      for (const line of split(upstream).body) {
        const k = keyOf(line);
        if (k !== null) set.set(k, line.slice(line.indexOf('=') + 1).trim());
      }
      return items.map((item) => set.get(item.toLowerCase()) ?? null);
    },
    merge(upstream, own) {
      const u = split(upstream);
      const o = split(own);
      const mine = new Set(o.body.map(keyOf).filter((k) => k !== null));
      const kept = u.body.filter((line) => {
        const k = keyOf(line);
        if (k === null) return isComment(line);
        return !mine.has(k) && !spec.owned.some((re) => re.test(k));
      });
      while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
      return [u.header, ...kept, ...o.body].join('\n');
    },
  };
}

/** A blank line or a comment. */
function isComment(line: string): boolean {
  const text = line.trimStart();
  return text === '' || text.startsWith('#');
}

/**
 * The item a line sets (lower case), null for any other line. A scan, not a regex: a lazy key
 * before `\s*=` backtracks quadratically on a long line without `=`.
 */
function keyOf(line: string): string | null {
  if (isComment(line)) return null;
  const eq = line.indexOf('=');
  const key = eq === -1 ? '' : line.slice(0, eq).trim();
  return key === '' ? null : key.toLowerCase();
}

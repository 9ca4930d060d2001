import { FormatError, type Format } from './types';

/**
 * A file of `key = value` (Yealink) or `KEY="value"` (Panasonic) lines after a header line, `#`
 * starting a comment; an item is what precedes the first `=`. Keys are compared in lower case: a key that differs only in case is dropped rather than
 * left to the phone to read as papgate's.
 */
export function lineFormat(spec: {
  /** The first line the format requires; the upstream's own is kept. */
  readonly header: RegExp;
  /** Items papgate owns beyond those its own file sets (lower-case keys). */
  readonly owned: readonly RegExp[];
}): Format {
  const split = (text: string) => {
    const lines = text.split(/\r?\n/);
    const first = lines.findIndex((l) => l.trim() !== '');
    return { header: lines[first] ?? '', body: lines.slice(first + 1) };
  };
  return {
    check(upstream) {
      if (!spec.header.test(split(upstream).header))
        throw new FormatError(`the first line is not ${String(spec.header)}`);
    },
    merge(upstream, own) {
      const u = split(upstream);
      const o = split(own);
      const mine = new Set(o.body.map(keyOf).filter((k) => k !== null));
      const kept = u.body.filter((line) => {
        const k = keyOf(line);
        return k === null || (!mine.has(k) && !spec.owned.some((re) => re.test(k)));
      });
      while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
      return [u.header, ...kept, ...o.body].join('\n');
    },
  };
}

/** The item a line sets (lower case), null for comments and blank lines. */
function keyOf(line: string): string | null {
  const m = /^\s*([^#\s=][^=]*?)\s*=/.exec(line);
  return m ? m[1]!.toLowerCase() : null;
}

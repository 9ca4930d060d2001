import unhomoglyph from 'unhomoglyph';

/**
 * What a name looks like, for telling whether two names would pass for each other: NFKC (full-width
 * and compatibility forms as their plain letters), then every character replaced by the one it is
 * confusable with in Unicode's confusables.txt (UTS #39, as the unhomoglyph package carries it:
 * Cyrillic "е" and Greek "Β" as Latin "e" and "B", "0" as "O", "rn" drawn alike with "m"), then
 * lower case and mapped once more (Greek capitals map to Latin ones only before lower case), and
 * the joiners removed, which draw as nothing between Latin letters. Not a security boundary: a
 * heuristic that catches what a drill made ("Beta" and "B" + Cyrillic "е" + "ta"), not every pair
 * a font draws alike.
 */
export function skeleton(name: string): string {
  return unhomoglyph(unhomoglyph(name.normalize('NFKC')).toLowerCase()).replace(/[\u200c\u200d]/g, '');
}

/**
 * The first of `existing` (the other names of the scope) that looks like `name`, the same name
 * included, or null. A new tenant or site name that looks like another of its scope is refused:
 * two tenants "Beta" side by side in the console, or two sites on one PAP sheet, would be told
 * apart by nobody.
 */
export function lookAlikeOf(name: string, existing: Iterable<string>): string | null {
  const mine = skeleton(name);
  for (const other of existing) if (skeleton(other) === mine) return other;
  return null;
}

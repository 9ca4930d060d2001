import { InputError } from './errors';

/**
 * Characters refused in every name and text an admin enters (tenant and site names, models, SIP
 * account fields, civic addresses):
 * - control characters (C0, DEL, C1): they end up in phone configuration files and CSV cells;
 * - format characters (Unicode category Cf), above all the bidirectional controls (U+061C,
 *   U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which reorder the text around a name wherever
 *   it is shown: a tenant named with U+202E reversed the PAP sheet's instructions. Also the
 *   zero-width space, word joiner, soft hyphen, BOM and tag characters, which hide text or make
 *   two names look alike;
 * - every other Default_Ignorable_Code_Point, which fonts draw as nothing: the Hangul fillers
 *   (U+115F, U+1160, U+3164, U+FFA0), the combining grapheme joiner, the variation selectors
 *   (U+FE00-U+FE0F, U+E0100-U+E01EF; an emoji loses its colour form, not its meaning), the
 *   Khmer and Mongolian invisible vowels and selectors: "Beta" and "Beta" + U+3164 were two
 *   tenants nobody could tell apart;
 * - blanks that look like a space or like nothing: U+2800 (braille blank) and every space but
 *   U+0020 and the ideographic space U+3000 (which CJK names use, and which is visibly wide);
 * - the combining overlays (U+0334-U+0338, U+20D2, U+20D3, U+20D8-U+20DA, U+20E5, U+20E6,
 *   U+20EA, U+20EB), strokes drawn through a letter that make it pass for another (o + U+0338
 *   looks like ø) and that no language writes names with;
 * - line and paragraph separators (U+2028, U+2029), and unpaired surrogates (not text at all);
 * - unassigned code points (U+0378, the noncharacters U+FFFE, U+FFFF, U+FDD0-U+FDEF) and private
 *   use (U+E000-U+F8FF and the private use planes): no font a reader has draws them as the
 *   writer's did, so they show as boxes, blanks or whatever a font put there.
 * The zero-width non-joiner and joiner (U+200C, U+200D) stay allowed where they join something
 * (see JOINER_PLACES): Persian, the Indic scripts and emoji sequences need them.
 */
const UNSAFE =
  /(?![\u200c\u200d\u0020\u3000])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Zs}\p{Cs}\p{Cn}\p{Co}\p{Default_Ignorable_Code_Point}\u2800\u0334-\u0338\u20d2\u20d3\u20d8-\u20da\u20e5\u20e6\u20ea\u20eb]/u;

/**
 * Scripts in which a zero-width joiner or non-joiner changes what is drawn: the joining scripts
 * (Arabic, Syriac, N'Ko, Mongolian: ZWNJ keeps two letters from joining) and the Brahmic ones with
 * conjuncts (ZWJ or ZWNJ after a virama). Marks such as the Arabic harakat belong to several
 * scripts (Script_Extensions), hence scx.
 */
const JOINING_SCRIPT =
  /[\p{scx=Arabic}\p{scx=Syriac}\p{scx=Nko}\p{scx=Mongolian}\p{scx=Devanagari}\p{scx=Bengali}\p{scx=Gurmukhi}\p{scx=Gujarati}\p{scx=Oriya}\p{scx=Tamil}\p{scx=Telugu}\p{scx=Kannada}\p{scx=Malayalam}\p{scx=Sinhala}\p{scx=Myanmar}\p{scx=Khmer}]/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;
const LETTER = /\p{L}/u;
const PICTOGRAPH = /[\p{Extended_Pictographic}\p{Emoji_Modifier}]/u;

/**
 * Where a joiner joins something: after a letter or mark and before a letter, both of a script
 * that uses joiners; a ZWJ also between two emoji (UTS #51 sequences such as 👩‍💻). Anywhere else
 * (at either end, two in a row, inside a Latin word: "Be" + U+200D + "ta") it draws as nothing,
 * and only makes a name that looks like another.
 */
function joinsSomething(joiner: string, before: string | undefined, after: string | undefined): boolean {
  if (before === undefined || after === undefined) return false;
  if (joiner === '\u200d' && PICTOGRAPH.test(before) && PICTOGRAPH.test(after)) return true;
  return (
    LETTER_OR_MARK.test(before) &&
    LETTER.test(after) &&
    JOINING_SCRIPT.test(before) &&
    JOINING_SCRIPT.test(after)
  );
}

/** The first refused character of `s` as `U+XXXX`, or null when there is none. */
export function unsafeCharacter(s: string): string | null {
  const m = UNSAFE.exec(s);
  let first = m === null ? -1 : m.index;
  if (s.includes('\u200c') || s.includes('\u200d')) {
    const chars = [...s];
    for (let i = 0, at = 0; i < chars.length && (first === -1 || at < first); at += chars[i]!.length, i++)
      if (
        (chars[i] === '\u200c' || chars[i] === '\u200d') &&
        !joinsSomething(chars[i]!, chars[i - 1], chars[i + 1])
      ) {
        first = at;
        break;
      }
  }
  if (first === -1) return null;
  return `U+${s.codePointAt(first)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Throws InputError naming `field` and the character when `s` holds one UNSAFE refuses, or when it
 * begins or ends with white space (of any kind: a name that is only spaces is refused with it).
 */
export function checkText(field: string, s: string): void {
  const c = unsafeCharacter(s);
  if (c === 'U+200C' || c === 'U+200D')
    throw new InputError(
      `${field} contains a zero-width joiner or non-joiner (${c}) that joins nothing: it is allowed only between two letters of a script that uses it (Arabic, Indic scripts, ...) or, U+200D, between two emoji`,
      field,
    );
  if (c !== null)
    throw new InputError(
      `${field} contains control characters or invisible ones (${c}): characters that break files, reorder text or make two names look alike (unassigned and private use ones included) are refused`,
      field,
    );
  if (/^\s|\s$/u.test(s)) throw new InputError(`${field} must not begin or end with white space`, field);
}

/**
 * Text a stranger chose (a Call-ID, a User-Agent, a dialled number), made fit for a log line, a
 * stored binding or an audit field: printable ASCII but for the quotes, `<`, `>` and `\` (anything
 * else, a bidi control or an escape sequence included, becomes `?`), at most `max` characters (a
 * longer one is cut and ends in `...`). What phones send passes unchanged: their Call-IDs and
 * User-Agents are well under 128 characters.
 */
export function strangerText(s: string, max = 128): string {
  const safe = s.replace(/[^\x20-\x7e]|["'<>\\`]/gu, '?');
  return safe.length <= max ? safe : `${safe.slice(0, max - 3)}...`;
}

// C0 controls, DEL, C1 controls and the Unicode line/paragraph separators: none of them may reach a
// configuration file or a SIP body, where they could end a line (and so start a new key) or confuse
// a parser. Names are refused with them (checkText), but records stored before may hold some.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function stripControl(value: string): string {
  return value.replace(CONTROL, '');
}

/**
 * XML text and attribute values, control characters dropped: the phones' XML files
 * (src/provisioning) and the PIDF-LO of an emergency call (src/sip) both escape with it.
 */
export function xmlText(value: string): string {
  return stripControl(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

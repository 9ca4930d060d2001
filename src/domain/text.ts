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
 * - line and paragraph separators (U+2028, U+2029), and unpaired surrogates (not text at all).
 * The zero-width non-joiner and joiner (U+200C, U+200D) stay allowed: Persian, the Indic scripts
 * and emoji sequences need them, and they reorder nothing.
 */
const UNSAFE =
  /(?![\u200c\u200d\u0020\u3000])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Zs}\p{Cs}\p{Default_Ignorable_Code_Point}\u2800\u0334-\u0338\u20d2\u20d3\u20d8-\u20da\u20e5\u20e6\u20ea\u20eb]/u;

/** The first refused character of `s` as `U+XXXX`, or null when there is none. */
export function unsafeCharacter(s: string): string | null {
  const m = UNSAFE.exec(s);
  if (m === null) return null;
  return `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Throws InputError naming `field` and the character when `s` holds one UNSAFE refuses, or when it
 * begins or ends with white space (of any kind: a name that is only spaces is refused with it).
 */
export function checkText(field: string, s: string): void {
  const c = unsafeCharacter(s);
  if (c !== null)
    throw new InputError(
      `${field} contains control characters or invisible ones (${c}): characters that break files, reorder text or make two names look alike are refused`,
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

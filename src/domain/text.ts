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
 * - line and paragraph separators (U+2028, U+2029), and unpaired surrogates (not text at all).
 * The zero-width non-joiner and joiner (U+200C, U+200D) stay allowed: Persian, the Indic scripts
 * and emoji sequences need them, and they reorder nothing.
 */
const UNSAFE = /(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/** The first refused character of `s` as `U+XXXX`, or null when there is none. */
export function unsafeCharacter(s: string): string | null {
  const m = UNSAFE.exec(s);
  if (m === null) return null;
  return `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Throws InputError naming `field` and the character when `s` holds one UNSAFE refuses. */
export function checkText(field: string, s: string): void {
  const c = unsafeCharacter(s);
  if (c !== null)
    throw new InputError(
      `${field} contains control characters (${c}): invisible characters that break files or reorder text are refused`,
      field,
    );
}

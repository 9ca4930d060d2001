import { InputError } from './errors';

/** Canonical MAC: 12 lower-case hex digits, no separators. */
export type Mac = string & { readonly __mac: unique symbol };

const PLAIN = /^[0-9a-fA-F]{12}$/;
const COLON = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/;
const DASH = /^[0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){5}$/;

/**
 * Accepts the three notations printed on device labels (`1a2b3c4d5e6f`, `1a:2b:3c:4d:5e:6f`,
 * `1A-2B-3C-4D-5E-6F`) in either case; mixed separators or other lengths are refused, because a
 * typo'd MAC silently matching a different device would be worse than an error.
 */
export function parseMac(input: unknown): Mac {
  if (typeof input !== 'string') throw new InputError('mac is required (12 hex digits)', 'mac');
  const s = input.trim();
  if (!PLAIN.test(s) && !COLON.test(s) && !DASH.test(s)) {
    throw new InputError(
      `invalid MAC "${s.slice(0, 40)}": expected 12 hex digits, optionally as 6 pairs separated by ":" or "-"`,
      'mac',
    );
  }
  return s.replace(/[:-]/g, '').toLowerCase() as Mac;
}

export function tryParseMac(input: string): Mac | null {
  try {
    return parseMac(input);
  } catch {
    return null;
  }
}

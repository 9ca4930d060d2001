import { InputError } from './errors';
import { canonicalHostPort, splitHostPort } from './hostport';

/**
 * Settings a full configuration carries beyond papgate's own items (issue 23): items in a vendor's
 * own parameter names, set in layers (operator default -> tenant -> site -> device), and the common
 * settings every vendor gets in its own names (each vendor module's `commonItems`).
 */

/** One item of a phone file in the vendor's own parameter name (`local_time.ntp_server1`, `P64`, ...). */
export interface SettingItem {
  readonly name: string;
  readonly value: string;
}

/** Settings set once (on a tenant or a site) and rendered right for every vendor. */
export interface CommonSettings {
  /** An IANA time zone name (`Europe/Berlin`). */
  readonly timeZone?: string;
  /** A host name or address, optionally with `:port`. */
  readonly ntpServer?: string;
  /** The language of the phone's own menus, ISO 639-1 (`de`). */
  readonly phoneLanguage?: string;
}

/**
 * The phone-menu languages papgate accepts: those at least one vendor family maps (each vendor
 * module's `commonItems`, config/templates/README.md "Common settings"); a family that lacks one
 * writes no language item, and the phone keeps its own.
 */
export const PHONE_LANGUAGES = ['de', 'en', 'es', 'fr', 'it', 'nl', 'pl', 'tr'] as const;
export type PhoneLanguage = (typeof PHONE_LANGUAGES)[number];

/** The default NTP port: the one every vendor item uses, since none of them takes a port. */
export const NTP_PORT = 123;

/**
 * An IANA time zone name (`Europe/Berlin`, `UTC`) that the tz database Node ships knows, in the
 * database's letter case. Offsets (`+01:00`), which Intl also takes, are refused: they carry no
 * daylight-saving rule, and a phone set by one would be an hour off half the year.
 */
export function parseTimeZone(input: unknown, field = 'timeZone'): string {
  const s = typeof input === 'string' ? input.trim() : '';
  const error = new InputError(`${field} must be an IANA time zone name such as Europe/Berlin`, field);
  if (s.length > 64 || !/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(s)) throw error;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: s }).resolvedOptions().timeZone;
  } catch {
    throw error;
  }
  // ICU resolves some current names to older ones (Asia/Kolkata to Asia/Calcutta): the admin's
  // name is kept, only its letter case taken from the database.
  return resolved.toLowerCase() === s.toLowerCase() ? resolved : s;
}

/**
 * An NTP server, `host` or `host:port` (`[v6]:port` for an IPv6 address with a port): a DNS name
 * or an address, canonical and lower case. Nothing else gets in, so the value can go into any file
 * format (no quote, bracket, space or separator of any of them).
 */
export function parseNtpServer(input: unknown, field = 'ntpServer'): string {
  const s = typeof input === 'string' ? input.trim().toLowerCase() : '';
  const canonical = canonicalHostPort(s);
  if (canonical === null)
    throw new InputError(
      `${field} must be a host name or IP address, optionally with :port (1-65535)`,
      field,
    );
  return canonical;
}

/**
 * The host to write into a vendor's NTP item, which takes no port (none of the references shows
 * one): the server's host when its port is the default, else null (no item: a phone sent to port
 * 123 of a server that listens elsewhere would never set its clock).
 */
export function ntpHost(ntpServer: string): string | null {
  const parts = splitHostPort(ntpServer);
  if (parts.port !== undefined && Number(parts.port) !== NTP_PORT) return null;
  return parts.host;
}

/** An ISO 639-1 code of PHONE_LANGUAGES (any case). */
export function parsePhoneLanguage(input: unknown, field = 'phoneLanguage'): PhoneLanguage {
  const s = typeof input === 'string' ? input.trim().toLowerCase() : '';
  if (!(PHONE_LANGUAGES as readonly string[]).includes(s)) {
    throw new InputError(`${field} must be one of ${PHONE_LANGUAGES.join(', ')}`, field);
  }
  return s as PhoneLanguage;
}

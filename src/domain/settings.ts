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

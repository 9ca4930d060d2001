import { ntpHost, type CommonSettings } from '../../domain/settings';
import { zoneRules, type ZoneRules } from './tz';

/** The common settings as every vendor module's `commonItems` reads them. */
export interface CommonInputs {
  /** The zone's rules in the year the file is rendered for; null: no zone set. */
  readonly rules: ZoneRules | null;
  /** The NTP host to write (see ntpHost); null: none set, or one on a port the items cannot name. */
  readonly ntp: string | null;
  /** The ISO 639-1 code, if set. */
  readonly language: string | undefined;
}

export function readCommon(settings: CommonSettings, year: number): CommonInputs {
  return {
    rules: settings.timeZone === undefined ? null : rulesOf(settings.timeZone, year),
    ntp: settings.ntpServer === undefined ? null : ntpHost(settings.ntpServer),
    language: settings.phoneLanguage,
  };
}

/** `key`'s entry in a vendor's table (a language or zone it lacks: undefined, no item). */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * A stored zone the runtime's tz database does not know (checked when it was set, but a Node
 * upgrade can drop a name): no time items, rather than no file for the phone.
 */
function rulesOf(zone: string, year: number): ZoneRules | null {
  try {
    return zoneRules(zone, year);
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** What bench/server.ts sets up for the PAP check and bench/pap.ts (and bench/authenticate.lua) use. */
import { parseMac, type Mac } from '../src/domain/mac';

export const PAP_TENANT = 'bench-pap';
/** Wrong PAPs are spread over this many devices (authenticate.lua spreads them the same way). */
export const PAP_DEVICES = 4000;

/** `0015650` and the index in 5 hex digits, as authenticate.lua formats it. */
export function papDeviceMac(i: number): Mac {
  return parseMac(`0015650${i.toString(16).padStart(5, '0')}`);
}

/**
 * Limits high enough that no device locks and no source is refused during a run (about 200
 * wrong PAPs per device per run), so that every PAP check does the full work of a counted wrong PAP.
 */
export const BENCH_ENV: Readonly<Record<string, string>> = {
  AUTH_MAX_CONSECUTIVE_FAILURES: '1000',
  AUTH_MAX_TOTAL_FAILURES: '100000',
  GUESS_LIMIT_PER_SOURCE: '1000000',
  GUESS_LIMIT_PER_SOURCE_TENANT: '1000000',
  EVENTS_MAX_LEN: '10000',
};

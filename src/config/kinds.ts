import ipaddr from 'ipaddr.js';
import { checkWhitelistCoverage, parseWhitelistEntry, type WhitelistEntry } from '../domain/whitelist';

/**
 * The kinds of value a variable holds: how its text is read and checked, and how its default and
 * the values it takes are shown on docs/configuration.md. A variable is declared with one of these
 * in variables.ts; what ties it to other variables is written there, beside it.
 */

/** The docs sections, in the order docs/configuration.md shows them. */
export const SECTIONS = {
  store: 'Redis',
  admin: 'Admin API and CLI',
  metrics: 'Metrics and health',
  http: 'Both HTTP servers',
  provisioning: 'Provisioning',
  https: 'Provisioning over HTTPS',
  auth: 'Authentication and guessing limits',
  audit: 'Audit trail and phone traffic',
  sip: 'SIP',
  general: 'Language, time and logs',
} as const;
export type Section = keyof typeof SECTIONS;

/** A variable's text, undefined when it is not set. */
export type Raw = string | undefined;

/** A variable's text broke its declaration; loadConfig names the variable (ConfigError). */
export class Invalid extends Error {}

/** Thrown where a rule that ties variables blames another variable than the one being read. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface Variable<T, Before = unknown> {
  readonly section: Section;
  /** The values it takes, as the page shows them (Markdown). */
  readonly accepts: string;
  /** Its default, as the page shows it (Markdown). */
  readonly shown: string;
  /** One line: what it does, as the page shows it (Markdown). */
  readonly meaning: string;
  /** Its value from its text and the variables declared before it; throws Invalid or ConfigError. */
  readonly read: (raw: Raw, before: Before) => T;
}

interface Described {
  readonly section: Section;
  readonly meaning: string;
}

/** Set and not empty: an empty variable counts as unset, so that `X=` in a file means the default. */
export const given = (raw: Raw): raw is string => raw !== undefined && raw !== '';

const code = (v: string | number) => `\`${v}\``;
const NONE = '_(none)_';

export function readInt(raw: Raw, min: number, max: number, def: number): number {
  if (!given(raw)) return def;
  if (!/^[0-9]+$/.test(raw.trim()))
    throw new Invalid(`expected a whole number from ${min} to ${max}, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new Invalid(`must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function int(d: Described & { default: number; min: number; max: number }): Variable<number> {
  return {
    ...d,
    accepts: `${d.min} to ${d.max}`,
    shown: code(d.default),
    read: (raw) => readInt(raw, d.min, d.max, d.default),
  };
}

export function flag(d: Described & { default: boolean }): Variable<boolean> {
  return {
    ...d,
    accepts: '`0`, `1`',
    shown: code(d.default ? 1 : 0),
    read: (raw) => {
      const v = given(raw) ? raw : d.default ? '1' : '0';
      if (v !== '0' && v !== '1') throw new Invalid(`expected 0 or 1, got "${v}"`);
      return v === '1';
    },
  };
}

/** Text, its default when unset; `check` answers what is wrong with a value (null: nothing). */
export function text<T extends string = string>(
  d: Described & { default: T; accepts: string; shown?: string; check?: (v: string) => string | null },
): Variable<T> {
  return {
    ...d,
    shown: d.shown ?? (d.default === '' ? NONE : code(d.default)),
    read: (raw) => {
      const v = given(raw) ? raw : d.default;
      const wrong = d.check?.(v);
      if (wrong) throw new Invalid(wrong);
      return v as T;
    },
  };
}

/** Text or null when unset; `check` as for text(). */
export function optional(
  d: Described & { accepts: string; shown?: string; check?: (v: string) => string | null },
): Variable<string | null> {
  return {
    ...d,
    shown: d.shown ?? NONE,
    read: (raw) => {
      if (!given(raw)) return null;
      const wrong = d.check?.(raw);
      if (wrong) throw new Invalid(wrong);
      return raw;
    },
  };
}

/** The entries of a comma list, trimmed, empty ones dropped; unset: the default. Set but empty: none. */
function readList(raw: Raw, def: readonly string[]): string[] {
  if (raw === undefined) return [...def];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A comma list; `check` answers what is wrong with one entry (at its index) or with the list. */
export function list(
  d: Described & {
    default: readonly string[];
    accepts: string;
    check?: (entry: string, i: number, all: readonly string[]) => string | null;
  },
): Variable<string[]> {
  return {
    ...d,
    shown: d.default.length === 0 ? NONE : code(d.default.join(',')),
    read: (raw) => {
      const entries = readList(raw, d.default);
      entries.forEach((e, i) => {
        const wrong = d.check?.(e, i, entries);
        if (wrong) throw new Invalid(wrong);
      });
      return entries;
    },
  };
}

/**
 * Trusted addresses (TRUST_PROXY, SIP_TRUSTED_PEERS), bounded as a tenant's whitelist is: a list
 * that covers (nearly) everything would let anyone claim any address or name any device.
 */
export function addresses(d: Described): Variable<WhitelistEntry[]> {
  return {
    ...d,
    accepts: 'comma list of addresses and CIDRs, at most a /8 (IPv4) or /16 (IPv6) worth',
    shown: NONE,
    read: (raw) => {
      try {
        const out = readList(raw, []).map((e) => parseWhitelistEntry(e));
        checkWhitelistCoverage(out, 'the list');
        return out;
      } catch (err) {
        throw new Invalid((err as Error).message);
      }
    },
  };
}

/**
 * `variable` with a rule that ties it to variables declared before it: `rule` answers what is
 * wrong with its value (null: nothing), which is reported on this variable. `set` says whether the
 * value was given or is the default, so that the message can say which to change.
 */
export function tied<T, B>(
  variable: Variable<T>,
  rule: (value: T, before: B, set: boolean) => string | null,
): Variable<T, B> {
  return {
    ...variable,
    read: (raw, before) => {
      const value = variable.read(raw, undefined);
      const wrong = rule(value, before, given(raw));
      if (wrong) throw new Invalid(wrong);
      return value;
    },
  };
}

/** Only a literal loopback address (or `localhost`) counts: any other name may resolve elsewhere. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(h)) return false;
  const a = ipaddr.process(h);
  return a.range() === 'loopback';
}

export const HTTP_URL = /^https?:\/\/[^/\s]+(\/[^\s]*)?$/;

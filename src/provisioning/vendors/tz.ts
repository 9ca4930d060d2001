/**
 * A time zone's rules as the phones take them (a standard offset and a yearly daylight-saving
 * rule), computed from the tz database Node ships (Intl), so no table of zones has to be kept.
 */

/** One daylight-saving change, in local wall-clock time just before it (02:00 for Berlin's March change, 03:00 for October's). */
export interface DstChange {
  /** 1-12 */
  readonly month: number;
  /** 1-4: the nth `weekday` of the month; 5: the last one. */
  readonly week: number;
  /** 0 = Sunday ... 6 = Saturday */
  readonly weekday: number;
  /** Seconds after local midnight. */
  readonly time: number;
}

export interface ZoneRules {
  /** Seconds east of UTC outside daylight-saving time. */
  readonly standardOffset: number;
  /** null: the zone keeps one offset all year. */
  readonly dst: { readonly start: DstChange; readonly end: DstChange; readonly save: number } | null;
}

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
/** Years a weekday rule is read over: a change on the last weekday of the month in all of them is "last", not "4th". */
const RULE_YEARS = 7;

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Seconds east of UTC at `ms` in `zone`. */
function offsetAt(zone: string, ms: number): number {
  let f = offsetFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormats.set(zone, f);
  }
  const name = f.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(name);
  if (!m) return 0; // "GMT": UTC itself
  const secs = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -secs : secs;
}

interface Transition {
  /** The first instant (ms, to the minute) with the new offset. */
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

/** The offset changes during `year` (UTC), found week by week, then to the minute. */
function transitions(zone: string, year: number): Transition[] {
  const out: Transition[] = [];
  const end = Date.UTC(year + 1, 0, 1);
  let t = Date.UTC(year, 0, 1);
  let off = offsetAt(zone, t);
  while (t < end) {
    const next = Math.min(t + WEEK, end);
    const nextOff = offsetAt(zone, next);
    if (nextOff !== off) {
      let lo = t;
      let hi = next;
      while (hi - lo > 60_000) {
        const mid = lo + Math.max(1, Math.floor((hi - lo) / 120_000)) * 60_000;
        if (offsetAt(zone, mid) === off) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, from: off, to: nextOff });
    }
    t = next;
    off = nextOff;
  }
  return out;
}

/** The change as a local date and time: the wall clock just before it. */
function localChange(tr: Transition): {
  month: number;
  day: number;
  weekday: number;
  time: number;
  daysInMonth: number;
} {
  const local = new Date(tr.at + tr.from * 1000);
  const month = local.getUTCMonth();
  return {
    month: month + 1,
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
    time: local.getUTCHours() * 3600 + local.getUTCMinutes() * 60,
    daysInMonth: new Date(Date.UTC(local.getUTCFullYear(), month + 1, 0)).getUTCDate(),
  };
}

/**
 * The nth weekday this change falls on: "last" (5) when it is the month's last such weekday in
 * every one of RULE_YEARS years (tz rules such as `lastSun`), else this year's count (a rule such
 * as `Sun>=8`, the 2nd Sunday, or one no weekday rule expresses: right for this year, and the file
 * is rendered again at every fetch).
 */
function weekOf(change: ReturnType<typeof localChange>, later: ReturnType<typeof localChange>[]): number {
  const isLast = (c: ReturnType<typeof localChange>) => c.day > c.daysInMonth - 7;
  if (isLast(change) && later.every(isLast)) return 5;
  return Math.ceil(change.day / 7);
}

const rulesCache = new Map<string, ZoneRules>();

/**
 * The rules of `zone` (a name parseTimeZone accepted) in `year`. A year with exactly one change
 * into and one out of a larger offset has daylight saving; a zone whose offsets change otherwise
 * (a zone switching its standard time for good, Morocco's Ramadan changes) gets the offset in
 * force for most of that year and no rule.
 */
export function zoneRules(zone: string, year: number): ZoneRules {
  const key = `${zone} ${year}`;
  const cached = rulesCache.get(key);
  if (cached) return cached;
  const rules = computeRules(zone, year);
  rulesCache.set(key, rules);
  return rules;
}

function computeRules(zone: string, year: number): ZoneRules {
  const trs = transitions(zone, year);
  const [a, b] = trs;
  if (trs.length === 2 && a && b && a.from === b.to && a.to === b.from && a.from !== a.to) {
    const [startTr, endTr] = a.to > a.from ? [a, b] : [b, a];
    const laterYears = Array.from({ length: RULE_YEARS - 1 }, (_, i) => transitions(zone, year + 1 + i));
    const change = (tr: Transition, pick: (t: Transition) => boolean): DstChange => {
      const c = localChange(tr);
      const later = laterYears.flatMap((ts) => ts.filter(pick).map(localChange));
      return { month: c.month, week: weekOf(c, later), weekday: c.weekday, time: c.time };
    };
    return {
      standardOffset: startTr.from,
      dst: {
        start: change(startTr, (t) => t.to > t.from),
        end: change(endTr, (t) => t.to < t.from),
        save: startTr.to - startTr.from,
      },
    };
  }
  return { standardOffset: longestOffset(zone, year, trs), dst: null };
}

function longestOffset(zone: string, year: number, trs: Transition[]): number {
  const spans = new Map<number, number>();
  let from = Date.UTC(year, 0, 1);
  let off = offsetAt(zone, from);
  for (const tr of [...trs, { at: Date.UTC(year + 1, 0, 1), from: off, to: off }]) {
    spans.set(off, (spans.get(off) ?? 0) + tr.at - from);
    from = tr.at;
    off = tr.to;
  }
  return [...spans.entries()].sort((x, y) => y[1] - x[1])[0]![0];
}

/** The same offset and the same daylight-saving rule. */
export function sameRules(a: ZoneRules, b: ZoneRules): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `+01:00`, `-03:30`, `+05:45` for an offset in seconds. */
export function hhmm(seconds: number): string {
  const abs = Math.abs(seconds);
  const h = String(Math.floor(abs / 3600)).padStart(2, '0');
  const m = String(Math.floor((abs % 3600) / 60)).padStart(2, '0');
  return `${seconds < 0 ? '-' : '+'}${h}:${m}`;
}

/** `+1`, `-5`, `+5:30`, `-3:30` (hours, minutes only when there are some). */
export function shortOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  const m = Math.floor((abs % 3600) / 60);
  return `${seconds < 0 ? '-' : '+'}${Math.floor(abs / 3600)}${m ? `:${String(m).padStart(2, '0')}` : ''}`;
}

/**
 * A POSIX TZ string (`CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00`), in the form Grandstream's
 * list writes them (the daylight offset spelt out, times as hh:mm:ss; F
 * `grandstream/grp2612/{$mac}.xml:3856`). The zone's abbreviations where the tz database has
 * alphabetic ones (EST, CET), else STD and DST (POSIX wants at least three letters; the phone
 * only shows them).
 */
export function posixTz(zone: string, rules: ZoneRules, year: number): string {
  const posixOffset = (secs: number) => shortOffset(-secs).replace(/^\+/, '');
  const [stdName, dstName] = abbreviations(zone, rules, year);
  const std = `${stdName}${posixOffset(rules.standardOffset)}`;
  if (!rules.dst) return std;
  const { start, end, save } = rules.dst;
  const rule = (c: DstChange) => `M${c.month}.${c.week}.${c.weekday}/${hhmm(c.time).slice(1)}:00`;
  return `${std}${dstName}${posixOffset(rules.standardOffset + save)},${rule(start)},${rule(end)}`;
}

function abbreviations(zone: string, rules: ZoneRules, year: number): [string, string] {
  // Mid-January and mid-July: one is in standard time, the other in daylight time if there is any.
  const jan = Date.UTC(year, 0, 15);
  const jul = Date.UTC(year, 6, 15);
  const [stdAt, dstAt] = offsetAt(zone, jan) === rules.standardOffset ? [jan, jul] : [jul, jan];
  for (const locale of ['en-US', 'en-GB']) {
    const f = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
    const name = (ms: number) => f.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? '';
    const pair: [string, string] = [name(stdAt), name(dstAt)];
    if (pair.every((n) => /^[A-Z]{3,6}$/.test(n)) && (!rules.dst || pair[0] !== pair[1])) return pair;
  }
  return ['STD', 'DST'];
}

/** 1 = Monday ... 7 = Sunday, for a weekday counted from Sunday = 0. */
export function isoWeekday(weekday: number): number {
  return weekday === 0 ? 7 : weekday;
}

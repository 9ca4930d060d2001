import type { AuthState } from './auth';
import type { Language } from './device';

/**
 * What a minimal configuration's display says: the state and what to do about it. `reset`: the
 * device is authenticated (its PAP was used) but was never given a credential, and no bypass covers
 * this request (the PAP came from another address, or its temporary whitelist ran out before the
 * phone fetched): only an admin's reset (a new PAP) lets it in. `disabled`: an admin disabled the
 * device. A device that holds a credential gets a minimal file only then (decideProvisioning).
 */
export type MinimalDisplay = 'needed' | 'failed' | 'blocked' | 'reset' | 'disabled';

export function minimalDisplay(state: AuthState): MinimalDisplay {
  switch (state) {
    case 'blocked':
    case 'failed':
      return state;
    case 'successful':
      return 'reset';
    case 'needed':
      return 'needed';
  }
}

/** An IANA time zone name Intl knows (e.g. "Europe/Berlin"); canonical spelling. */
export function parseTimeZone(v: string): string | null {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: v }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

interface DisplayContext {
  readonly serviceNumber: string;
  /** End of the `failed` lock (ms); null when unknown. */
  readonly failedUntil: number | null;
  readonly now: number;
  readonly language: Language;
  /** IANA name, already validated. */
  readonly timeZone: string;
}

/** The lock's end as the phone's user reads it: the time, and the date when it is not today. */
function lockEnd(c: DisplayContext, until: number): string {
  const day = (t: number) =>
    new Intl.DateTimeFormat('en-CA', { timeZone: c.timeZone, dateStyle: 'short' }).format(t);
  const time = new Intl.DateTimeFormat(c.language, {
    timeZone: c.timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(until);
  if (day(until) === day(c.now)) return time;
  const date = new Intl.DateTimeFormat(c.language, { timeZone: c.timeZone, day: 'numeric', month: 'short' });
  return `${date.format(until)} ${time}`;
}

/** Each state's texts, longest first: the first that fits the display is used. */
function candidates(d: MinimalDisplay, c: DisplayContext): string[] {
  const n = c.serviceNumber;
  const until = c.failedUntil === null ? null : lockEnd(c, c.failedUntil);
  if (c.language === 'de') {
    if (d === 'needed') return [`Zur Freischaltung ${n} wählen`, `${n} wählen`];
    if (d === 'failed') return until === null ? ['Gesperrt'] : [`Gesperrt bis ${until}`, 'Gesperrt'];
    if (d === 'reset') return ['Rücksetzen nötig - Admin anrufen', 'Rücksetzen'];
    if (d === 'disabled') return ['Deaktiviert - Admin anrufen', 'Inaktiv'];
    return ['Blockiert - Admin anrufen', 'Blockiert'];
  }
  if (d === 'needed') return [`Dial ${n} to authenticate`, `Dial ${n}`];
  if (d === 'failed') return until === null ? ['Locked'] : [`Locked until ${until}`, 'Locked'];
  if (d === 'reset') return ['Call your admin - reset needed', 'Call admin'];
  if (d === 'disabled') return ['Disabled - call your admin', 'Disabled'];
  return ['Blocked - call your admin', 'Blocked'];
}

const length = (s: string) => [...s].length;

/**
 * Cuts `text` to at most `limit` characters at a word boundary, never inside a word; a lone
 * separator left at the end ("Blocked -") goes too. Empty when not even the first word fits.
 */
export function shortenAtWord(text: string, limit: number): string {
  const words = text.split(' ');
  while (words.length > 0 && (length(words.join(' ')) > limit || /^[-–:,]$/.test(words[words.length - 1]!)))
    words.pop();
  return words.join(' ');
}

/** The text for the display; `limit` null: the family has no known length limit. */
export function displayText(d: MinimalDisplay, c: DisplayContext, limit: number | null): string {
  const texts = candidates(d, c);
  if (limit === null) return texts[0]!;
  return texts.find((t) => length(t) <= limit) ?? shortenAtWord(texts[texts.length - 1]!, limit);
}

/**
 * The IVR's view of a call's media: play a file, collect DTMF, hang up, learn that the caller went
 * away. Production: FsMedia (drachtio-fsmrf endpoint + SIP dialog); unit tests: a scripted fake.
 * Both extend BufferedMedia, which owns the DTMF buffer, barge-in and the digit timers, so the
 * collection rules are the same code in tests and in production.
 */

/** End reason when the media side (FreeSWITCH, its event socket) went away under the call. */
export const MEDIA_GONE = 'media_gone';

export class CallEnded extends Error {
  constructor(readonly reason: string) {
    super(`call ended (${reason})`);
    this.name = 'CallEnded';
  }
}

export interface CollectOptions {
  readonly firstDigitTimeoutMs: number;
  readonly interDigitTimeoutMs: number;
  readonly overallTimeoutMs: number;
  /** digits kept at most (more are still consumed until the terminator; the entry is then `tooLong`) */
  readonly maxDigits: number;
}

type CollectEnd = 'terminator' | 'first_digit_timeout' | 'inter_digit_timeout' | 'overall_timeout';

export interface Collected {
  readonly digits: string;
  readonly end: CollectEnd;
  readonly tooLong: boolean;
}

export interface IvrMedia {
  /**
   * Plays one prompt. Barge-in: a digit arriving during the prompt cuts it short (the digit stays
   * buffered); if digits are already buffered the prompt is skipped when `bargeIn` is set.
   * Rejects with CallEnded once the call is over, with another error on media failure.
   */
  play(file: string, opts?: { bargeIn?: boolean }): Promise<void>;
  /** Collects one entry ended by `#` (see BufferedMedia.collectDigits). Rejects with CallEnded. */
  collectDigits(opts: CollectOptions): Promise<Collected>;
  /** Resolves (never rejects) with the reason once the call is over: caller hang-up, media gone, or hangup(). */
  readonly ended: Promise<string>;
  readonly isEnded: boolean;
  /** Why the call ended (`caller_hangup`, MEDIA_GONE, `hangup`), null while it runs. */
  readonly endReason: string | null;
  /** Releases the media endpoint and ends the SIP dialog. Idempotent. */
  hangup(): Promise<void>;
}

type Waiter = () => void;

export abstract class BufferedMedia implements IvrMedia {
  private readonly digits: string[] = [];
  private playing = false;
  private reason: string | null = null;
  private resolveEnded!: (reason: string) => void;
  private hangupOnce: Promise<void> | null = null;
  private waiter: Waiter | null = null;
  /** timers of the collector in progress, cleared when the call ends */
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private cancelCollect: ((err: Error) => void) | null = null;
  private cancelPlay: ((err: Error) => void) | null = null;

  readonly ended: Promise<string> = new Promise((resolve) => {
    this.resolveEnded = resolve;
  });

  get isEnded(): boolean {
    return this.reason !== null;
  }

  get endReason(): string | null {
    return this.reason;
  }

  /** Plays the file to the end (or until interruptPlayback()). */
  protected abstract doPlay(file: string): Promise<void>;
  /** Best effort: stop the prompt now playing. */
  protected abstract interruptPlayback(): void;
  /** Releases media and signalling; called once. */
  protected abstract doHangup(): Promise<void>;

  /** Feeds one DTMF digit (0-9, *, #) as it arrives, also while a prompt plays. */
  protected receiveDigit(d: string): void {
    if (this.reason !== null || !/^[0-9*#]$/.test(d)) return;
    this.digits.push(d);
    if (this.playing) {
      this.playing = false;
      this.interruptPlayback();
    }
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Marks the call over (caller hang-up, media loss, or our own hangup()); idempotent. */
  protected markEnded(reason: string): void {
    if (this.reason !== null) return;
    this.reason = reason;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiter = null;
    const err = new CallEnded(reason);
    this.cancelCollect?.(err);
    this.cancelPlay?.(err);
    this.cancelCollect = this.cancelPlay = null;
    this.resolveEnded(reason);
  }

  async play(file: string, opts: { bargeIn?: boolean } = {}): Promise<void> {
    if (this.reason !== null) throw new CallEnded(this.reason);
    if (opts.bargeIn && this.digits.length > 0) return;
    this.playing = opts.bargeIn === true;
    try {
      await new Promise<void>((resolve, reject) => {
        this.cancelPlay = reject;
        this.doPlay(file).then(resolve, reject);
      });
    } finally {
      this.cancelPlay = null;
      this.playing = false;
    }
    if (this.reason !== null) throw new CallEnded(this.reason);
  }

  /**
   * One entry: digits until `#`. Timers: first digit (from now, if nothing is buffered), between
   * digits (reset by each digit), overall. A timeout ends the entry with what was typed (so six
   * digits without `#` are submitted after the inter-digit timeout). `*` clears the entry typed so
   * far. Digits typed after the `#` stay buffered for the next entry.
   */
  collectDigits(opts: CollectOptions): Promise<Collected> {
    if (this.reason !== null) return Promise.reject(new CallEnded(this.reason));
    if (this.cancelCollect) return Promise.reject(new Error('collectDigits already in progress'));
    return new Promise<Collected>((resolve, reject) => {
      let entry = '';
      let tooLong = false;
      let digitTimer: ReturnType<typeof setTimeout> | null = null;
      const clear = () => {
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        this.waiter = null;
        this.cancelCollect = null;
      };
      const finish = (end: CollectEnd) => {
        clear();
        resolve({ digits: entry, end, tooLong });
      };
      const arm = (ms: number, end: CollectEnd) => {
        if (digitTimer) {
          clearTimeout(digitTimer);
          this.timers.delete(digitTimer);
        }
        digitTimer = setTimeout(() => finish(end), ms);
        this.timers.add(digitTimer);
      };
      this.cancelCollect = (err) => {
        clear();
        reject(err);
      };
      const overall = setTimeout(() => finish('overall_timeout'), opts.overallTimeoutMs);
      this.timers.add(overall);
      const drain = () => {
        while (this.digits.length > 0) {
          const d = this.digits.shift()!;
          if (d === '#') return finish('terminator');
          if (d === '*') {
            entry = '';
            tooLong = false;
            arm(opts.firstDigitTimeoutMs, 'first_digit_timeout');
            continue;
          }
          if (entry.length < opts.maxDigits) entry += d;
          else tooLong = true;
          arm(opts.interDigitTimeoutMs, 'inter_digit_timeout');
        }
        this.waiter = drain;
      };
      arm(opts.firstDigitTimeoutMs, 'first_digit_timeout');
      drain();
    });
  }

  hangup(): Promise<void> {
    if (this.hangupOnce === null) {
      this.markEnded('hangup');
      this.hangupOnce = this.doHangup().catch(() => undefined);
    }
    return this.hangupOnce;
  }
}

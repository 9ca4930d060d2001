/**
 * Admission control for the SIP edge. Above its capacity papgate answers `503` with `Retry-After`
 * at once: work that is queued instead (Redis round trips, FreeSWITCH channels) only answers after
 * the phones' retransmission timers ran out, so every request then costs without serving anyone.
 * Counters, readings and a token bucket on an injected clock: no timers (service.ts measures).
 */
import { BoundedMap } from '../lib/bounded';

import type { RegisterShedReason } from '../lib/metrics';

/** Options of the 503 that sheds load (SIP_OVERLOAD_RETRY_AFTER_SECONDS). */
export function retryAfter(seconds: number): { headers: Record<string, string> } {
  return { headers: { 'Retry-After': String(seconds) } };
}

/** Gives back what admit() took; calling it more than once is harmless. */
type Release = () => void;

/** At most `max` at a time. */
export class Slots {
  private used = 0;

  constructor(readonly max: number) {}

  get full(): boolean {
    return this.used >= this.max;
  }

  tryAcquire(): Release | null {
    if (this.full) return null;
    this.used += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= 1;
    };
  }
}

/** Token bucket: `perSecond` on average, bursts of up to one second's worth. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = perSecond;
    this.last = now();
  }

  tryTake(): boolean {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.perSecond, this.tokens + ((t - this.last) * this.perSecond) / 1000);
      this.last = t;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The time of day by the process's monotonic clock: it moves on with the wall clock but never
 * steps. By Date.now, an NTP step of 5 s forward made every request read 5 s late until the
 * request age's baseline left its window (10 to 20 s), and all REGISTERs were shed meanwhile.
 */
export const steadyNow = (): number => performance.timeOrigin + performance.now();

/**
 * Challenges awaiting their answer, per process: a phone answers within a round trip, and 20,000 are
 * 10 s of challenges at 2,000 new registrations a second (about 2 MB).
 */
const MAX_OPEN_CHALLENGES = 20_000;
/**
 * How long a challenge's answer counts as a second half: a phone answers within a round trip, or a
 * few UDP retransmissions. Kept longer, challenges collected while papgate kept up could be spent
 * in a storm.
 */
const OPEN_CHALLENGE_MS = 10_000;

/**
 * How far behind papgate is, in ms, each measured at the edge (service.ts) or here: the age of the
 * request when papgate starts on it (RequestAge), the event loop's delay over its last window, and
 * how long the oldest REGISTER in progress has waited for Redis.
 */
export interface Lateness {
  /** null: drachtio-server gave no usable receive time. */
  readonly requestAgeMs: number | null;
  readonly loopDelayMs: number;
  readonly storeWaitMs: number;
}

const IDLE: Lateness = { requestAgeMs: null, loopDelayMs: 0, storeWaitMs: 0 };
/** The metrics' peaks cover the last 15 to 30 s: two scrapes at Prometheus's default interval. */
const PEAK_WINDOW_MS = 15_000;

/** Each measure's higher reading (a request age of null: none read). */
function higher(a: Lateness, b: Lateness): Lateness {
  const [x, y] = [a.requestAgeMs, b.requestAgeMs];
  return {
    requestAgeMs: x === null ? y : y === null ? x : Math.max(x, y),
    loopDelayMs: Math.max(a.loopDelayMs, b.loopDelayMs),
    storeWaitMs: Math.max(a.storeWaitMs, b.storeWaitMs),
  };
}

/** The first reading past `boundMs`, or null: papgate keeps up. */
export function behind(l: Lateness, boundMs: number): RegisterShedReason | null {
  if (l.requestAgeMs !== null && l.requestAgeMs > boundMs) return 'request_age';
  if (l.loopDelayMs > boundMs) return 'loop_delay';
  if (l.storeWaitMs > boundMs) return 'store_wait';
  return null;
}

/** drachtio-server's receive time of a request (`req.stackTime`): `HH:MM:SS.ffffff`, its own clock. */
const STACK_TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const DAY_MS = 86_400_000;
/**
 * A request older than a SIP transaction (64*T1, Timer F: the phone gave up) is not a request that
 * waited that long but a clock that stepped: the baseline starts again from it.
 */
const TRANSACTION_MS = 32_000;

/** ms since its midnight, or null for anything but drachtio-server's format. */
export function parseStackTime(t: unknown): number | null {
  const m = typeof t === 'string' ? STACK_TIME.exec(t) : null;
  if (m === null) return null;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || min > 59 || sec > 60) return null;
  return ((h * 60 + min) * 60 + sec) * 1000 + Number(`0.${m[4] ?? '0'}`) * 1000;
}

/**
 * The age of a request when papgate starts on it, from drachtio-server's receive time. That clock
 * may be another host's, in another time zone, a little off: what counts is the offset between the
 * two clocks (modulo a day) above the smallest offset seen over the last `windowMs` to 2 *
 * `windowMs` (the requests that did not wait), so neither a constant difference nor midnight
 * matters, and a clock that drifts is followed within a window.
 */
export class RequestAge {
  /** smallest offset of the current window and of the one before */
  private current = Infinity;
  private previous = Infinity;
  private windowStart: number;

  constructor(
    private readonly now: () => number = steadyNow,
    private readonly windowMs = 10_000,
  ) {
    this.windowStart = now();
  }

  /** ms; null when `stackTime` is missing or malformed. */
  age(stackTime: unknown): number | null {
    const received = parseStackTime(stackTime);
    if (received === null) return null;
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      // more than one window idle: the one before holds nothing of the last window
      this.previous = t - this.windowStart >= 2 * this.windowMs ? Infinity : this.current;
      this.current = Infinity;
      this.windowStart = t;
    }
    let offset = ((((t % DAY_MS) - received) % DAY_MS) + DAY_MS) % DAY_MS;
    if (offset >= DAY_MS / 2) offset -= DAY_MS;
    const base = Math.min(this.current, this.previous);
    if (offset - base > TRANSACTION_MS) this.previous = Infinity;
    else if (base !== Infinity) {
      this.current = Math.min(this.current, offset);
      return Math.max(0, offset - base);
    }
    this.current = offset;
    return 0;
  }
}

/**
 * REGISTER admission, by measured lateness rather than a rate: a new registration (any REGISTER but
 * the first answer to a 401 this process sent to a REGISTER: answersChallenge) is shed when any
 * reading is past `behindMs`; the second half of a registration that got its challenge is finished unless
 * papgate is `farBehindMs` behind, so that the work of its first half is not wasted. Every REGISTER
 * in progress (waiting for Redis) holds one of `maxPending` slots, whatever it carries: the bound
 * on memory. `ratePerSecond` (0: none) is an operator's fixed ceiling on new registrations.
 */
export class RegisterAdmission {
  /** start time of each REGISTER in progress, oldest first (a Map keeps insertion order) */
  private readonly pending = new Map<number, number>();
  private nextId = 0;
  private readonly rate: RateLimiter | null;
  /** The request's age by the monotonic clock and by the wall clock: the smaller counts (lateness). */
  private readonly ages: [RequestAge, RequestAge];
  private readonly now: () => number;
  /** Nonces of the REGISTER challenges this process sent whose answer has not come yet: when sent. */
  private readonly challenges = new BoundedMap<string, number>(MAX_OPEN_CHALLENGES);
  /** The highest reading of each measure in the current PEAK_WINDOW_MS and in the one before. */
  private peaks: [current: Lateness, previous: Lateness] = [IDLE, IDLE];
  private peakWindowStart: number;

  constructor(
    private readonly o: {
      ratePerSecond: number;
      maxPending: number;
      behindMs: number;
      farBehindMs: number;
      /** the event loop's delay over its last window (ms) */
      loopDelayMs: () => number;
      /** the monotonic clock's time of day (default steadyNow) */
      now?: () => number;
      /** the wall clock (default Date.now) */
      wallNow?: () => number;
    },
  ) {
    this.now = o.now ?? steadyNow;
    this.rate = o.ratePerSecond > 0 ? new RateLimiter(o.ratePerSecond, this.now) : null;
    this.ages = [new RequestAge(this.now), new RequestAge(o.wallNow ?? (() => Date.now()))];
    this.peakWindowStart = this.now();
  }

  /**
   * The request's age, the smaller of two readings: by the monotonic clock (papgate's clock stepped,
   * drachtio-server's did not) and by the wall clock (both on one host, and its clock stepped).
   * Either alone shed every REGISTER for 10 to 20 s after an NTP step of 5 s.
   */
  private requestAge(stackTime: unknown): number | null {
    const [steady, wall] = [this.ages[0].age(stackTime), this.ages[1].age(stackTime)];
    return steady === null || wall === null ? null : Math.min(steady, wall);
  }

  /** What the rule sees now, for a request drachtio-server received at `stackTime`. */
  lateness(stackTime: unknown): Lateness {
    const oldest = this.pending.values().next();
    return {
      requestAgeMs: this.requestAge(stackTime),
      loopDelayMs: this.o.loopDelayMs(),
      storeWaitMs: oldest.done === true ? 0 : Math.max(0, this.now() - oldest.value),
    };
  }

  /**
   * A 401 to a REGISTER admitted as a new registration carried `nonce`: its answer, once and within
   * OPEN_CHALLENGE_MS, is the second half of a registration. Not a 401 to a second half (a wrong
   * realm, an algorithm papgate does not take): each made-up answer then earned the next, and one
   * challenge kept a chain of them going past the bound for new registrations.
   */
  challenged(nonce: string): void {
    this.challenges.set(nonce, this.now());
  }

  /**
   * Whether a REGISTER carrying `nonce` is the second half of a registration: the first answer to a
   * challenge this process sent to a REGISTER. Any fresh nonce of papgate's used to count: one
   * nonce, from any 401 or 407 (an INVITE to 112 gets one without credentials, and is never shed),
   * carried 500 made-up REGISTERs past the bound for new registrations while phones got 503.
   */
  answersChallenge(nonce: string | undefined): boolean {
    if (nonce === undefined) return false;
    const sent = this.challenges.get(nonce);
    if (sent === undefined) return false;
    this.challenges.delete(nonce);
    return this.now() - sent <= OPEN_CHALLENGE_MS;
  }

  /** The current window's peaks, a new window's once PEAK_WINDOW_MS has passed. */
  private currentPeaks(): [Lateness, Lateness] {
    const t = this.now();
    if (t - this.peakWindowStart >= PEAK_WINDOW_MS) {
      // more than one window without a reading: the one before holds nothing of the last window
      this.peaks = [IDLE, t - this.peakWindowStart >= 2 * PEAK_WINDOW_MS ? IDLE : this.peaks[0]];
      this.peakWindowStart = t;
    }
    return this.peaks;
  }

  /**
   * The highest reading of each measure over the last PEAK_WINDOW_MS to twice that, now's included
   * (the metrics): how close papgate came to shedding between two scrapes, which one reading at a
   * scrape misses. Reading it changes nothing, so two scrapers see the same.
   */
  recentPeak(): Lateness {
    const [current, previous] = this.currentPeaks();
    return higher(higher(current, previous), this.lateness(undefined));
  }

  /** A release, or why to answer 503 with Retry-After. */
  admit(withCredentials: boolean, stackTime: unknown): Release | RegisterShedReason {
    const now = this.lateness(stackTime);
    const peaks = this.currentPeaks();
    peaks[0] = higher(peaks[0], now);
    if (this.pending.size >= this.o.maxPending) return 'max_pending';
    const late = behind(now, withCredentials ? this.o.farBehindMs : this.o.behindMs);
    if (late !== null) return late;
    if (!withCredentials && this.rate !== null && !this.rate.tryTake()) return 'rate';
    const id = this.nextId++;
    this.pending.set(id, this.now());
    return () => void this.pending.delete(id);
  }
}

/** At most `max` at a time per key; a key holding none is forgotten, so memory follows what is held. */
export class KeyedSlots {
  private readonly used = new Map<string, number>();

  constructor(readonly max: number) {}

  full(key: string): boolean {
    return (this.used.get(key) ?? 0) >= this.max;
  }

  tryAcquire(key: string): Release | null {
    const n = this.used.get(key) ?? 0;
    if (n >= this.max) return null;
    this.used.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.used.get(key)! - 1;
      if (left === 0) this.used.delete(key);
      else this.used.set(key, left);
    };
  }

  /** Keys holding a slot: never more than the slots held. */
  get size(): number {
    return this.used.size;
  }
}

/** Why an IVR call is refused: IVR_MAX_CALLS, IVR_MAX_CALLS_PER_DEVICE or IVR_MAX_CALLS_PER_SOURCE reached. */
type IvrRefusal = 'ivr_capacity' | 'ivr_per_device' | 'ivr_per_source';

/**
 * IVR admission: IVR_MAX_CALLS calls in all, and of those at most IVR_MAX_CALLS_PER_SOURCE from
 * one source network and IVR_MAX_CALLS_PER_DEVICE of one MAC from one source network. Without the
 * shares, one phone calling again and again (its MAC is enough to fetch its restricted account)
 * held every channel and every other phone got 503. The device's share is per network: counted
 * per MAC alone, a stranger who fetched the MAC's file from elsewhere held both its places with
 * two silent calls and the phone itself got 503. Across networks a device's calls are bounded only
 * by IVR_MAX_CALLS_PER_SOURCE per network and IVR_MAX_CALLS in all, as any caller's are. A call
 * holds all three until its teardown.
 */
export class IvrAdmission {
  private readonly all: Slots;
  private readonly devices: KeyedSlots;
  private readonly sources: KeyedSlots;

  constructor(o: { maxCalls: number; maxCallsPerDevice: number; maxCallsPerSource: number }) {
    this.all = new Slots(o.maxCalls);
    this.devices = new KeyedSlots(o.maxCallsPerDevice);
    this.sources = new KeyedSlots(o.maxCallsPerSource);
  }

  /** What a new call from `source` would be refused for now, before anyone is identified; null: none. */
  refusal(source: string): IvrRefusal | null {
    if (this.all.full) return 'ivr_capacity';
    if (this.sources.full(source)) return 'ivr_per_source';
    return null;
  }

  /** A call of `device` (null: not identified) from `source`: its release, or why it is refused. */
  admit(device: string | null, source: string): Release | IvrRefusal {
    const early = this.refusal(source);
    if (early !== null) return early;
    // a network text has no space in it
    const share = device === null ? null : `${device} ${source}`;
    if (share !== null && this.devices.full(share)) return 'ivr_per_device';
    const held = [this.all.tryAcquire()!, this.sources.tryAcquire(source)!];
    if (share !== null) held.push(this.devices.tryAcquire(share)!);
    return () => held.forEach((release) => release());
  }
}

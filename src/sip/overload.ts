/**
 * Admission control for the SIP edge. Above its capacity papgate answers `503` with `Retry-After`
 * at once: work that is queued instead (Redis round trips, FreeSWITCH channels) only answers after
 * the phones' retransmission timers ran out, so every request then costs without serving anyone.
 * Counters and a token bucket on an injected clock: no timers.
 */

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
 * REGISTER admission: a new registration (a REGISTER without credentials, answered with the 401
 * challenge) takes a token of SIP_REGISTER_RATE_LIMIT; its authenticated second half does not, so
 * a registration that got its challenge is finished rather than wasted. Every REGISTER in progress
 * (waiting for Redis) holds a slot of SIP_REGISTER_MAX_PENDING, whatever it carries.
 */
export class RegisterAdmission {
  private readonly pending: Slots;
  private readonly rate: RateLimiter;

  constructor(o: { ratePerSecond: number; maxPending: number; now?: () => number }) {
    this.pending = new Slots(o.maxPending);
    this.rate = new RateLimiter(o.ratePerSecond, o.now);
  }

  /** null: answer 503 with Retry-After. */
  admit(withCredentials: boolean): Release | null {
    if (this.pending.full) return null;
    if (!withCredentials && !this.rate.tryTake()) return null;
    return this.pending.tryAcquire();
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

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
export type Release = () => void;

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

/**
 * For long work on one request (a CSV import of 10,000 rows): await the returned function between
 * small steps. Once `ms` of work have passed since the last turn it waits for the event loop's next
 * turn (setImmediate: after the I/O that is waiting), so that provisioning answers and SIP requests
 * wait about `ms` per turn behind it, not the whole import.
 */
export function timeSlices(ms = 4): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < ms) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
}

/**
 * Runs the work handed to it one piece after the other. Device additions take it in the admin
 * server: two imports of 10,000 rows at once would put twice their work into each turn of the
 * event loop, and their create scripts (all or nothing, so one each) back to back into Redis.
 */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const done = this.tail.then(work);
    this.tail = done.catch(() => undefined);
    return done;
  }
}

/** Refused by Shares: the key's shares stayed taken for the whole wait. */
export class BusyError extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    /** What there were too many of at once, for the message ("reads of this tenant's devices"). */
    readonly what: string,
  ) {
    super(`busy: try again in ${retryAfterSeconds} s`);
    this.name = 'BusyError';
  }
}

interface Turns {
  running: number;
  readonly waiting: Set<() => void>;
}

/**
 * At most `perKey` pieces of work per key at once; more wait their turn in order, each at most
 * `waitMs`, and are then refused with BusyError (told to come back after the wait). The admin
 * server reads a whole tenant through it: 24 such reads at once by one tenant token queued 240,000
 * Redis commands and held every other tenant's phones behind them.
 */
export class Shares {
  private readonly keys = new Map<string, Turns>();

  constructor(
    private readonly perKey: number,
    private readonly waitMs: number,
    /** See BusyError.what. */
    private readonly what: string,
  ) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    let turns = this.keys.get(key);
    if (turns === undefined) this.keys.set(key, (turns = { running: 0, waiting: new Set() }));
    if (turns.running < this.perKey) turns.running++;
    else await this.turn(turns);
    try {
      return await work();
    } finally {
      this.release(key, turns);
    }
  }

  /** Resolves when a running piece hands its share over; rejects once `waitMs` have passed. */
  private turn(turns: Turns): Promise<void> {
    return new Promise((resolve, reject) => {
      const go = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        turns.waiting.delete(go);
        reject(new BusyError(Math.max(1, Math.ceil(this.waitMs / 1000)), this.what));
      }, this.waitMs);
      turns.waiting.add(go);
    });
  }

  private release(key: string, turns: Turns): void {
    // Handed to the longest waiting (a Set iterates in insertion order): the count stays.
    const next = turns.waiting.values().next();
    if (!next.done) {
      turns.waiting.delete(next.value);
      next.value();
      return;
    }
    turns.running--;
    if (turns.running === 0) this.keys.delete(key);
  }
}

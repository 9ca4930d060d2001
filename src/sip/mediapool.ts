/**
 * Which FreeSWITCH takes a new IVR call. drachtio-fsmrf connects to one media server per
 * `mrf.connect()` and has no choice among several, so src/sip/service.ts keeps one connection per
 * FREESWITCH_HOSTS entry and this pool chooses: the connected server with the fewest IVR calls of
 * ours in progress, ties in turn. Our own count, not the HEARTBEAT session counts fsmrf keeps: those
 * are up to 20 s old and include other applications' channels, while a burst of calls must spread
 * at once. Pure logic over any server type, so that it is tested without FreeSWITCH.
 */

/** A call's hold on a server: `release()` once the call is over (more calls are harmless). */
export interface MediaLease<E> {
  readonly value: E;
  readonly label: string;
  release(): void;
}

export interface MediaServerStatus {
  /** host:port, from the configuration (bounded: safe as a metric label). */
  readonly server: string;
  readonly connected: boolean;
  /** IVR calls of ours on it, from endpoint creation to the end of the call. */
  readonly calls: number;
}

interface Slot<M> {
  readonly label: string;
  server: M | null;
  calls: number;
  /** When it last answered an error on endpoint creation; null after a success or a new connection. */
  failedAt: number | null;
}

/** Servers tried for one call: the best one, then the next once, so that one failing server costs no call. */
const TRIES = 2;

export class MediaPool<M> {
  private readonly slots: Slot<M>[];
  private readonly now: () => number;
  /** Where the turn among equally loaded servers starts. */
  private next = 0;

  /**
   * `errorHoldMs`: how long a server that answered an error on endpoint creation (FreeSWITCH at
   * max-sessions, a broken profile) goes after every other connected server.
   */
  constructor(
    labels: readonly string[],
    private readonly opts: { readonly errorHoldMs: number; readonly now?: () => number },
  ) {
    this.slots = labels.map((label) => ({ label, server: null, calls: 0, failedAt: null }));
    this.now = opts.now ?? Date.now;
  }

  /** Server `i` (in configuration order) is connected as `server`, or its connection is gone (null). */
  set(i: number, server: M | null): void {
    const slot = this.slots[i]!;
    slot.server = server;
    slot.failedAt = null;
  }

  server(i: number): M | null {
    return this.slots[i]!.server;
  }

  /** The connected servers, with their index. */
  connectedServers(): [number, M][] {
    return this.slots.flatMap((s, i): [number, M][] => (s.server === null ? [] : [[i, s.server]]));
  }

  connectedCount(): number {
    return this.slots.filter((s) => s.server !== null).length;
  }

  get size(): number {
    return this.slots.length;
  }

  status(): MediaServerStatus[] {
    return this.slots.map((s) => ({ server: s.label, connected: s.server !== null, calls: s.calls }));
  }

  /**
   * Creates a call's media on the best server (`create`); when that fails, on the next best once,
   * if `again()` still wants it (the caller may have hung up). Null: no server is connected.
   * Rejects with the last error when every try failed.
   */
  async open<E>(
    create: (server: M, label: string) => Promise<E>,
    again: () => boolean = () => true,
  ): Promise<MediaLease<E> | null> {
    const tried = new Set<number>();
    let lastError: unknown = null;
    for (let t = 0; t < TRIES && (t === 0 || again()); t++) {
      const i = this.best(tried);
      if (i === null) break;
      tried.add(i);
      const slot = this.slots[i]!;
      this.next = (i + 1) % this.slots.length;
      // Counted from now: calls arriving together while this endpoint is set up go elsewhere.
      slot.calls++;
      try {
        const value = await create(slot.server!, slot.label);
        slot.failedAt = null;
        let released = false;
        return {
          value,
          label: slot.label,
          release: () => {
            if (released) return;
            released = true;
            slot.calls--;
          },
        };
      } catch (err) {
        slot.calls--;
        slot.failedAt = this.now();
        lastError = err;
      }
    }
    if (tried.size === 0) return null;
    throw lastError;
  }

  /** The connected server to try next, skipping `tried`; null when there is none. */
  private best(tried: ReadonlySet<number>): number | null {
    const now = this.now();
    const n = this.slots.length;
    let best: number | null = null;
    let bestKey: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.slots[i]!;
      if (s.server === null || tried.has(i)) continue;
      const held = s.failedAt !== null && now - s.failedAt < this.opts.errorHoldMs ? 1 : 0;
      const key = [held, s.calls, (i - this.next + n) % n];
      if (best === null || compare(key, bestKey) < 0) {
        best = i;
        bestKey = key;
      }
    }
    return best;
  }
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
}

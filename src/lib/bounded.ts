/**
 * A Map that holds at most `max` entries: a new key beyond that drops the oldest eighth (a Map
 * iterates in insertion order). The per-process caches of the hot paths use it, so that none grows
 * with whatever addresses, devices or files arrive.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  /**
   * `keep`: which keys memo() keeps. A cache keyed by a stranger's text keeps short ones only: 4,096
   * User-Agents of 15 KB each held 500 MB.
   */
  constructor(
    private readonly max: number,
    private readonly keep: (key: K) => boolean = () => true,
  ) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.max && !this.has(key)) {
      // In one pass. V8 keeps a deleted entry's slot until the table is rebuilt, and each new
      // iterator steps over all of them: dropping the single oldest per set cost 8 µs at 20,000
      // entries (40 times a set), a REGISTER paid it twice once the nonce caches were full.
      let drop = Math.max(1, this.max >> 3);
      for (const old of this.keys()) {
        if (drop-- === 0) break;
        this.delete(old);
      }
    }
    return super.set(key, value);
  }

  /** The value kept for `key`, computed and kept on first use (`compute` must be pure). */
  memo(key: K, compute: () => V): V {
    // One lookup for a kept value that is not undefined (the hot paths' case), two otherwise.
    const kept = this.get(key);
    if (kept !== undefined || this.has(key)) return kept as V;
    const value = compute();
    if (this.keep(key)) this.set(key, value);
    return value;
  }
}

/** The longest text a cache keyed by what a client sent keeps (a User-Agent, a file name). */
export const MAX_KEPT_TEXT = 256;

/** A key of at most MAX_KEPT_TEXT characters. */
export const shortText = (key: string): boolean => key.length <= MAX_KEPT_TEXT;

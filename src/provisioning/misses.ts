import { prefixOf, type PrefixLengths } from '../domain/prefix';
import { BoundedMap } from '../lib/bounded';
import { plain, type Answer } from './answer';

/**
 * The provisioning miss limit, as one process keeps it. Unknown MACs and file names are counted
 * per client in Redis (shared by every papgate process, read beside the device); a client over
 * the limit is remembered here until its window ends and answered 429 without touching the store,
 * so that enumerating MACs costs the attacker, not Redis. Kept apart from the server so that the
 * request path reads as the decision it is.
 */

const MAX_BLOCKED_CLIENTS = 100_000;

export class MissLimit {
  /** Clients (see `client`) over the miss limit, until when. */
  private readonly blocked = new Map<string, number>();
  private readonly clients: BoundedMap<string, string>;

  constructor(
    private readonly opts: {
      readonly prefix: PrefixLengths;
      readonly windowSeconds: number;
      readonly now: () => number;
      /** Client addresses whose miss client is kept. */
      readonly maxAddresses: number;
    },
  ) {
    this.clients = new BoundedMap(opts.maxAddresses);
  }

  /**
   * What the miss limit counts an address as: its network (PROVISIONING_MISS_PREFIX_IPV4/_IPV6),
   * so that the neighbouring address, or another of an IPv6 /64's 2^64, is not a fresh budget.
   * The in-process verdicts, provisioningState and provision.lua all key on this one text.
   */
  client(ip: string): string {
    return this.clients.memo(ip, () => prefixOf(ip, this.opts.prefix));
  }

  isBlocked(client: string): boolean {
    const until = this.blocked.get(client);
    if (until === undefined) return false;
    if (until > this.opts.now()) return true;
    this.blocked.delete(client);
    return false;
  }

  block(client: string): void {
    if (this.blocked.size >= MAX_BLOCKED_CLIENTS) {
      const t = this.opts.now();
      for (const [k, until] of this.blocked) if (until <= t) this.blocked.delete(k);
      if (this.blocked.size >= MAX_BLOCKED_CLIENTS) this.blocked.clear();
    }
    this.blocked.set(client, this.opts.now() + this.opts.windowSeconds * 1000);
  }

  /** The answer to a client over the limit. */
  tooMany(): Answer {
    return plain(429, { 'retry-after': String(this.opts.windowSeconds) });
  }
}

import type { Logger } from 'pino';
import { BoundedMap } from './bounded';

/** Clients whose window is kept; beyond it the oldest are forgotten (and start a fresh window). */
const MAX_CLIENTS = 10_000;

interface Share {
  start: number;
  lines: number;
}

/**
 * The log lines a stranger can cause once per request (refused provisioning requests, REGISTERs
 * and INVITEs), bounded per client (an address prefix, see clientOf) in this process: the first
 * `perClient` lines of a window are written, the next one says that the client's further lines
 * are suppressed until the window ends, the rest are dropped. The client's first line of a later
 * window carries how many were dropped (`suppressed`).
 */
export class LogLimit {
  private readonly clients = new BoundedMap<string, Share>(MAX_CLIENTS);
  private readonly now: () => number;

  constructor(
    private readonly opts: {
      readonly perClient: number;
      readonly windowMs: number;
      readonly now?: () => number;
    },
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** `log[level](fields, msg)` if `client`'s share of this window allows it. */
  line(log: Logger, level: 'info' | 'warn', client: string, fields: object, msg: string): void {
    const t = this.now();
    let share = this.clients.get(client);
    let dropped = 0;
    if (share === undefined || t >= share.start + this.opts.windowMs) {
      dropped = share === undefined ? 0 : Math.max(0, share.lines - this.opts.perClient);
      share = { start: t, lines: 0 };
      this.clients.set(client, share);
    }
    share.lines++;
    if (share.lines <= this.opts.perClient)
      log[level](dropped > 0 ? { ...fields, client, suppressed: dropped } : fields, msg);
    else if (share.lines === this.opts.perClient + 1)
      log[level](
        {
          client,
          limit: this.opts.perClient,
          until: new Date(share.start + this.opts.windowMs).toISOString(),
        },
        `${msg}: further lines of this client suppressed until the window ends`,
      );
  }
}

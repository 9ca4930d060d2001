import type { Logger } from 'pino';
import { BoundedMap } from './bounded';

/** Shares (client and kind) whose window is kept; beyond it the oldest are forgotten (and start afresh). */
const MAX_SHARES = 10_000;

interface Share {
  start: number;
  lines: number;
}

/**
 * The log lines a stranger can cause once per request (refused provisioning requests, REGISTERs
 * and INVITEs, new or moved bindings, emergency and IVR calls), bounded per client (an address
 * prefix, see clientOf) and kind of line (its message, and its reason where one message has
 * several: provisioning refusals) in this process: the first `perClient` lines of a window are
 * written, the next one says that the client's further lines of the kind are suppressed until the
 * window ends, the rest are dropped. The client's first line of the kind in a later window carries
 * how many were dropped (`suppressed`). Per kind, so that a flood of one (refused REGISTERs, wrong
 * credentials) does not silence another (the network's emergency calls, a certificate naming
 * another device). Reasons come from a fixed set in the code, so the kinds stay few.
 */
export class LogLimit {
  private readonly shares = new BoundedMap<string, Share>(MAX_SHARES);
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

  /**
   * `log[level](fields, msg)` if `client`'s share of lines `msg` in this window allows it. `share`
   * splits a client's lines of a kind further: a provisioning refusal's reason; an emergency call's
   * device, and whether the call was proven from its site, so that a stranger's calls from the same
   * network do not silence them.
   */
  line(log: Logger, level: 'info' | 'warn', client: string, fields: object, msg: string, share = ''): void {
    const t = this.now();
    const key = `${client} ${share} ${msg}`;
    let win = this.shares.get(key);
    let dropped = 0;
    if (win === undefined || t >= win.start + this.opts.windowMs) {
      dropped = win === undefined ? 0 : Math.max(0, win.lines - this.opts.perClient);
      win = { start: t, lines: 0 };
      this.shares.set(key, win);
    }
    win.lines++;
    if (win.lines <= this.opts.perClient)
      log[level](dropped > 0 ? { ...fields, client, suppressed: dropped } : fields, msg);
    else if (win.lines === this.opts.perClient + 1)
      log[level](
        {
          client,
          ...(share === '' ? {} : { share }),
          limit: this.opts.perClient,
          until: new Date(win.start + this.opts.windowMs).toISOString(),
        },
        `${msg}: further lines of this client suppressed until the window ends`,
      );
  }
}

import type { Logger } from 'pino';
import type { Mac } from '../domain/mac';
import type { Store } from '../store/store';

/**
 * Transition 3 made visible: every interval, settle the `failed` locks that have run out and send
 * those phones check-sync, so their display goes back to "Dial *89 to authenticate". One pass at a
 * time; a store outage is logged once until it recovers.
 */
export class LockWatcher {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly store: Pick<Store, 'tenantIds' | 'expiredLocks' | 'settleLock'>,
    private readonly notify: (tenant: string, mac: Mac) => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().then(() => {
        this.running = null;
        this.schedule();
      });
    }, this.intervalMs);
  }

  /** One pass; answers the devices it settled. */
  async tick(): Promise<{ tenant: string; mac: Mac }[]> {
    const settled: { tenant: string; mac: Mac }[] = [];
    try {
      for (const tenant of await this.store.tenantIds()) {
        for (const mac of await this.store.expiredLocks(tenant)) {
          if (this.stopped) return settled;
          if (await this.store.settleLock(tenant, mac)) {
            settled.push({ tenant, mac });
            this.log.info({ tenant, mac }, 'lock expired: device needs authentication again');
            // Not awaited one by one: a phone that does not answer must not hold up the others.
            this.notify(tenant, mac).catch(() => undefined);
          }
        }
      }
      if (this.failing) this.log.info('lock watcher: store reachable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.error({ err: (err as Error).message }, 'lock watcher: store error');
      this.failing = true;
    }
    return settled;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}

import type { Logger } from 'pino';
import type { SourceCrossing } from '../domain/auth';

interface AlertOptions {
  /** ALERT_WEBHOOK_URL; null: alerts are logged only. */
  readonly webhookUrl: string | null;
  readonly log: Logger;
  /** Alerts waiting to be sent; more are dropped (and logged), so an attack cannot grow memory. */
  readonly maxQueue?: number;
  /** Tries per alert; the waits between them double from `backoffMs`. */
  readonly tries?: number;
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

/**
 * Operator alerts. Nothing here is awaited by a call or a request: webhooks go out from a bounded
 * queue, one at a time, retried with back-off, and a webhook that is down only costs log lines.
 */
export class Alerts {
  private readonly queue: Record<string, unknown>[] = [];
  private sending: Promise<void> | null = null;

  constructor(private readonly o: AlertOptions) {}

  /**
   * The one place a source crossing its guessing limit is signalled (once per crossing, by the
   * store): warn log and webhook. Metrics hook in here.
   */
  sourceLimited(c: SourceCrossing): void {
    this.o.log.warn(
      {
        source: c.source,
        scope: c.scope,
        tenant: c.tenant,
        mac: c.mac,
        limit: c.limit,
        windowSeconds: c.windowSeconds,
      },
      'source reached its guessing limit: further PAP attempts from it are refused',
    );
    this.post({ type: 'source_limited', ...c, at: new Date(c.at).toISOString() });
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sending !== null) await this.sending;
  }

  private post(body: Record<string, unknown>): void {
    if (this.o.webhookUrl === null) return;
    if (this.queue.length >= (this.o.maxQueue ?? 100)) {
      this.o.log.warn({ type: body.type }, 'alert webhook queue full: alert dropped');
      return;
    }
    this.queue.push(body);
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
    });
  }

  private async drain(): Promise<void> {
    for (let body = this.queue.shift(); body !== undefined; body = this.queue.shift()) await this.send(body);
  }

  private async send(body: Record<string, unknown>): Promise<void> {
    const tries = this.o.tries ?? 4;
    let lastError = '';
    for (let i = 0; i < tries; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 1000) * 2 ** (i - 1)).unref());
      try {
        const res = await fetch(this.o.webhookUrl!, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
        });
        await res.body?.cancel();
        if (res.ok) return;
        lastError = `HTTP ${res.status}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
    }
    this.o.log.error({ type: body.type, tries, err: lastError }, 'alert webhook failed; alert not delivered');
  }
}

import type { Logger } from 'pino';
import type { SourceCrossing } from '../domain/auth';

interface AlertOptions {
  /** ALERT_WEBHOOK_URL; null: alerts are logged only. */
  readonly webhookUrl: string | null;
  readonly log: Logger;
  /** Alerts waiting to be sent, at most (see `post` for which one is dropped when it is full). */
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
/** One alert waiting: who caused it, what it is about (one alert per key waits), and the body. */
interface Queued {
  readonly source: string;
  readonly key: string;
  body: Record<string, unknown>;
}

export class Alerts {
  private readonly queue: Queued[] = [];
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
    this.post(c.source, `source_limited ${c.source} ${c.scope} ${c.tenant}`, {
      type: 'source_limited',
      ...c,
      at: new Date(c.at).toISOString(),
    });
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sending !== null) await this.sending;
  }

  /**
   * Queues an alert. While the webhook is away the queue fills; then a new alert replaces the one
   * waiting about the same thing (`key`), and otherwise the oldest waiting alert of the source with
   * the most of them goes, never the new one: a customer admin whose tenant makes alert after
   * alert (or a stranger's many networks) once filled the queue and the operator's real alerts
   * were dropped. Each drop is logged, so nothing is lost without a trace.
   */
  private post(source: string, key: string, body: Record<string, unknown>): void {
    if (this.o.webhookUrl === null) return;
    const same = this.queue.find((q) => q.key === key);
    if (same !== undefined) {
      same.body = body;
      return;
    }
    if (this.queue.length >= (this.o.maxQueue ?? 100)) {
      const counts = new Map<string, number>();
      for (const q of this.queue) counts.set(q.source, (counts.get(q.source) ?? 0) + 1);
      const most = Math.max(...counts.values());
      // The new alert's source counts with it: one that already holds the most makes way itself.
      const i = this.queue.findIndex(
        (counts.get(source) ?? 0) + 1 > most
          ? (q) => q.source === source
          : (q) => counts.get(q.source) === most,
      );
      const [gone] = this.queue.splice(i, 1);
      this.o.log.warn(
        { type: gone!.body.type, source: gone!.source },
        'alert webhook queue full: the oldest alert of the source with the most waiting dropped',
      );
    }
    this.queue.push({ source, key, body });
    this.sending ??= this.drain().finally(() => {
      this.sending = null;
    });
  }

  private async drain(): Promise<void> {
    for (let q = this.queue.shift(); q !== undefined; q = this.queue.shift()) await this.send(q.body);
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

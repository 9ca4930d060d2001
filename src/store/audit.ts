import { EMERGENCY_AUDIT } from '../domain/emergency';
import { StorePart } from './context';
import { keys } from './keys';
import { scripts } from './scripts';

export interface AuditEvent {
  readonly id: string;
  readonly type: string;
  readonly ts: number;
  readonly [field: string]: string | number;
}

/** The tenant's two event streams (see keys.ts): what admins did and changed, and phone traffic. */
export type EventStream = 'audit' | 'traffic';

/** Appends to the tenant's two event streams and reads them back, newest first. */
export class Audit extends StorePart {
  async appendEvent(tenant: string, type: string, fields: Record<string, string>): Promise<void> {
    const k = keys.tenant(tenant);
    await scripts.audit.run(
      this.redis,
      [k.events, k.events],
      ['event', '', this.now(), this.maxlen, type, ...Object.entries(fields).flat()],
    );
  }

  /**
   * One event of phone traffic caused by `ip` (see traffic() in prelude.lua): a refused REGISTER.
   * Written unless `ip`'s client has had its share of the window.
   */
  async appendTraffic(
    tenant: string,
    ip: string,
    type: string,
    fields: Record<string, string>,
  ): Promise<void> {
    const sinks = this.ctx.sinks(tenant, ip);
    await scripts.traffic.run(this.redis, sinks.keys, [
      this.now(),
      type,
      ...sinks.args,
      ...Object.entries(fields).flat(),
    ]);
  }

  /**
   * One emergency call of device `mac` in the audit trail (`emergency_call`), within the device's
   * share (EMERGENCY_AUDIT, see emergency.lua): anyone who knows a MAC may call 112 as it.
   */
  async emergencyCall(tenant: string, mac: string, fields: Record<string, string>): Promise<void> {
    const k = keys.tenant(tenant);
    await scripts.emergency.run(
      this.redis,
      [k.events, k.emergencyGate(mac)],
      [
        this.now(),
        this.opts.eventsMaxLen,
        EMERGENCY_AUDIT.perDevice,
        EMERGENCY_AUDIT.windowSeconds * 1000,
        mac,
        ...Object.entries(fields).flat(),
      ],
    );
  }

  /** Events kept per tenant in `stream` (approximately: the trim is `~`). */
  maxEvents(stream: EventStream): number {
    return stream === 'audit' ? this.opts.eventsMaxLen : this.ctx.traffic.maxLen;
  }

  /** Newest first. */
  async events(
    tenant: string,
    count: number,
    before?: string,
    stream: EventStream = 'audit',
  ): Promise<AuditEvent[]> {
    const end = before ? `(${before}` : '+';
    const k = keys.tenant(tenant);
    // null only in node-redis's type: XREVRANGE answers an array, empty for a missing stream
    const rows = await this.redis.xRevRange(stream === 'audit' ? k.events : k.traffic, end, '-', {
      COUNT: count,
    });
    return (rows ?? []).map((r) => ({
      ...r.message,
      id: r.id,
      type: r.message.type ?? '',
      ts: Number(r.message.ts),
    }));
  }
}

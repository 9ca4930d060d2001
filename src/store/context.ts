import type { AuthPolicy, AuthState, SourceCrossing } from '../domain/auth';
import { clientOf } from '../domain/prefix';
import { DEFAULT_TRAFFIC_POLICY, type TrafficPolicy } from '../domain/traffic';
import { BoundedMap } from '../lib/bounded';
import type { RedisClient } from './connect';
import { TenantHints } from './hints';
import { keys } from './keys';
import type { Schema } from './schema';

export interface StoreOptions {
  readonly auth: AuthPolicy;
  readonly eventsMaxLen: number;
  /** Phone traffic: kept per tenant apart from the audit trail, and written per client and window. */
  readonly traffic?: TrafficPolicy;
  readonly now?: () => number;
  /** Called (never awaited, never throwing into the attempt) when a source crosses a guessing limit. */
  readonly onSourceLimited?: (c: SourceCrossing) => void;
  /** Called for every state transition a store operation made (metrics); must not throw. */
  readonly onTransition?: (from: AuthState, to: AuthState) => void;
  /** Devices are refused (as if Redis were away) until this has brought the database up to date. */
  readonly schema?: Schema;
}

/** Who did it, as the audit trail names them (`operator`, `token:<id>`, `ivr`, ...). */
export type Actor = string;

/**
 * What the parts of the store (tenants.ts, devices.ts, auth.ts, whitelists.ts, provisioning.ts,
 * audit.ts) share on one connection: the options, the clock and the per-process caches.
 */
export class StoreContext {
  readonly now: () => number;
  readonly hints = new TenantHints();
  readonly traffic: TrafficPolicy;
  /** Client (address prefix) by address: every provisioning request names one. */
  private readonly clients = new BoundedMap<string, string>(10_000);

  constructor(
    readonly redis: RedisClient,
    readonly opts: StoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.traffic = opts.traffic ?? DEFAULT_TRAFFIC_POLICY;
  }

  /**
   * The KEYS and ARGV of sinks() in prelude.lua: the audit trail, and the phone traffic of the
   * client `ip` belongs to.
   */
  sinks(tenant: string, ip: string): { keys: string[]; args: (string | number)[] } {
    const k = keys.tenant(tenant);
    const t = this.traffic;
    const client = this.clients.memo(ip, () => clientOf(ip, t.clientPrefix));
    return {
      keys: [k.events, k.traffic, k.trafficGate(client)],
      args: [String(this.opts.eventsMaxLen), t.maxLen, t.perClient, t.windowSeconds * 1000, client],
    };
  }

  transitioned(from: AuthState, to: AuthState): void {
    // A reset of a `needed` device changes its PAP, not its state.
    if (from !== to) this.opts.onTransition?.(from, to);
  }
}

/**
 * A part of the store: one kind of record, each method one atomic Redis operation on one tenant's
 * slot except where a global index is involved (noted there). No part knows about HTTP or SIP.
 */
export abstract class StorePart {
  protected readonly redis: RedisClient;
  protected readonly opts: StoreOptions;
  protected readonly now: () => number;

  constructor(protected readonly ctx: StoreContext) {
    this.redis = ctx.redis;
    this.opts = ctx.opts;
    this.now = ctx.now;
  }

  protected get maxlen(): string {
    return String(this.opts.eventsMaxLen);
  }

  /** Waits while device records may still be in an older layout (see Schema). */
  protected ready(): Promise<void> | undefined {
    return this.opts.schema?.ready(this.redis);
  }
}

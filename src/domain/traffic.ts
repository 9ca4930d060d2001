import { SOURCE_PREFIX, type PrefixLengths } from './prefix';

/** How much phone traffic (what anyone can cause per request) is recorded and logged. */
export interface TrafficPolicy {
  /** Traffic events kept per tenant (approximate trim), apart from the audit trail. */
  readonly maxLen: number;
  /** Traffic events per tenant, and log lines of each kind per process, one client may cause per window. */
  readonly perClient: number;
  readonly windowSeconds: number;
  /** A client is its source network (clientOf), as for the guessing limits (SOURCE_PREFIX_*). */
  readonly clientPrefix: PrefixLengths;
}

export const DEFAULT_TRAFFIC_POLICY: TrafficPolicy = Object.freeze({
  maxLen: 100_000,
  perClient: 20,
  windowSeconds: 60,
  clientPrefix: SOURCE_PREFIX,
});

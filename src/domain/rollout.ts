import {
  AUTH_STATES,
  isSuspended,
  papExpired,
  settle,
  type AuthPolicy,
  type AuthRecord,
  type AuthState,
} from './auth';

/** How many devices are in each (settled) state, and how many skip the PAP by a suspension. */
export interface StateCounts {
  readonly total: number;
  readonly states: Record<AuthState, number>;
  readonly suspended: number;
}

/** A tenant's roll-out at a glance: its counts, and the same per site (sorted by name). */
export interface RolloutCounts extends StateCounts {
  readonly sites: readonly (StateCounts & { readonly site: string })[];
  /** Devices an admin has to look at: refused for another phone's User-Agent, PAP past its lifetime. */
  readonly userAgentMismatch: number;
  readonly papExpired: number;
}

type Counted = AuthRecord & { readonly site: string; readonly userAgentMismatch: object | null };

const zero = (): { total: number; states: Record<AuthState, number>; suspended: number } => ({
  total: 0,
  states: Object.fromEntries(AUTH_STATES.map((s) => [s, 0])) as Record<AuthState, number>,
  suspended: 0,
});

/**
 * Counts as the device list shows the devices at `now`: a `failed` device whose lock ran out is
 * `needed` (settle), although the lock watcher may not have written that yet.
 */
export function rolloutCounts(
  devices: Iterable<Counted>,
  now: number,
  policy: Pick<AuthPolicy, 'papLifetimeSeconds'>,
): RolloutCounts {
  const all = zero();
  let mismatch = 0;
  let expired = 0;
  const bySite = new Map<string, ReturnType<typeof zero>>();
  for (const d of devices) {
    const settled = settle(d, now);
    const state = settled.state;
    if (d.userAgentMismatch !== null) mismatch++;
    if (papExpired(settled, now, policy)) expired++;
    const suspended = isSuspended(d, now) ? 1 : 0;
    let site = bySite.get(d.site);
    if (site === undefined) bySite.set(d.site, (site = zero()));
    for (const c of [all, site]) {
      c.total++;
      c.states[state]++;
      c.suspended += suspended;
    }
  }
  const sites = [...bySite.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([site, c]) => ({ site, ...c }));
  return { ...all, sites, userAgentMismatch: mismatch, papExpired: expired };
}

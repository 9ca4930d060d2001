/** A tenant's roll-out: device counts per state and per site (the console's start page). */
import type { FastifyInstance } from 'fastify';
import { rolloutCounts, type RolloutCounts } from '../../domain/rollout';
import { iso, type Api } from '../api';

/**
 * How long one count serves every request for the tenant. Counting reads every device hash, as the
 * device list does; consoles that poll the start page (every 10 s) then cost one read of the
 * tenant per SUMMARY_MS and process, however many are open.
 */
export const SUMMARY_MS = 5000;

export function summaryRoutes(
  api: FastifyInstance,
  { config, store, now, tenantReads, tenantOf }: Api,
): void {
  const counted = new Map<string, { readonly at: number; readonly counts: Promise<RolloutCounts> }>();

  api.get('/tenants/:tenant/summary', async (req) => {
    const tenant = await tenantOf(req);
    const t = now();
    let entry = counted.get(tenant);
    if (entry === undefined || t - entry.at >= SUMMARY_MS) {
      const counts = tenantReads.run(tenant, async () =>
        rolloutCounts(await store.listDevices(tenant), t, config.auth),
      );
      entry = { at: t, counts };
      counted.set(tenant, entry);
      // A failed count (store away, tenant busy) is not kept for the next request.
      void counts.catch(() => {
        if (counted.get(tenant) === entry) counted.delete(tenant);
      });
    }
    return { ...(await entry.counts), at: iso(entry.at) };
  });
}

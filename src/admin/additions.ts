/**
 * Device additions, one device or a CSV import: queued one at a time and per tenant, all or
 * nothing, and the MAC probe limit on tenant tokens naming other tenants' MACs.
 */
import type { FastifyRequest } from 'fastify';
import type { NewDevice } from '../domain/device';
import type { Mac } from '../domain/mac';
import { unrecordedSites } from '../domain/site';
import { Sites } from '../store/sites';
import { InputError } from '../domain/errors';
import type { CreateError } from '../store/devices';
import type { Store } from '../store/store';
import { OneAtATime, Shares } from '../lib/pacing';
import { actor, HttpError, scope, type Api } from './api';

export type Additions = ReturnType<typeof deviceAdditions>;

/** A refused device: the store's reasons, or a site without a record (siteErrors: its name). */
export type AdditionError = CreateError & { readonly unknownSite?: string };
type AdditionResult =
  | Exclude<Awaited<ReturnType<Store['createDevices']>>, 'unknown_tenant'>
  | { ok: false; errors: AdditionError[] };

export function deviceAdditions({ config, store, log, now, metrics }: Api) {
  const sites = new Sites(store.redis, { eventsMaxLen: config.eventsMaxLen, now });

  /**
   * A device naming a site the tenant keeps no record of (a typo: `Berln`) would call 112 without
   * the site's caller ID and address: refused with the known names, unless the request says
   * `?unknownSite=accept` (a site whose record comes later). See docs/admin.md#sites.
   */
  const siteErrors = async (
    req: FastifyRequest,
    tenant: string,
    devices: readonly NewDevice[],
  ): Promise<AdditionError[]> => {
    const accept = (req.query as { unknownSite?: string }).unknownSite;
    if (accept === 'accept') return [];
    if (accept !== undefined) throw new InputError('unknownSite must be "accept"', 'unknownSite');
    const names = (await sites.list(tenant)).map((s) => s.name);
    const known = names.slice(0, 20).join(', ') + (names.length > 20 ? ', ...' : '');
    return unrecordedSites(devices, names).map((index) => ({
      index,
      mac: devices[index]!.mac,
      unknownSite: devices[index]!.site,
      reason:
        `site "${devices[index]!.site}" has no site record (emergency caller ID and address); ` +
        `the tenant's sites: ${known}. Add its record first, or accept the site: API query ?unknownSite=accept ` +
        '(POST .../devices, PATCH .../devices/{mac}, POST .../devices.csv), CLI option --unknown-site accept ' +
        '(add, edit, import)',
    }));
  };
  /**
   * What a refused MAC is told: to a tenant token, that another customer holds it and whom to ask
   * (the operator, who can see where); to the operator, which tenant.
   */
  const refusal = (req: FastifyRequest, e: CreateError) =>
    e.owner === undefined
      ? e.reason
      : scope(req) === undefined
        ? `MAC registered in tenant "${e.owner}"`
        : 'MAC registered to another customer of this service: if the phone is yours (bought used, ' +
          'moved), ask your provider to release it';

  const probeLimited = (retryAt: number) => {
    const seconds = Math.max(1, Math.ceil((retryAt - now()) / 1000));
    return new HttpError(
      429,
      'mac_probe_limited',
      `too many MACs of other customers named; this tenant can add devices again in ${seconds} s ` +
        '(if you bought phones used, ask your provider to release them)',
      {},
      { 'Retry-After': String(seconds) },
    );
  };

  /**
   * A tenant token must not map other tenants' devices by adding their MACs (MAC_PROBE_LIMIT per
   * window, kept in Redis for all papgate processes). Checked before any MAC is looked at, so that a
   * refused addition says nothing about its MACs; the operator is not limited.
   */
  const checkProbes = async (req: FastifyRequest, tenant: string) => {
    if (scope(req) === undefined) return;
    const retryAt = await store.probeRetryAt(tenant, config.macProbe.limit);
    if (retryAt === null) return;
    metrics.macProbe('limited');
    throw probeLimited(retryAt);
  };

  /** Counts, audits and logs the MACs of other tenants a tenant token was about to be told of. */
  const countProbes = async (req: FastifyRequest, tenant: string, errors: readonly CreateError[]) => {
    const elsewhere = errors.filter((e) => e.owner !== undefined);
    if (scope(req) === undefined || elsewhere.length === 0) return;
    const { limit, windowSeconds } = config.macProbe;
    const r = await store.countProbe(
      tenant,
      actor(req),
      elsewhere.map((e) => e.mac),
      limit,
      windowSeconds,
    );
    metrics.macProbe(r.retryAt === null ? 'listed' : 'limited');
    log.warn(
      {
        tenant,
        actor: actor(req),
        macs: elsewhere.length,
        owners: [...new Set(elsewhere.map((e) => e.owner))].slice(0, 10),
        inWindow: r.count,
        limit,
      },
      r.retryAt === null
        ? 'device addition named MACs of other tenants'
        : 'MAC probe limit reached: device additions of the tenant refused',
    );
    if (r.retryAt !== null) throw probeLimited(r.retryAt);
  };

  return {
    refusal,
    siteErrors,
    /**
     * Device additions (CSV imports included, from parsing on) run one at a time: see OneAtATime.
     * What waits is the request, not the event loop.
     */
    adding: new OneAtATime(),
    /**
     * Additions of one tenant, TENANT_ADDITIONS at once (waiting in `adding` included), one more
     * waiting at most TENANT_ADDITION_WAIT_MS before a 429: `adding` is one queue for every tenant,
     * and one tenant's imports sent at once held every other tenant's additions behind all of them.
     */
    tenantAdditions: new Shares(
      config.tenantAdditions.perTenant,
      config.tenantAdditions.waitMs,
      'device additions of this tenant',
    ),
    /**
     * The tenant holding each MAC (null: none), looked up before anything is written (a CSV import
     * reports every error in one answer): under the probe limit as an addition is, and other
     * tenants' MACs a tenant token names counted.
     */
    macOwners: async (req: FastifyRequest, tenant: string, macs: readonly Mac[]) => {
      await checkProbes(req, tenant);
      const owners = await store.tenantsOfMacs(macs);
      await countProbes(
        req,
        tenant,
        owners.flatMap((owner, index) =>
          owner === null || owner === tenant
            ? []
            : [{ index, mac: macs[index]!, reason: 'MAC registered in another tenant', owner }],
        ),
      );
      return owners;
    },
    /** One addition, all or nothing, after the MAC probe check; other tenants' MACs counted. */
    add: async (
      req: FastifyRequest,
      tenant: string,
      devices: readonly NewDevice[],
    ): Promise<AdditionResult> => {
      await checkProbes(req, tenant);
      const unknown = await siteErrors(req, tenant, devices);
      if (unknown.length > 0) return { ok: false, errors: unknown };
      const res = await store.createDevices(tenant, devices, actor(req));
      if (res === 'unknown_tenant')
        throw new HttpError(404, 'unknown_tenant', `tenant "${tenant}" does not exist`);
      if (!res.ok) await countProbes(req, tenant, res.errors);
      return res;
    },
  };
}

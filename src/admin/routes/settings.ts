/** Settings layers of a tenant, a site and a device (docs/settings.md): read, change, check-sync. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Device } from '../../domain/device';
import { InputError } from '../../domain/errors';
import type { NotifyResult } from '../../domain/outcomes';
import { FAMILY_OF } from '../../domain/setting-formats';
import { parseLayerChange, type LayerChange } from '../../domain/setting-layers';
import { parseSiteName } from '../../domain/site';
import { Settings, type LayerScope } from '../../store/settings';
import { actor, HttpError, objectBody, type Api } from '../api';

/** NOTIFYs in flight at once for one save: a tenant's thousand phones are asked a few at a time. */
const CHECK_SYNC_AT_ONCE = 8;

/** The devices a change concerns: those of a family whose items changed, every one for a common setting. */
function concerned(devices: readonly Device[], change: LayerChange): Device[] {
  if (Object.keys(change.common).length > 0) return [...devices];
  return devices.filter((d) => change.items[FAMILY_OF[d.vendor]] !== undefined);
}

export function settingsRoutes(
  api: FastifyInstance,
  { config, store, now, tenantOf, deviceOf, tenantReads, checkSync }: Api,
): void {
  const settings = new Settings(store.redis, { eventsMaxLen: config.eventsMaxLen, now });
  const siteOf = (req: FastifyRequest) => parseSiteName((req.params as { site: string }).site);

  /** Check-syncs `devices`, a few at a time; answers how many got which result (null: the SIP side is off). */
  const notify = async (tenant: string, devices: readonly Device[]) => {
    if (checkSync === undefined) return null;
    const counts: Partial<Record<NotifyResult, number>> = {};
    const queue = [...devices];
    const worker = async () => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
        const r = await checkSync(tenant, d.mac);
        counts[r] = (counts[r] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHECK_SYNC_AT_ONCE, queue.length) }, worker));
    return counts;
  };

  /** Applies a change; `devices` lists the devices of the layer when the admin asks for a check-sync. */
  const save = async (
    req: FastifyRequest,
    tenant: string,
    at: LayerScope,
    devices: (change: LayerChange) => Promise<readonly Device[]>,
  ) => {
    const body = objectBody(req);
    const { checkSync: wanted, ...rest } = body;
    if (wanted !== undefined && typeof wanted !== 'boolean')
      throw new InputError('checkSync must be true or false', 'checkSync');
    const change = parseLayerChange(rest, at.scope !== 'device');
    const unknown = Object.keys(rest).filter((k) => k !== 'items' && k !== 'common');
    if (unknown.length > 0) throw new InputError(`unknown field "${unknown[0]}"`, unknown[0]);
    const version = await settings.put(tenant, at, change, actor(req), config.settingsTenantMaxBytes);
    if (version === 'no_tenant')
      throw new HttpError(404, 'unknown_tenant', `tenant "${tenant}" does not exist`);
    if (version === 'no_device') throw new HttpError(404, 'unknown_device', 'the device does not exist');
    if (typeof version === 'object')
      throw new HttpError(
        413,
        'settings_too_large',
        `the tenant's settings would take ${version.tooLarge.bytes} bytes, more than the ${version.tooLarge.max} ` +
          "this service keeps for one tenant (all its layers together): remove items, or sites' or devices' layers, first",
      );
    const layer = await settings.get(tenant, at);
    if (wanted !== true) return layer;
    return { ...layer, checkSync: await notify(tenant, concerned(await devices(change), change)) };
  };
  const ofTenant = (tenant: string, keep: (d: Device) => boolean) => () =>
    tenantReads.run(tenant, async () => (await store.listDevices(tenant)).filter(keep));

  api.get('/tenants/:tenant/settings', async (req) => settings.get(await tenantOf(req), { scope: 'tenant' }));
  api.put('/tenants/:tenant/settings', async (req) => {
    const tenant = await tenantOf(req);
    return save(
      req,
      tenant,
      { scope: 'tenant' },
      ofTenant(tenant, () => true),
    );
  });

  api.get('/tenants/:tenant/sites/:site/settings', async (req) =>
    settings.get(await tenantOf(req), { scope: 'site', site: siteOf(req) }),
  );
  api.put('/tenants/:tenant/sites/:site/settings', async (req) => {
    const tenant = await tenantOf(req);
    const site = siteOf(req);
    return save(
      req,
      tenant,
      { scope: 'site', site },
      ofTenant(tenant, (d) => d.site === site),
    );
  });

  api.get('/tenants/:tenant/devices/:mac/settings', async (req) => {
    const { tenant, device } = await deviceOf(req);
    return settings.get(tenant, { scope: 'device', mac: device.mac });
  });
  api.put('/tenants/:tenant/devices/:mac/settings', async (req) => {
    const { tenant, device } = await deviceOf(req);
    return save(req, tenant, { scope: 'device', mac: device.mac }, () => Promise.resolve([device]));
  });
}

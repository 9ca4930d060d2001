/**
 * What an admin does to a device's authentication besides adding, resetting and deleting it: end
 * a PIN bypass early, unlock a `failed` device keeping its PAP, disable and enable it, see what
 * would let it in without its PAP, remove temporary whitelist entries, and accept the model a
 * refused User-Agent named (docs/admin.md, "Device lifecycle").
 */
import type { FastifyInstance } from 'fastify';
import ipaddr from 'ipaddr.js';
import { isSuspended, temporaryEntriesLettingIn } from '../../domain/auth';
import { acceptSeenModel, checkModel } from '../../domain/device';
import { InputError } from '../../domain/errors';
import type { Device } from '../../domain/device';
import type { Store } from '../../store/store';
import { actor, HttpError, iso, type Api } from '../api';

/**
 * What hands the device its full file without a PAP once it holds no credential (after a reset):
 * an admin who resets a phone to make its user authenticate again must remove these.
 */
export async function bypassesOf(store: Store, tenant: string, device: Device, t: number) {
  const [temporary, permanent] = await Promise.all([
    store.temporaryWhitelist(tenant),
    store.whitelist(tenant),
  ]);
  return {
    pinBypass: isSuspended(device, t)
      ? { until: iso(device.suspendedUntil), network: device.suspensionNetwork }
      : null,
    temporary: temporaryEntriesLettingIn(temporary, device.site, t).map((e) => ({
      ip: e.ip,
      site: e.site,
      expiresAt: iso(e.expiresAt),
    })),
    permanent: permanent.map((e) => e.text),
  };
}

export function lifecycleRoutes(api: FastifyInstance, { config, store, now, tenantOf, deviceOf }: Api): void {
  api.delete('/tenants/:tenant/devices/:mac/pin-bypass', async (req, reply) => {
    const { tenant, device } = await deviceOf(req);
    const r = await store.endPinBypass(tenant, device.mac, actor(req));
    if (r === 'unknown') throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist`);
    if (r === null)
      throw new HttpError(409, 'no_pin_bypass', `device ${device.mac} has no PIN bypass running`);
    return reply.code(204).send();
  });

  api.post('/tenants/:tenant/devices/:mac/unlock', async (req) => {
    const { tenant, device } = await deviceOf(req);
    const r = await store.unlockDevice(tenant, device.mac, actor(req));
    if (!r.ok && r.error === 'unknown_device')
      throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist`);
    if (!r.ok)
      throw new HttpError(
        409,
        'not_failed',
        r.state === 'blocked'
          ? `device ${device.mac} is blocked, not failed: only a reset (a new PAP) lets it authenticate again`
          : `device ${device.mac} is ${r.state}, not failed: nothing to unlock`,
        { state: r.state },
      );
    return { mac: device.mac, state: 'needed' };
  });

  // Disabled: the minimal file only (its emergency route kept), no PAP taken (docs/security.md).
  for (const op of ['disable', 'enable'] as const)
    api.post(`/tenants/:tenant/devices/:mac/${op}`, async (req) => {
      const { tenant, device } = await deviceOf(req);
      const changed = await store.setDisabled(tenant, device.mac, op === 'disable', actor(req));
      if (changed === null) throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist`);
      return { mac: device.mac, disabled: op === 'disable', changed };
    });

  api.get('/tenants/:tenant/devices/:mac/bypasses', async (req) => {
    const { tenant, device } = await deviceOf(req);
    return { mac: device.mac, site: device.site, ...(await bypassesOf(store, tenant, device, now())) };
  });

  // A phone swapped between desks names its own model: the admin makes it the device's.
  api.post('/tenants/:tenant/devices/:mac/accept-model', async (req) => {
    const { tenant, device } = await deviceOf(req);
    const model = acceptSeenModel(device);
    if (model === null)
      throw new HttpError(
        409,
        'no_model_to_accept',
        device.userAgentMismatch === null
          ? `device ${device.mac}: no User-Agent naming another model was seen`
          : `device ${device.mac}: the User-Agent seen names another MAC or vendor, not another model of this device: check the phone (or delete the device and add the phone as what it is)`,
      );
    // A model papgate does not know is refused as when it is typed (EXTRA_MODELS declares it).
    const canonical = checkModel(device.vendor, model, config.extraModels);
    const r = await store.acceptModel(tenant, device.mac, model, canonical, actor(req));
    if (r === 'unknown') throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist`);
    if (r === 'changed')
      throw new HttpError(
        409,
        'changed',
        `device ${device.mac}: another User-Agent was seen meanwhile; read the device again`,
      );
    return { mac: device.mac, model: canonical, previousModel: r.from };
  });

  api.delete('/tenants/:tenant/whitelist/temporary/:ip', async (req) => {
    const tenant = await tenantOf(req);
    const given = (req.params as { ip: string }).ip;
    if (!ipaddr.isValid(given)) throw new InputError(`"${given}" is not an IP address`, 'ip');
    const ip = ipaddr.parse(given).toString();
    const site = (req.query as { site?: string }).site ?? null;
    const removed = await store.removeTemporary(tenant, ip, site, actor(req));
    if (removed === 0)
      throw new HttpError(
        404,
        'not_temporarily_whitelisted',
        `${ip} is not on the temporary whitelist${site === null ? '' : ` for site "${site}"`}`,
      );
    return { ip, site, removed };
  });
}

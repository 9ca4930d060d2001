/** A device's edit: site, model, language and accounts change; its PAP and authentication stay. */
import type { FastifyInstance } from 'fastify';
import type { Device } from '../../domain/device';
import { applyDeviceEdit, editAudit } from '../../domain/device-edit';
import type { Mac } from '../../domain/mac';
import type { DeclaredModels } from '../../domain/models';
import type { Store } from '../../store/store';
import type { Additions } from '../additions';
import { actor, HttpError, type Api } from '../api';
import { deviceView } from './devices';

/** Edits that found the device changed under them before one is given up (409). */
const EDIT_TRIES = 3;

/**
 * Edits the device with the body `bodyOf` makes of it as read (PATCH's body, a CSV row): null when
 * it does not exist, 'unchanged' when the edit changes nothing (then nothing is written or
 * audited). Read again and retried when it changed in between (edit.lua compares).
 */
export async function editDevice(
  store: Store,
  tenant: string,
  mac: Mac,
  bodyOf: (current: Device) => unknown,
  who: string,
  declared: DeclaredModels,
): Promise<Device | 'unchanged' | null> {
  for (let tries = 1; ; tries++) {
    const current = await store.getDevice(tenant, mac);
    if (current === null) return null;
    const edit = applyDeviceEdit(current, bodyOf(current), declared);
    if (edit.changed.length === 0) return 'unchanged';
    const res = await store.editDevice(current, edit.device, edit.changed, editAudit(current, edit), who);
    if (res === 'unknown') return null;
    if (res === 'edited') return store.getDevice(tenant, mac);
    if (tries === EDIT_TRIES)
      throw new HttpError(409, 'edit_conflict', `device ${mac} kept changing while it was edited; try again`);
  }
}

export function deviceEditRoutes(
  api: FastifyInstance,
  { config, store, now, deviceOf }: Api,
  { siteErrors }: Pick<Additions, 'siteErrors'>,
): void {
  api.patch('/tenants/:tenant/devices/:mac', async (req) => {
    const { tenant, device } = await deviceOf(req);
    // A move to a site without a record is refused as an addition there is (docs/admin.md#sites).
    const { device: next } = applyDeviceEdit(device, req.body, config.extraModels);
    const unknown = next.site === device.site ? [] : await siteErrors(req, tenant, [next]);
    if (unknown.length > 0)
      throw new HttpError(409, 'unknown_site', `${device.mac}: ${unknown[0]!.reason}`, { field: 'site' });
    const edit = await editDevice(store, tenant, device.mac, () => req.body, actor(req), config.extraModels);
    if (edit === null)
      throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist in tenant "${tenant}"`);
    return deviceView(edit === 'unchanged' ? device : edit, now(), config.auth, config.extraModels);
  });
}

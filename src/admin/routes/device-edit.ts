/** A device's edit: site, model, language and accounts change; its PAP and authentication stay. */
import type { FastifyInstance } from 'fastify';
import { applyDeviceEdit, editAudit } from '../../domain/device-edit';
import { actor, HttpError, type Api } from '../api';
import { deviceView } from './devices';

/** Edits that found the device changed under them before one is given up (409). */
const EDIT_TRIES = 3;

export function deviceEditRoutes(api: FastifyInstance, { config, store, now, deviceOf }: Api): void {
  api.patch('/tenants/:tenant/devices/:mac', async (req) => {
    for (let tries = 1; ; tries++) {
      const { tenant, device } = await deviceOf(req);
      const edit = applyDeviceEdit(device, req.body);
      // Nothing changes: nothing written, nothing audited.
      if (edit.changed.length === 0) return deviceView(device, now(), config.auth);
      const res = await store.editDevice(
        device,
        edit.device,
        edit.changed,
        editAudit(device, edit),
        actor(req),
      );
      if (res === 'unknown')
        throw new HttpError(
          404,
          'unknown_device',
          `device ${device.mac} does not exist in tenant "${tenant}"`,
        );
      if (res === 'edited')
        return deviceView((await store.getDevice(tenant, device.mac))!, now(), config.auth);
      if (tries === EDIT_TRIES)
        throw new HttpError(
          409,
          'edit_conflict',
          `device ${device.mac} kept changing while it was edited; try again`,
        );
    }
  });
}

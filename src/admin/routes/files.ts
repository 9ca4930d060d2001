/** A device's effective full file: what it would get now, secrets masked. */
import type { FastifyInstance } from 'fastify';
import { HttpError, type Api, type EffectiveFileOf } from '../api';

/**
 * Read-only and not audited: the file holds no secret (every one masked) and rendering it issues
 * no credential and changes no state, as reading the device does.
 */
export function fileRoutes(api: FastifyInstance, { deviceOf }: Api, effectiveFile?: EffectiveFileOf): void {
  api.get('/tenants/:tenant/devices/:mac/effective-file', async (req) => {
    const { device } = await deviceOf(req);
    if (!effectiveFile) throw new HttpError(404, 'no_templates', 'this server renders no phone files');
    const f = await effectiveFile(device);
    if (!f)
      throw new HttpError(
        404,
        'no_file',
        `papgate names no configuration file for ${device.vendor} ${device.model}`,
      );
    return { mac: device.mac, ...f };
  });
}

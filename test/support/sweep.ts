import { createHash } from 'node:crypto';
import type { RedisClient } from '../../src/store/connect';

/** Every key with its serialised value: equal snapshots mean nothing was written. */
export async function snapshot(client: RedisClient): Promise<string> {
  const keys = (await client.keys('*')).sort();
  const h = createHash('sha256');
  for (const k of keys) h.update(`${k}\0${String(await client.sendCommand(['DUMP', k]))}\0`);
  return `${keys.length}:${h.digest('hex')}`;
}

/**
 * For the route sweeps: a body per writing route that would change something if it got through
 * (`mac`: a device of the tenant under attack, for the PAP check).
 */
export const writingBodies = (mac: string): Record<string, { type: string; body: string }> => ({
  'PUT /api/v1/tenants/{tenant}': { type: 'application/json', body: '{"name":"evil"}' },
  'PATCH /api/v1/tenants/{tenant}': { type: 'application/json', body: '{"name":"evil"}' },
  'POST /api/v1/tenants': { type: 'application/json', body: '{"id":"evil"}' },
  'PATCH /api/v1/tenants/{tenant}/devices/{mac}': { type: 'application/json', body: '{"site":"evil"}' },
  'POST /api/v1/tenants/{tenant}/devices': {
    type: 'application/json',
    body: '{"mac":"001565000001","vendor":"yealink","model":"T54W","site":"x"}',
  },
  'POST /api/v1/tenants/{tenant}/whitelist': { type: 'application/json', body: '{"entry":"0.0.0.0/1"}' },
  'POST /api/v1/tenants/{tenant}/devices.csv': {
    type: 'text/csv',
    body: 'vendor,type,mac,site\r\nyealink,T54W,001565000002,x\r\n',
  },
  'POST /api/v1/tenants/{tenant}/tokens': { type: 'application/json', body: '{"name":"mine now"}' },
  'PUT /api/v1/tenants/{tenant}/sites/{site}': {
    type: 'application/json',
    body: '{"emergencyCallerId":"+15555550100","emergencyRoute":"sip:127.0.0.1:9"}',
  },
  ...Object.fromEntries(
    ['', '/sites/{site}', '/devices/{mac}'].map((at) => [
      `PUT /api/v1/tenants/{tenant}${at}/settings`,
      { type: 'application/json', body: '{"items":{"yealink":[{"name":"lang.gui","value":"evil"}]}}' },
    ]),
  ),
  'POST /api/v1/authenticate': { type: 'application/json', body: `{"mac":"${mac}","pap":"000000"}` },
});

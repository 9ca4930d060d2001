import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../../src/admin/server';
import { loadConfig } from '../../src/config';
import { silentLog, type TestRedis } from './redis';

/** The admin server with `token` as ADMIN_TOKEN (and `env`) over a TestRedis, listening on 127.0.0.1. */
export async function startAdmin(
  redis: TestRedis,
  token: string,
  env: Record<string, string> = {},
): Promise<{ app: FastifyInstance; port: number }> {
  const app = createAdminServer({
    config: loadConfig({ ...env, ADMIN_TOKEN: token }),
    store: redis.store(),
    log: silentLog,
    adminToken: token,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as AddressInfo).port };
}

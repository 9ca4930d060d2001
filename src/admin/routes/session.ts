/**
 * Who the bearer token is: the operator, or a tenant's token (its tenant and name); and what the
 * console's PAP sheets print of the configuration.
 */
import type { FastifyInstance } from 'fastify';
import { configWarnings } from '../../config';
import type { Api } from '../api';

export function sessionRoutes(api: FastifyInstance, { config }: Pick<Api, 'config'>): void {
  // what the console's PAP sheets print: the number to dial, and the language of a device and
  // tenant without one of their own (DEFAULT_LANGUAGE)
  const phones = { authServiceNumber: config.authServiceNumber, defaultLanguage: config.defaultLanguage };
  // The configuration's gaps (configWarnings), for the operator only: a tenant cannot fix them.
  const warnings = configWarnings(config);
  api.get('/session', async (req) => {
    const p = req.principal!;
    return p.kind === 'tenant'
      ? { role: 'tenant', tenant: p.tenant, token: p.name, ...phones }
      : { role: 'operator', tenant: null, token: null, ...phones, warnings };
  });
}

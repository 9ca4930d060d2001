/** Who the bearer token is: the operator, or a tenant's token (its tenant and name). */
import type { FastifyInstance } from 'fastify';

export function sessionRoutes(api: FastifyInstance): void {
  api.get('/session', async (req) => {
    const p = req.principal!;
    return p.kind === 'tenant'
      ? { role: 'tenant', tenant: p.tenant, token: p.name }
      : { role: 'operator', tenant: null, token: null };
  });
}

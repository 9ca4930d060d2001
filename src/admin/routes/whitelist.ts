/** A tenant's whitelist: its entries (add, remove) and the temporary one PAP successes write. */
import type { FastifyInstance } from 'fastify';
import { parseWhitelistEntry } from '../../domain/whitelist';
import { actor, HttpError, iso, objectBody, type Api } from '../api';

export function whitelistRoutes(api: FastifyInstance, { config, store, tenantOf }: Api): void {
  api.get('/tenants/:tenant/whitelist', async (req) => ({
    entries: (await store.whitelist(await tenantOf(req))).map((e) => e.text),
  }));

  api.post('/tenants/:tenant/whitelist', async (req, reply) => {
    const tenant = await tenantOf(req);
    const entry = parseWhitelistEntry(objectBody(req).entry);
    const added = await store.addWhitelist(tenant, entry, actor(req), config.whitelistMaxEntries);
    if (added === 'full')
      throw new HttpError(
        409,
        'whitelist_full',
        `the whitelist holds ${config.whitelistMaxEntries} entries, the most a tenant may have (WHITELIST_MAX_ENTRIES): remove one, or list a range instead of its addresses`,
      );
    return reply.code(added ? 201 : 200).send({ entry: entry.text });
  });

  api.get('/tenants/:tenant/whitelist/temporary', async (req) => ({
    entries: (await store.temporaryWhitelist(await tenantOf(req))).map((e) => ({
      ip: e.ip,
      site: e.site,
      expiresAt: iso(e.expiresAt),
    })),
  }));

  api.delete('/tenants/:tenant/whitelist/:entry', async (req, reply) => {
    const tenant = await tenantOf(req);
    const entry = parseWhitelistEntry((req.params as { entry: string }).entry);
    if (!(await store.removeWhitelist(tenant, entry, actor(req)))) {
      throw new HttpError(404, 'not_whitelisted', `${entry.text} is not on the whitelist`);
    }
    return reply.code(204).send();
  });
}

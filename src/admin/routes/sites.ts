/** A tenant's site records (emergency route, caller ID, address): list, read, write, delete. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { lookAlikeOf } from '../../domain/lookalike';
import { parseSite, parseSiteName } from '../../domain/site';
import { authorizeSite } from '../../domain/emergency';
import { Sites } from '../../store/sites';
import { actor, HttpError, scope, type Api } from '../api';

export function siteRoutes(api: FastifyInstance, { config, store, now, tenantOf }: Api): void {
  const sites = new Sites(store.redis, { eventsMaxLen: config.eventsMaxLen, now });

  const siteName = (req: FastifyRequest) => parseSiteName((req.params as { site: string }).site);

  api.get('/tenants/:tenant/sites', async (req) => ({ sites: await sites.list(await tenantOf(req)) }));

  api.get('/tenants/:tenant/sites/:site', async (req) => {
    const tenant = await tenantOf(req);
    const name = siteName(req);
    const site = await sites.get(tenant, name);
    if (!site) throw new HttpError(404, 'unknown_site', `tenant "${tenant}" has no site record "${name}"`);
    return site;
  });

  api.put('/tenants/:tenant/sites/:site', async (req, reply) => {
    const tenant = await tenantOf(req);
    const input = parseSite(siteName(req), req.body);
    const [current, t] = await Promise.all([sites.get(tenant, input.name), store.getTenant(tenant)]);
    if (current === null) {
      // A new site record may not look like another of the tenant's (lookAlikeOf): two sites
      // "HQ" on one PAP sheet or in one filter could not be told apart.
      const like = lookAlikeOf(
        input.name,
        (await sites.list(tenant)).map((x) => x.name),
      );
      if (like !== null)
        throw new HttpError(
          409,
          'name_looks_alike',
          `site "${input.name}" looks like the tenant's site "${like}"; choose a name that can be told apart`,
          { field: 'site' },
        );
    }
    const write = authorizeSite(input, scope(req) === undefined ? 'operator' : 'tenant', {
      policy: config.sip,
      prefixes: t?.emergencyCallerIdPrefixes ?? [],
      current,
    });
    if (!write.ok)
      throw new HttpError(write.status, write.status === 403 ? 'forbidden' : 'bad_request', write.message, {
        field: write.field,
      });
    const r = await sites.put(tenant, write.site, actor(req));
    return reply.code(r === 'created' ? 201 : 200).send(write.site);
  });

  api.delete('/tenants/:tenant/sites/:site', async (req, reply) => {
    const tenant = await tenantOf(req);
    const name = siteName(req);
    if (!(await sites.delete(tenant, name, actor(req))))
      throw new HttpError(404, 'unknown_site', `tenant "${tenant}" has no site record "${name}"`);
    return reply.code(204).send();
  });
}

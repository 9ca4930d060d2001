/** A tenant's admin tokens: list, create (the token shown once), revoke. */
import type { FastifyInstance } from 'fastify';
import { MAX_TOKENS_PER_TENANT, parseTokenName } from '../../store/tokens';
import { actor, HttpError, iso, objectBody, type Api } from '../api';

export function tokenRoutes(api: FastifyInstance, { tokens, tenantOf }: Api): void {
  api.get('/tenants/:tenant/tokens', async (req) => {
    const list = await tokens.list(await tenantOf(req));
    return {
      tokens: list.map((t) => ({
        ...t,
        createdAt: iso(t.createdAt),
        lastUsedAt: iso(t.lastUsedAt),
        revokedAt: iso(t.revokedAt),
      })),
    };
  });

  api.post('/tenants/:tenant/tokens', async (req, reply) => {
    const tenant = await tenantOf(req);
    const name = parseTokenName(objectBody(req).name);
    const made = await tokens.create(tenant, name, actor(req));
    if (made === 'name_taken')
      throw new HttpError(409, 'name_taken', `tenant "${tenant}" already has a token named "${name}"`);
    if (made === 'too_many')
      throw new HttpError(
        409,
        'too_many_tokens',
        `tenant "${tenant}" has ${MAX_TOKENS_PER_TENANT} tokens that are not revoked, the most it may have; revoke one first`,
      );
    return reply
      .code(201)
      .header('Cache-Control', 'no-store')
      .send({ id: made.id, name, tenant, token: made.token });
  });

  api.delete('/tenants/:tenant/tokens/:tokenId', async (req, reply) => {
    const tenant = await tenantOf(req);
    const id = (req.params as { tokenId: string }).tokenId;
    const r = /^[0-9a-f]{12}$/.test(id) ? await tokens.revoke(tenant, id, actor(req)) : 'unknown';
    if (r === 'unknown') throw new HttpError(404, 'unknown_token', `tenant "${tenant}" has no token ${id}`);
    return reply.code(204).send();
  });
}

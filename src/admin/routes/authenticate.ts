/** The atomic PAP check for integrators' own IVRs, under the same guessing limits as papgate's IVR. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InputError } from '../../domain/errors';
import { parseMac } from '../../domain/mac';
import { isPapFormat } from '../../domain/pap';
import { prefixOf } from '../../domain/prefix';
import { canonicalIp } from '../../domain/whitelist';
import { actor, iso, objectBody, scope, type Api } from '../api';

export function authenticateRoutes(api: FastifyInstance, { config, store, now, metrics }: Api): void {
  /**
   * The API client whose wrong PAPs count against the guessing limits: all tokens of a tenant are
   * one client wherever they are used from (a tenant token makes more tokens: counted per token,
   * each would be a fresh budget and a fresh alert); the operator's token is shared by its systems,
   * told apart by network (SOURCE_PREFIX_IPV4/_IPV6), so that a neighbouring address is no fresh
   * budget.
   */
  const apiSource = (req: FastifyRequest) => {
    const p = req.principal;
    return p?.kind === 'tenant' ? `api:${p.tenant}` : `api:operator@${prefixOf(req.ip, config.sourcePrefix)}`;
  };

  api.post('/authenticate', async (req, reply) => {
    const b = objectBody(req);
    const mac = parseMac(b.mac);
    if (!isPapFormat(b.pap)) throw new InputError('pap must be a string of 6 digits', 'pap');
    const ip = b.ip === undefined || b.ip === null ? null : canonicalIp(String(b.ip));
    const r = await metrics.countPap(
      'api',
      store.attemptPap(mac, b.pap, ip, actor(req), 'api', {
        onlyTenant: scope(req),
        source: apiSource(req),
      }),
    );
    if (r.outcome === 'source_limited') {
      const seconds = Math.max(1, Math.ceil((r.retryAt! - now()) / 1000));
      return reply.code(429).header('Retry-After', String(seconds)).send({
        error: 'source_limited',
        outcome: 'source_limited',
        message: 'too many wrong PAPs from this client; retry later',
      });
    }
    if (r.outcome === 'unknown_device')
      return reply.code(404).send({
        error: 'unknown_device',
        outcome: 'unknown_device',
        message: `device ${mac} does not exist`,
      });
    return {
      mac,
      outcome: r.outcome,
      state: r.state,
      attemptsLeft: r.attemptsLeft,
      failedUntil: iso(r.failedUntil),
      whitelistedIp: r.whitelistedIp,
      ...(r.outcome === 'pap_expired'
        ? { message: 'PAP expired (PAP_LIFETIME_DAYS): ask for a new one, a reset of the device issues it' }
        : {}),
    };
  });
}

/** A tenant's devices: add one, list them (filtered, paged), read, delete, reset, bypass one's PIN. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  AUTH_STATES,
  attemptsLeft,
  settle,
  isSuspended,
  papExpired,
  papExpiresAt,
  type AuthPolicy,
  type AuthState,
} from '../../domain/auth';
import { parseNewDevice, type Device } from '../../domain/device';
import { InputError } from '../../domain/errors';
import { knownModel, type DeclaredModels } from '../../domain/models';
import { parseSuspensionNetwork } from '../../domain/provisioning';
import { Sites } from '../../store/sites';
import type { AdditionError, Additions } from '../additions';
import { actor, HttpError, iso, objectBody, stateFilter, type Api } from '../api';
import { bypassesOf } from './lifecycle';

/** An optional integer query parameter within [min, max]. */
function intParam(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = /^[0-9]{1,9}$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) throw new InputError(`${name} must be an integer ${min}..${max}`, name);
  return n;
}

/** `?q=`: part of a MAC in any notation, compared with the canonical 12 hex digits. */
function macSearch(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const q = v.toLowerCase().replace(/[:.\s-]/g, '');
  if (!/^[0-9a-f]{0,12}$/.test(q)) throw new InputError('q must be part of a MAC (hex digits)', 'q');
  return q;
}

/** What an admin sees of a device: settled state, the PAP while it is still useful, no passwords. */
export function deviceView(d: Device, now: number, policy: AuthPolicy, declared: DeclaredModels) {
  const s = settle(d, now);
  return {
    mac: d.mac,
    tenant: d.tenant,
    vendor: d.vendor,
    model: d.model,
    // False for a device stored before models were checked, or whose model the operator no longer
    // declares: it keeps working, with the family's base templates; the console warns.
    modelKnown: knownModel(d.vendor, d.model, declared) !== null,
    site: d.site,
    language: d.language,
    createdAt: iso(d.createdAt),
    state: s.state,
    pap: s.state === 'successful' ? null : d.pap,
    // older than PAP_LIFETIME_DAYS: refused until a reset issues a new one
    papExpired: papExpired(s, now, policy),
    papExpiresAt: iso(papExpiresAt(s, policy)),
    consecutiveFailures: s.consecutiveFailures,
    totalFailures: s.totalFailures,
    failedUntil: iso(s.failedUntil),
    attemptsLeft: attemptsLeft(s, policy),
    suspended: isSuspended(d, now),
    suspendedUntil: iso(isSuspended(d, now) ? d.suspendedUntil : null),
    suspensionNetwork: isSuspended(d, now) ? d.suspensionNetwork : null,
    // The same as the three above, by what it does (they keep their first names as aliases).
    pinBypass: isSuspended(d, now),
    pinBypassUntil: iso(isSuspended(d, now) ? d.suspendedUntil : null),
    pinBypassNetwork: isSuspended(d, now) ? d.suspensionNetwork : null,
    authenticatedAt: iso(d.authenticatedAt),
    // Stored as `suspension` (its first name); shown by what it was, as the fields above are.
    authenticatedVia: d.authenticatedVia === 'suspension' ? 'pin_bypass' : d.authenticatedVia,
    lastProvisioning: d.lastProvisioning && { ...d.lastProvisioning, at: iso(d.lastProvisioning.at) },
    // The phone asked without the credential the device holds (see decideProvisioning): when it was
    // first challenged, and the last request that marked the device as needing reset (a phone an
    // admin may have to reset, or a stranger behind its address).
    challenged: d.challenged && { ...d.challenged, at: iso(d.challenged.at) },
    needsReset: d.needsReset && { ...d.needsReset, at: iso(d.needsReset.at) },
    disabledAt: iso(d.disabledAt),
    // The last request refused for a User-Agent naming another phone; `model`: one it may accept.
    userAgentMismatch: d.userAgentMismatch && { ...d.userAgentMismatch, at: iso(d.userAgentMismatch.at) },
    accounts: d.accounts.map(({ password: _password, ...rest }) => rest),
  };
}

export function deviceRoutes(
  api: FastifyInstance,
  { config, store, now, tenantReads, tenantOf, deviceOf }: Api,
  { adding, tenantAdditions, add, refusal }: Additions,
): void {
  const view = (d: Device, t: number) => deviceView(d, t, config.auth, config.extraModels);
  const siteRecords = new Sites(store.redis, { eventsMaxLen: config.eventsMaxLen, now });

  api.post('/tenants/:tenant/devices', async (req, reply) => {
    const tenant = await tenantOf(req);
    const nd = parseNewDevice(req.body, config.extraModels);
    const res = await tenantAdditions.run(tenant, () => adding.run(() => add(req, tenant, [nd])));
    if (!res.ok) {
      const e: AdditionError = res.errors[0]!;
      throw new HttpError(
        409,
        e.unknownSite ? 'unknown_site' : e.owner === undefined ? 'duplicate_mac' : 'mac_registered_elsewhere',
        `${nd.mac}: ${refusal(req, e)}`,
        e.unknownSite ? { field: 'site' } : {},
      );
    }
    const device = await store.getDevice(tenant, nd.mac);
    return reply.code(201).send(view(device!, now()));
  });

  api.get('/tenants/:tenant/devices', async (req) => {
    const tenant = await tenantOf(req);
    const q = req.query as {
      state?: string;
      site?: string;
      q?: string;
      offset?: string;
      limit?: string;
      siteRecord?: string;
      mismatch?: string;
      papExpired?: string;
    };
    const state = stateFilter(q.state);
    if (q.siteRecord !== undefined && q.siteRecord !== 'missing')
      throw new InputError('siteRecord must be "missing"', 'siteRecord');
    for (const k of ['mismatch', 'papExpired'] as const)
      if (q[k] !== undefined && q[k] !== '1') throw new InputError(`${k} must be "1"`, k);
    const search = macSearch(q.q);
    const offset = intParam(q.offset, 'offset', 0, 1e9) ?? 0;
    const limit = intParam(q.limit, 'limit', 1, 1000);
    return tenantReads.run(tenant, async () => {
      const t = now();
      const [all, recorded] = await Promise.all([
        store.listDevices(tenant),
        // `?siteRecord=missing`: the devices whose emergency calls go without their site's caller ID and address
        q.siteRecord === undefined
          ? null
          : siteRecords.list(tenant).then((l) => new Set(l.map((x) => x.name))),
      ]);
      const stateCounts = Object.fromEntries(AUTH_STATES.map((s) => [s, 0])) as Record<AuthState, number>;
      const sites = new Set<string>();
      const matching: Device[] = [];
      for (const d of all) {
        const s = settle(d, t).state;
        stateCounts[s]++;
        sites.add(d.site);
        if (state !== undefined && s !== state) continue;
        if (q.site !== undefined && d.site !== q.site) continue;
        if (recorded !== null && recorded.has(d.site)) continue;
        if (search !== undefined && !d.mac.includes(search)) continue;
        // `?mismatch=1`, `?papExpired=1`: the devices the overview counts as refused for another
        // phone's User-Agent, or waiting on a PAP past its lifetime (both need an admin)
        if (q.mismatch !== undefined && d.userAgentMismatch === null) continue;
        if (q.papExpired !== undefined && !papExpired(settle(d, t), t, config.auth)) continue;
        matching.push(d);
      }
      const page = matching.slice(offset, limit === undefined ? undefined : offset + limit);
      return {
        devices: page.map((d) => view(d, t)),
        total: matching.length,
        offset,
        limit: limit ?? null,
        sites: [...sites].sort(),
        stateCounts,
      };
    });
  });

  api.get('/tenants/:tenant/devices/:mac', async (req) => view((await deviceOf(req)).device, now()));

  api.delete('/tenants/:tenant/devices/:mac', async (req, reply) => {
    const { tenant, device } = await deviceOf(req);
    await store.deleteDevice(tenant, device.mac, actor(req));
    return reply.code(204).send();
  });

  api.post('/tenants/:tenant/devices/:mac/reset', async (req) => {
    const { tenant, device } = await deviceOf(req);
    const r = await store.resetDevice(tenant, device.mac, actor(req));
    if (!r) throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist`);
    // A reset meant to make the phone's user authenticate again does not while one of these lets
    // it in: the admin is told which (the reset cleared any PIN bypass, read again to be sure).
    const after = await store.getDevice(tenant, device.mac);
    const b = after === null ? null : await bypassesOf(store, tenant, after, now());
    const stillLetIn =
      b === null
        ? []
        : [
            ...(b.pinBypass === null ? [] : [{ via: 'pin_bypass', ...b.pinBypass }]),
            ...b.temporary.map((e) => ({ via: 'temporary_whitelist', ...e })),
            ...b.permanent.map((entry) => ({ via: 'whitelist', entry })),
          ];
    return { mac: device.mac, pap: r.pap, state: 'needed', stillLetIn };
  });

  const pinBypass = async (req: FastifyRequest) => {
    const { tenant, device } = await deviceOf(req);
    // Bound to the phone's network if the admin names it; unbound, whoever asks first takes the
    // file (see suspensionLetsIn).
    const given = objectBody(req).network;
    const network = given === undefined || given === null ? null : parseSuspensionNetwork(given);
    // A suspension no longer applies to a device holding its credential (decideProvisioning):
    // say so rather than accept one that changes nothing.
    if (device.credentialHash !== null)
      throw new HttpError(
        409,
        'holds_credential',
        `device ${device.mac} holds its device credential: only the phone holding it gets its configuration; to authenticate a factory-reset phone again, reset authentication (new PAP)`,
      );
    const r = await store.suspendDevice(tenant, device.mac, actor(req), network);
    if (!r) throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist`);
    const until = iso(r.suspendedUntil);
    return {
      mac: device.mac,
      pinBypassUntil: until,
      pinBypassNetwork: network,
      suspendedUntil: until,
      suspensionNetwork: network,
    };
  };
  api.post('/tenants/:tenant/devices/:mac/pin-bypass', pinBypass);
  // The route's first name, kept as an alias (docs/admin.md, "Device lifecycle").
  api.post('/tenants/:tenant/devices/:mac/suspend', pinBypass);
}

import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config';
import {
  AUTH_STATES,
  attemptsLeft,
  settle,
  isSuspended,
  type AuthPolicy,
  type AuthState,
} from '../domain/auth';
import {
  isAuthState,
  isLanguage,
  parseNewDevice,
  parseTenantId,
  parseTenantName,
  type Device,
  type Language,
  type NewDevice,
} from '../domain/device';
import { parseTimeZone } from '../domain/display';
import { InputError } from '../domain/errors';
import { parseMac, type Mac } from '../domain/mac';
import { isPapFormat } from '../domain/pap';
import { lookAlikeOf } from '../domain/lookalike';
import { parseSuspensionNetwork } from '../domain/provisioning';
import { isDeviceCertificatePolicy } from '../domain/devicecert';
import { prefixOf } from '../domain/prefix';
import { canonicalIp, parseWhitelistEntry } from '../domain/whitelist';
import type { AuditEvent, EventStream } from '../store/audit';
import type { CreateError } from '../store/devices';
import type { Store } from '../store/store';
import { MAX_TOKENS_PER_TENANT, parseTokenName, TenantTokens, tenantTokenClaim } from '../store/tokens';
import { Sites } from '../store/sites';
import { parseSite, parseSiteName } from '../domain/site';
import { authorizeSite, parseCallerIdPrefixes } from '../domain/emergency';
import { isStoreUnavailable } from '../store/connect';
import { httpServerOptions, installEdgeLifecycle, RETRY_AFTER_SECONDS } from '../http/server';
import { consoleRoutes } from './console';
import { csvToDevices, devicesToCsv } from './csv';
import { openApiDocument } from './openapi';
import { Metrics } from '../lib/metrics';
import { Health, observabilityRoutes } from '../http/observability';
import { BusyError, OneAtATime, Shares } from '../lib/pacing';

interface AdminDeps {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly adminToken: string;
  readonly now?: () => number;
  /** Default: a registry of its own, and readiness that asks the store only. */
  readonly metrics?: Metrics;
  readonly health?: Health;
}

const CSV_MAX_ROWS = 10000;
/**
 * Bad rows an answer lists; the rest are counted (`badRows`). A file of 10,000 bad rows made an
 * answer of megabytes; 100 rows are enough to see what is wrong with a file.
 */
const MAX_LISTED_ROWS = 100;

/** Who is acting: the operator's ADMIN_TOKEN, or a tenant admin token (see src/store/tokens.ts). */
type Principal =
  { readonly kind: 'operator' } | { readonly kind: 'tenant'; readonly tenant: string; readonly name: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/**
 * The routes without a `:tenant` in their path that a tenant token may call; each one scopes its
 * answer to the token's tenant. Every other route without `:tenant` is the operator's alone.
 */
const TENANT_SCOPED_ROUTES = new Set(['/api/v1/authenticate', '/api/v1/tenants', '/api/v1/session']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** An import's bad rows: the first MAX_LISTED_ROWS of them and their number. */
function badRows(rows: readonly unknown[]): HttpError['extra'] & { message: string } {
  const listed = rows.length > MAX_LISTED_ROWS ? `, the first ${MAX_LISTED_ROWS} listed` : '';
  return {
    message: `${rows.length} bad row(s)${listed}; nothing was imported`,
    rows: rows.slice(0, MAX_LISTED_ROWS),
    badRows: rows.length,
  };
}

/** The `?stream=` of the events route: the audit trail (default) or the phone traffic. */
function streamParam(v: string | undefined): EventStream {
  if (v === undefined || v === 'audit' || v === 'traffic') return v ?? 'audit';
  throw new InputError('stream must be "audit" or "traffic"', 'stream');
}

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

/** The optional `?state=` filter of the device list and the CSV export. */
function stateFilter(v: string | undefined): AuthState | undefined {
  if (v === undefined || isAuthState(v)) return v;
  throw new InputError(`state must be one of ${AUTH_STATES.join(', ')}`, 'state');
}

const MAX_U64 = 2n ** 64n - 1n;

/** An audit event id Redis accepts as the exclusive end of a reverse range. */
function isEventIdAfterZero(v: string): boolean {
  const m = /^([0-9]{1,20})-([0-9]{1,20})$/.exec(v);
  if (!m) return false;
  const [ms, seq] = [BigInt(m[1]!), BigInt(m[2]!)];
  return ms <= MAX_U64 && seq <= MAX_U64 && ms + seq > 0n;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What an admin sees of a device: settled state, the PAP while it is still useful, no passwords. */
function deviceView(d: Device, now: number, policy: AuthPolicy) {
  const s = settle(d, now);
  return {
    mac: d.mac,
    tenant: d.tenant,
    vendor: d.vendor,
    model: d.model,
    site: d.site,
    language: d.language,
    createdAt: iso(d.createdAt),
    state: s.state,
    pap: s.state === 'successful' ? null : d.pap,
    consecutiveFailures: s.consecutiveFailures,
    totalFailures: s.totalFailures,
    failedUntil: iso(s.failedUntil),
    attemptsLeft: attemptsLeft(s, policy),
    suspended: isSuspended(d, now),
    suspendedUntil: iso(isSuspended(d, now) ? d.suspendedUntil : null),
    suspensionNetwork: isSuspended(d, now) ? d.suspensionNetwork : null,
    authenticatedAt: iso(d.authenticatedAt),
    authenticatedVia: d.authenticatedVia,
    lastProvisioning: d.lastProvisioning && { ...d.lastProvisioning, at: iso(d.lastProvisioning.at) },
    // The phone asked without the credential the device holds (see decideProvisioning): when it was
    // first challenged, and the last "reset needed" file it got (a phone an admin should reset).
    challenged: d.challenged && { ...d.challenged, at: iso(d.challenged.at) },
    needsReset: d.needsReset && { ...d.needsReset, at: iso(d.needsReset.at) },
    accounts: d.accounts.map(({ password: _password, ...rest }) => rest),
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function createAdminServer(deps: AdminDeps): FastifyInstance {
  const { store, config, log } = deps;
  const now = deps.now ?? Date.now;
  const tokenDigest = digest(deps.adminToken);
  const tokens = new TenantTokens(store.redis, { eventsMaxLen: config.eventsMaxLen, now });
  const sites = new Sites(store.redis, { eventsMaxLen: config.eventsMaxLen, now });
  const view = (d: Device, t: number) => deviceView(d, t, config.auth);
  const metrics = deps.metrics ?? new Metrics();
  const app = Fastify({
    ...httpServerOptions(config),
    bodyLimit: config.maxBodyBytes,
    // HEAD would run GET handlers that audit (the CSV export) for a body nobody receives.
    exposeHeadRoutes: false,
    // A path the router cannot decode never reaches the error handler: answer in our format anyway.
    frameworkErrors: (err, _req, reply) =>
      (reply as FastifyReply).code(400).send({ error: 'bad_request', message: err.message }),
  });

  const routes: string[] = [];
  app.addHook('onRoute', (o) => {
    for (const m of [o.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${o.url}`);
  });
  app.decorate('papgateRoutes', routes);

  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  installEdgeLifecycle(
    app,
    (reply, status, headers) =>
      reply
        .code(status)
        .headers(headers)
        .send(
          status === 503
            ? { error: 'shutting_down', message: 'papgate is shutting down, retry later' }
            : { error: 'method_not_allowed', message: 'method not allowed' },
        ),
    {
      allow: 'GET, POST, PUT, DELETE',
      contentType: 'application/json',
      body: JSON.stringify({ error: 'method_not_allowed', message: 'CONNECT is not supported' }),
    },
  );

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) {
      if (err.status === 401) reply.header('WWW-Authenticate', 'Bearer');
      return reply
        .code(err.status)
        .headers(err.headers)
        .send({ error: err.code, message: err.message, ...err.extra });
    }
    if (err instanceof BusyError) {
      return reply
        .code(429)
        .header('Retry-After', String(err.retryAfterSeconds))
        .send({
          error: 'tenant_busy',
          message: `too many ${err.what} at once; retry in ${err.retryAfterSeconds} s`,
        });
    }
    if (err instanceof InputError) {
      return reply
        .code(400)
        .send({ error: 'bad_request', message: err.message, ...(err.field ? { field: err.field } : {}) });
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .send({ error: 'payload_too_large', message: `body larger than ${config.maxBodyBytes} bytes` });
    }
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ error: 'unsupported_media_type', message: e.message });
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      const message =
        e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e instanceof SyntaxError
          ? `malformed JSON: ${e.message}`
          : (e.message ?? 'bad request');
      return reply.code(e.statusCode).send({ error: 'bad_request', message });
    }
    // Logged once per outage by the store connection, not once per refused request.
    if (isStoreUnavailable(err)) {
      return reply
        .code(503)
        .header('Retry-After', String(RETRY_AFTER_SECONDS))
        .send({ error: 'store_unavailable', message: 'state store unreachable, retry later' });
    }
    log.error({ err, url: req.url }, 'admin request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  /** The audit trail's actor: the token's name (never its value) and the client address. */
  const actor = (req: FastifyRequest) => {
    const p = req.principal;
    return p?.kind === 'tenant' ? `token:${p.name}@${req.ip}` : `operator@${req.ip}`;
  };
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
  /** The tenant a tenant token is bound to; undefined for the operator. */
  const scope = (req: FastifyRequest): string | undefined =>
    req.principal?.kind === 'tenant' ? req.principal.tenant : undefined;

  const tenantOf = async (req: FastifyRequest): Promise<string> => {
    const id = parseTenantId((req.params as { tenant: string }).tenant);
    if (!(await store.getTenant(id)))
      throw new HttpError(404, 'unknown_tenant', `tenant "${id}" does not exist`);
    return id;
  };

  const deviceOf = async (req: FastifyRequest): Promise<{ tenant: string; device: Device }> => {
    const tenant = await tenantOf(req);
    const mac = parseMac((req.params as { mac: string }).mac);
    const device = await store.getDevice(tenant, mac);
    if (!device)
      throw new HttpError(404, 'unknown_device', `device ${mac} does not exist in tenant "${tenant}"`);
    return { tenant, device };
  };

  /**
   * What a refused MAC is told: to a tenant token, that another customer holds it and whom to ask
   * (the operator, who can see where); to the operator, which tenant.
   */
  const refusal = (req: FastifyRequest, e: CreateError) =>
    e.owner === undefined
      ? e.reason
      : scope(req) === undefined
        ? `MAC registered in tenant "${e.owner}"`
        : 'MAC registered to another customer of this service: if the phone is yours (bought used, ' +
          'moved), ask your provider to release it';

  const probeLimited = (retryAt: number) => {
    const seconds = Math.max(1, Math.ceil((retryAt - now()) / 1000));
    return new HttpError(
      429,
      'mac_probe_limited',
      `too many MACs of other customers named; this tenant can add devices again in ${seconds} s ` +
        '(if you bought phones used, ask your provider to release them)',
      {},
      { 'Retry-After': String(seconds) },
    );
  };

  /**
   * A tenant token must not map other tenants' devices by adding their MACs (MAC_PROBE_LIMIT per
   * window, kept in Redis for all papgate processes). Checked before any MAC is looked at, so that a
   * refused addition says nothing about its MACs; the operator is not limited.
   */
  const checkProbes = async (req: FastifyRequest, tenant: string) => {
    if (scope(req) === undefined) return;
    const retryAt = await store.probeRetryAt(tenant, config.macProbe.limit);
    if (retryAt === null) return;
    metrics.macProbe('limited');
    throw probeLimited(retryAt);
  };

  /** Counts, audits and logs the MACs of other tenants a tenant token was about to be told of. */
  const countProbes = async (req: FastifyRequest, tenant: string, errors: readonly CreateError[]) => {
    const elsewhere = errors.filter((e) => e.owner !== undefined);
    if (scope(req) === undefined || elsewhere.length === 0) return;
    const { limit, windowSeconds } = config.macProbe;
    const r = await store.countProbe(
      tenant,
      actor(req),
      elsewhere.map((e) => e.mac),
      limit,
      windowSeconds,
    );
    metrics.macProbe(r.retryAt === null ? 'listed' : 'limited');
    log.warn(
      {
        tenant,
        actor: actor(req),
        macs: elsewhere.length,
        owners: [...new Set(elsewhere.map((e) => e.owner))].slice(0, 10),
        inWindow: r.count,
        limit,
      },
      r.retryAt === null
        ? 'device addition named MACs of other tenants'
        : 'MAC probe limit reached: device additions of the tenant refused',
    );
    if (r.retryAt !== null) throw probeLimited(r.retryAt);
  };

  /**
   * Device additions (CSV imports included, from parsing on) run one at a time: see OneAtATime.
   * What waits is the request, not the event loop.
   */
  const adding = new OneAtATime();
  /**
   * Reads of a whole tenant (device list, CSV export, one device's events), TENANT_READS at once
   * per tenant, one more waiting at most TENANT_READ_WAIT_MS before a 429: each reads every device
   * hash of the tenant, and 24 at once by one tenant token held every tenant's phones behind them.
   */
  const tenantReads = new Shares(
    config.tenantReads.perTenant,
    config.tenantReads.waitMs,
    "reads of this tenant's devices",
  );
  /**
   * Additions of one tenant, TENANT_ADDITIONS at once (waiting in `adding` included), one more
   * waiting at most TENANT_ADDITION_WAIT_MS before a 429: `adding` is one queue for every tenant,
   * and one tenant's imports sent at once held every other tenant's additions behind all of them.
   */
  const tenantAdditions = new Shares(
    config.tenantAdditions.perTenant,
    config.tenantAdditions.waitMs,
    'device additions of this tenant',
  );

  /** One addition, all or nothing, after the MAC probe check; other tenants' MACs counted. */
  const add = async (req: FastifyRequest, tenant: string, devices: readonly NewDevice[]) => {
    await checkProbes(req, tenant);
    const res = await store.createDevices(tenant, devices, actor(req));
    if (res === 'unknown_tenant')
      throw new HttpError(404, 'unknown_tenant', `tenant "${tenant}" does not exist`);
    if (!res.ok) await countProbes(req, tenant, res.errors);
    return res;
  };

  /**
   * A tenant name that looks like another tenant's (lookAlikeOf) is refused, 409: "Beta" and
   * "B" + Cyrillic "е" + "ta" side by side could not be told apart. A tenant token is not told
   * the other tenant's id. Two look-alike names written at the same moment are not caught: tenants
   * are the operator's to create, one at a time.
   */
  const refuseLookAlikeTenant = async (req: FastifyRequest, id: string, name: string) => {
    const others = (await Promise.all((await store.tenantIds()).map((t) => store.getTenant(t)))).filter(
      (t) => t !== null && t.id !== id,
    );
    const like = lookAlikeOf(name, new Set(others.map((t) => t!.name)));
    if (like === null) return;
    const owner = others.find((t) => t!.name === like)!.id;
    throw new HttpError(
      409,
      'name_looks_alike',
      scope(req) === undefined
        ? `name "${name}" looks like "${like}", the name of tenant "${owner}"; choose one that can be told apart`
        : `name "${name}" looks like another tenant's name; choose one that can be told apart`,
      { field: 'name' },
    );
  };

  const objectBody = (req: FastifyRequest): Record<string, unknown> => {
    const b = req.body;
    if (b === undefined || b === null) return {};
    if (typeof b !== 'object' || Array.isArray(b)) throw new InputError('body must be a JSON object');
    return b as Record<string, unknown>;
  };

  app.get('/openapi.json', async () => openApiDocument);
  observabilityRoutes(app, {
    metrics,
    health: deps.health ?? new Health(store, false),
    serveMetrics: config.metrics.serve === 'admin',
  });
  consoleRoutes(app);

  // Every API route lives in this encapsulated plugin, so the token check is bound to the routes
  // themselves: whatever encoding of the path the router matched, the hook runs.
  app.register(
    async (api) => {
      api.decorateRequest('principal', null);
      api.addHook('onRequest', async (req) => {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (bearer !== undefined && timingSafeEqual(digest(bearer), tokenDigest)) {
          req.principal = { kind: 'operator' };
          return;
        }
        // Only a bearer shaped like a tenant token costs a store lookup.
        const claim = bearer === undefined ? null : tenantTokenClaim(bearer);
        const token = claim && (await tokens.check(claim));
        if (!claim || !token) throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
        // Params are the router's decoding of the path, the same values the handlers parse.
        const param = (req.params as { tenant?: string }).tenant;
        if (
          param === undefined ? !TENANT_SCOPED_ROUTES.has(req.routeOptions.url ?? '') : param !== claim.tenant
        )
          throw new HttpError(403, 'forbidden', `this token belongs to tenant "${claim.tenant}"`);
        req.principal = { kind: 'tenant', tenant: claim.tenant, name: token.name };
        await tokens.noteUse(claim, token);
      });
      apiRoutes(api);
    },
    { prefix: '/api/v1' },
  );

  function apiRoutes(api: FastifyInstance): void {
    api.put('/tenants/:tenant', async (req, reply) => {
      const id = parseTenantId((req.params as { tenant: string }).tenant);
      const b = objectBody(req);
      // A field not given is left as it is (a new tenant: its id as name, no language or time zone).
      const name = b.name === undefined ? undefined : parseTenantName(b.name);
      if (b.language !== undefined && b.language !== null && !isLanguage(b.language)) {
        throw new InputError('language must be "en" or "de"', 'language');
      }
      const language = b.language as Language | null | undefined;
      const timeZone =
        b.timeZone === undefined || b.timeZone === null
          ? b.timeZone
          : typeof b.timeZone === 'string'
            ? parseTimeZone(b.timeZone)
            : null;
      if (timeZone === null && b.timeZone !== undefined && b.timeZone !== null)
        throw new InputError('timeZone must be an IANA time zone name such as "Europe/Berlin"', 'timeZone');
      const deviceCertificate = b.deviceCertificate;
      if (deviceCertificate !== undefined && !isDeviceCertificatePolicy(deviceCertificate))
        throw new InputError(
          'deviceCertificate must be "required", "recorded" or "off"',
          'deviceCertificate',
        );
      // Without vendor CAs no certificate can be verified: "required" would refuse every phone.
      if (deviceCertificate === 'required' && !config.provisioningTls?.deviceCaFile)
        throw new InputError(
          'deviceCertificate "required" needs PROVISIONING_DEVICE_CA',
          'deviceCertificate',
        );
      const prefixes =
        b.emergencyCallerIdPrefixes === undefined
          ? undefined
          : parseCallerIdPrefixes(b.emergencyCallerIdPrefixes);
      const current = await store.getTenant(id);
      if (scope(req) !== undefined) {
        if (!current) throw new HttpError(403, 'forbidden', 'a tenant token cannot create tenants');
        // Sent back unchanged (as GET answered it) is no attempt to set it.
        if (prefixes !== undefined && prefixes.join(',') !== current.emergencyCallerIdPrefixes.join(','))
          throw new HttpError(403, 'forbidden', 'only the operator sets emergencyCallerIdPrefixes', {
            field: 'emergencyCallerIdPrefixes',
          });
      }
      const shown = current === null ? (name ?? id) : name;
      if (shown !== undefined && shown !== current?.name) await refuseLookAlikeTenant(req, id, shown);
      const created = await store.putTenant(
        id,
        {
          name,
          language,
          timeZone,
          deviceCertificate,
          ...(prefixes === undefined || scope(req) !== undefined
            ? {}
            : { emergencyCallerIdPrefixes: prefixes }),
        },
        actor(req),
      );
      return reply.code(created ? 201 : 200).send(await store.getTenant(id));
    });

    api.get('/tenants/:tenant', async (req) => store.getTenant(await tenantOf(req)));

    api.get('/tenants', async (req) => {
      const own = scope(req);
      const ids = own === undefined ? await store.tenantIds() : [own];
      const all = await Promise.all(ids.map((id) => store.getTenant(id)));
      return { tenants: all.filter((t) => t !== null) };
    });

    api.get('/session', async (req) => {
      const p = req.principal!;
      return p.kind === 'tenant'
        ? { role: 'tenant', tenant: p.tenant, token: p.name }
        : { role: 'operator', tenant: null, token: null };
    });

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

    api.post('/tenants/:tenant/devices', async (req, reply) => {
      const tenant = await tenantOf(req);
      const nd = parseNewDevice(req.body);
      const res = await tenantAdditions.run(tenant, () => adding.run(() => add(req, tenant, [nd])));
      if (!res.ok) {
        const e = res.errors[0]!;
        throw new HttpError(
          409,
          e.owner === undefined ? 'duplicate_mac' : 'mac_registered_elsewhere',
          `${nd.mac}: ${refusal(req, e)}`,
        );
      }
      const device = await store.getDevice(tenant, nd.mac);
      return reply.code(201).send(view(device!, now()));
    });

    api.get('/tenants/:tenant/devices', async (req) => {
      const tenant = await tenantOf(req);
      const q = req.query as { state?: string; site?: string; q?: string; offset?: string; limit?: string };
      const state = stateFilter(q.state);
      const search = macSearch(q.q);
      const offset = intParam(q.offset, 'offset', 0, 1e9) ?? 0;
      const limit = intParam(q.limit, 'limit', 1, 1000);
      return tenantReads.run(tenant, async () => {
        const t = now();
        const all = await store.listDevices(tenant);
        const stateCounts = Object.fromEntries(AUTH_STATES.map((s) => [s, 0])) as Record<AuthState, number>;
        const sites = new Set<string>();
        const matching: Device[] = [];
        for (const d of all) {
          const s = settle(d, t).state;
          stateCounts[s]++;
          sites.add(d.site);
          if (state !== undefined && s !== state) continue;
          if (q.site !== undefined && d.site !== q.site) continue;
          if (search !== undefined && !d.mac.includes(search)) continue;
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

    api.get('/tenants/:tenant/devices.csv', async (req, reply) => {
      const tenant = await tenantOf(req);
      const state = stateFilter((req.query as { state?: string }).state);
      const csv = await tenantReads.run(tenant, async () => {
        const t = now();
        const devices = (await store.listDevices(tenant)).filter(
          (d) => state === undefined || settle(d, t).state === state,
        );
        await store.appendEvent(tenant, 'csv_exported', { actor: actor(req), rows: String(devices.length) });
        return devicesToCsv(devices, t);
      });
      return reply
        .header('Content-Type', 'text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="${tenant}-devices.csv"`)
        .header('Cache-Control', 'no-store')
        .send(csv);
    });

    api.post('/tenants/:tenant/devices.csv', async (req, reply) => {
      const tenant = await tenantOf(req);
      if (typeof req.body !== 'string')
        throw new HttpError(415, 'unsupported_media_type', 'send the CSV as Content-Type: text/csv');
      const csv = req.body;
      const { parsed, res } = await tenantAdditions.run(tenant, () =>
        adding.run(async () => {
          const parsed = await csvToDevices(csv, CSV_MAX_ROWS);
          if (!parsed.ok) {
            const { message, ...rows } = badRows(parsed.errors);
            throw new HttpError(400, 'invalid_csv', message, rows);
          }
          return { parsed, res: await add(req, tenant, parsed.devices) };
        }),
      );
      if (!res.ok) {
        const { message, ...rows } = badRows(
          res.errors.map((e) => ({ line: parsed.lines[e.index]!, mac: e.mac, reason: refusal(req, e) })),
        );
        throw new HttpError(409, 'invalid_csv', message, rows);
      }
      return reply.code(201).send({
        created: res.devices.length,
        devices: res.devices.map((d) => ({ mac: d.mac, pap: d.pap, state: 'needed' })),
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
      return { mac: device.mac, pap: r.pap, state: 'needed' };
    });

    api.post('/tenants/:tenant/devices/:mac/suspend', async (req) => {
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
      return { mac: device.mac, suspendedUntil: iso(r.suspendedUntil), suspensionNetwork: network };
    });

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

    api.get('/tenants/:tenant/events', async (req) => {
      const tenant = await tenantOf(req);
      const q = req.query as { count?: string; before?: string; mac?: string; stream?: string };
      const stream = streamParam(q.stream);
      const count = q.count === undefined ? 100 : Number(q.count);
      if (!Number.isInteger(count) || count < 1 || count > 1000)
        throw new InputError('count must be 1..1000', 'count');
      if (q.before !== undefined && !isEventIdAfterZero(q.before))
        throw new InputError('before must be an event id (<ms>-<seq>, each below 2^64, not 0-0)', 'before');
      if (q.mac === undefined) return { events: await store.events(tenant, count, q.before, stream) };
      const mac = parseMac(q.mac);
      return {
        events: await tenantReads.run(tenant, () => eventsOfDevice(tenant, mac, count, q.before, stream)),
      };
    });

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
      };
    });
  }

  /** One device's events, newest first: the stream read backwards in chunks, at most all of it once. */
  async function eventsOfDevice(
    tenant: string,
    mac: Mac,
    count: number,
    before: string | undefined,
    stream: EventStream,
  ) {
    const found: AuditEvent[] = [];
    let end = before;
    for (let read = 0; found.length < count && read < store.maxEvents(stream);) {
      const chunk = await store.events(tenant, 1000, end, stream);
      found.push(...chunk.filter((e) => e.mac === mac).slice(0, count - found.length));
      if (chunk.length < 1000) break;
      read += chunk.length;
      end = chunk[chunk.length - 1]!.id;
    }
    return found;
  }

  return app;
}

import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { AUTH_STATES, settle, isSuspended, type AuthState } from '../domain/auth';
import { isAuthState, isLanguage, parseNewDevice, parseTenantId, type Device } from '../domain/device';
import { InputError } from '../domain/errors';
import { parseMac } from '../domain/mac';
import { isPapFormat } from '../domain/pap';
import { canonicalIp, parseWhitelistEntry } from '../domain/whitelist';
import type { Store } from '../store/store';
import { isStoreUnavailable } from '../store/connect';
import { httpServerOptions, installEdgeLifecycle, RETRY_AFTER_SECONDS } from '../http';
import { csvToDevices, devicesToCsv } from './csv';
import { openApiDocument } from './openapi';

export interface AdminDeps {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly adminToken: string;
  readonly now?: () => number;
}

const CSV_MAX_ROWS = 10000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
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
export function deviceView(d: Device, now: number) {
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
    suspended: isSuspended(d, now),
    suspendedUntil: iso(d.suspendedUntil !== null && d.suspendedUntil > now ? d.suspendedUntil : null),
    authenticatedAt: iso(d.authenticatedAt),
    authenticatedVia: d.authenticatedVia,
    lastProvisioning: d.lastProvisioning && { ...d.lastProvisioning, at: iso(d.lastProvisioning.at) },
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
      return reply.code(err.status).send({ error: err.code, message: err.message, ...err.extra });
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

  const actor = (req: FastifyRequest) => `admin@${req.ip}`;

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

  const objectBody = (req: FastifyRequest): Record<string, unknown> => {
    const b = req.body;
    if (b === undefined || b === null) return {};
    if (typeof b !== 'object' || Array.isArray(b)) throw new InputError('body must be a JSON object');
    return b as Record<string, unknown>;
  };

  app.get('/openapi.json', async () => openApiDocument);

  // Every API route lives in this encapsulated plugin, so the token check is bound to the routes
  // themselves: whatever encoding of the path the router matched, the hook runs.
  app.register(
    async (api) => {
      api.addHook('onRequest', async (req) => {
        const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
        if (!m || !timingSafeEqual(digest(m[1]!), tokenDigest)) {
          throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token');
        }
      });
      apiRoutes(api);
    },
    { prefix: '/api/v1' },
  );

  function apiRoutes(api: FastifyInstance): void {
    api.put('/tenants/:tenant', async (req, reply) => {
      const id = parseTenantId((req.params as { tenant: string }).tenant);
      const b = objectBody(req);
      if (b.name !== undefined && (typeof b.name !== 'string' || b.name.length > 200)) {
        throw new InputError('name must be a string of at most 200 characters', 'name');
      }
      if (b.language !== undefined && b.language !== null && !isLanguage(b.language)) {
        throw new InputError('language must be "en" or "de"', 'language');
      }
      const created = await store.putTenant(
        id,
        {
          name: (b.name as string | undefined) ?? id,
          language: (b.language as 'en' | 'de' | undefined) ?? null,
        },
        actor(req),
      );
      return reply.code(created ? 201 : 200).send(await store.getTenant(id));
    });

    api.get('/tenants/:tenant', async (req) => store.getTenant(await tenantOf(req)));

    api.post('/tenants/:tenant/devices', async (req, reply) => {
      const tenant = await tenantOf(req);
      const nd = parseNewDevice(req.body);
      const res = await store.createDevices(tenant, [nd], actor(req));
      if (res === 'unknown_tenant')
        throw new HttpError(404, 'unknown_tenant', `tenant "${tenant}" does not exist`);
      if (!res.ok) throw new HttpError(409, 'duplicate_mac', `MAC ${nd.mac} is already registered`);
      const device = await store.getDevice(tenant, nd.mac);
      return reply.code(201).send(deviceView(device!, now()));
    });

    api.get('/tenants/:tenant/devices', async (req) => {
      const tenant = await tenantOf(req);
      const q = req.query as { state?: string; site?: string };
      const state = stateFilter(q.state);
      const t = now();
      const devices = (await store.listDevices(tenant))
        .map((d) => deviceView(d, t))
        .filter(
          (d) => (state === undefined || d.state === state) && (q.site === undefined || d.site === q.site),
        );
      return { devices };
    });

    api.get('/tenants/:tenant/devices.csv', async (req, reply) => {
      const tenant = await tenantOf(req);
      const state = stateFilter((req.query as { state?: string }).state);
      const t = now();
      const devices = (await store.listDevices(tenant)).filter(
        (d) => state === undefined || settle(d, t).state === state,
      );
      await store.appendEvent(tenant, 'csv_exported', { actor: actor(req), rows: String(devices.length) });
      return reply
        .header('Content-Type', 'text/csv; charset=utf-8')
        .header('Content-Disposition', `attachment; filename="${tenant}-devices.csv"`)
        .header('Cache-Control', 'no-store')
        .send(devicesToCsv(devices, t));
    });

    api.post('/tenants/:tenant/devices.csv', async (req, reply) => {
      const tenant = await tenantOf(req);
      if (typeof req.body !== 'string')
        throw new HttpError(415, 'unsupported_media_type', 'send the CSV as Content-Type: text/csv');
      const parsed = csvToDevices(req.body, CSV_MAX_ROWS);
      if (!parsed.ok)
        throw new HttpError(400, 'invalid_csv', `${parsed.errors.length} bad row(s); nothing was imported`, {
          rows: parsed.errors,
        });
      const res = await store.createDevices(tenant, parsed.devices, actor(req));
      if (res === 'unknown_tenant')
        throw new HttpError(404, 'unknown_tenant', `tenant "${tenant}" does not exist`);
      if (!res.ok) {
        const rows = res.errors.map((e) => ({ line: parsed.lines[e.index]!, mac: e.mac, reason: e.reason }));
        throw new HttpError(409, 'invalid_csv', `${rows.length} bad row(s); nothing was imported`, { rows });
      }
      return reply.code(201).send({
        created: res.devices.length,
        devices: res.devices.map((d) => ({ mac: d.mac, pap: d.pap, state: 'needed' })),
      });
    });

    api.get('/tenants/:tenant/devices/:mac', async (req) => deviceView((await deviceOf(req)).device, now()));

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
      const r = await store.suspendDevice(tenant, device.mac, actor(req));
      if (!r) throw new HttpError(404, 'unknown_device', `device ${device.mac} does not exist`);
      return { mac: device.mac, suspendedUntil: iso(r.suspendedUntil) };
    });

    api.get('/tenants/:tenant/whitelist', async (req) => ({
      entries: (await store.whitelist(await tenantOf(req))).map((e) => e.text),
    }));

    api.post('/tenants/:tenant/whitelist', async (req, reply) => {
      const tenant = await tenantOf(req);
      const entry = parseWhitelistEntry(objectBody(req).entry);
      const added = await store.addWhitelist(tenant, entry, actor(req));
      return reply.code(added ? 201 : 200).send({ entry: entry.text });
    });

    api.get('/tenants/:tenant/whitelist/temporary', async (req) => ({
      entries: (await store.temporaryWhitelist(await tenantOf(req))).map((e) => ({
        ip: e.ip,
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
      const q = req.query as { count?: string; before?: string };
      const count = q.count === undefined ? 100 : Number(q.count);
      if (!Number.isInteger(count) || count < 1 || count > 1000)
        throw new InputError('count must be 1..1000', 'count');
      if (q.before !== undefined && !isEventIdAfterZero(q.before))
        throw new InputError('before must be an event id (<ms>-<seq>, each below 2^64, not 0-0)', 'before');
      return { events: await store.events(tenant, count, q.before) };
    });

    api.post('/authenticate', async (req, reply) => {
      const b = objectBody(req);
      const mac = parseMac(b.mac);
      if (!isPapFormat(b.pap)) throw new InputError('pap must be a string of 6 digits', 'pap');
      const ip = b.ip === undefined || b.ip === null ? null : canonicalIp(String(b.ip));
      const r = await store.attemptPap(mac, b.pap, ip, actor(req), 'api');
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

  return app;
}

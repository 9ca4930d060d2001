/**
 * What the admin API's route modules (routes/) share: the server's dependencies, who is acting and
 * the token check that says so, errors and how they are answered, and the request helpers.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { AUTH_STATES, type AuthState } from '../domain/auth';
import { isAuthState, parseTenantId, type Device } from '../domain/device';
import { InputError } from '../domain/errors';
import { parseMac, type Mac } from '../domain/mac';
import type { NotifyResult } from '../domain/outcomes';
import { isStoreUnavailable } from '../store/connect';
import type { Store } from '../store/store';
import { tenantTokenClaim, TenantTokens } from '../store/tokens';
import { RETRY_AFTER_SECONDS } from '../http/server';
import type { Health } from '../http/observability';
import { Metrics } from '../lib/metrics';
import { BusyError, Shares } from '../lib/pacing';

/** A device's effective full file, as the provisioning side renders it (main.ts wires it: no edge imports another). */
export interface EffectiveFile {
  /** The name the phone asks for. */
  readonly file: string;
  readonly contentType: string;
  /** The templates it was made of, in order: papgate's own or the operator's. */
  readonly sources: readonly { readonly origin: string; readonly path: string }[];
  readonly body: string;
}
export type EffectiveFileOf = (device: Device) => Promise<EffectiveFile | null>;

export interface AdminDeps {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly adminToken: string;
  readonly now?: () => number;
  /** Default: a registry of its own, and readiness that asks the store only. */
  readonly metrics?: Metrics;
  readonly health?: Health;
  /** Sends a device a check-sync (the SIP side's; absent while it is off). */
  readonly checkSync?: (tenant: string, mac: Mac) => Promise<NotifyResult>;
  /** A device's effective full file (the provisioning side's renderer); absent: 404 no_templates. */
  readonly effectiveFile?: EffectiveFileOf;
}

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

export class HttpError extends Error {
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

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The optional `?state=` filter of the device list and the CSV export. */
export function stateFilter(v: string | undefined): AuthState | undefined {
  if (v === undefined || isAuthState(v)) return v;
  throw new InputError(`state must be one of ${AUTH_STATES.join(', ')}`, 'state');
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * The API's onRequest hook: the bearer is the operator's token, or a tenant token used on its own
 * tenant's routes (and on TENANT_SCOPED_ROUTES); anything else is 401 or 403.
 */
export function authHook(adminToken: string, tokens: TenantTokens) {
  const tokenDigest = digest(adminToken);
  return async (req: FastifyRequest): Promise<void> => {
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
    if (param === undefined ? !TENANT_SCOPED_ROUTES.has(req.routeOptions.url ?? '') : param !== claim.tenant)
      throw new HttpError(403, 'forbidden', `this token belongs to tenant "${claim.tenant}"`);
    req.principal = { kind: 'tenant', tenant: claim.tenant, name: token.name };
    await tokens.noteUse(claim, token);
  };
}

/** Every error a route throws, and fastify's own, answered as `{ error, message }`. */
export function errorHandler(config: Config, log: Logger) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
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
  };
}

/** The audit trail's actor: the token's name (never its value) and the client address. */
export const actor = (req: FastifyRequest) => {
  const p = req.principal;
  return p?.kind === 'tenant' ? `token:${p.name}@${req.ip}` : `operator@${req.ip}`;
};

/** The tenant a tenant token is bound to; undefined for the operator. */
export const scope = (req: FastifyRequest): string | undefined =>
  req.principal?.kind === 'tenant' ? req.principal.tenant : undefined;

export const objectBody = (req: FastifyRequest): Record<string, unknown> => {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new InputError('body must be a JSON object');
  return b as Record<string, unknown>;
};

/** What the route modules are handed: one per server. */
export interface Api {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly now: () => number;
  readonly metrics: Metrics;
  readonly tokens: TenantTokens;
  /**
   * Reads of a whole tenant (device list, CSV export, one device's events), TENANT_READS at once
   * per tenant, one more waiting at most TENANT_READ_WAIT_MS before a 429: each reads every device
   * hash of the tenant, and 24 at once by one tenant token held every tenant's phones behind them.
   */
  readonly tenantReads: Shares;
  /** The `:tenant` of the path, which must exist (404 unknown_tenant). */
  readonly tenantOf: (req: FastifyRequest) => Promise<string>;
  /** The `:tenant` and `:mac` of the path, which must exist (404). */
  readonly deviceOf: (req: FastifyRequest) => Promise<{ tenant: string; device: Device }>;
  readonly checkSync?: AdminDeps['checkSync'];
}

export function createApi(deps: AdminDeps): Api {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const tenantOf = async (req: FastifyRequest): Promise<string> => {
    const id = parseTenantId((req.params as { tenant: string }).tenant);
    if (!(await store.getTenant(id)))
      throw new HttpError(404, 'unknown_tenant', `tenant "${id}" does not exist`);
    return id;
  };
  return {
    config,
    store,
    log: deps.log,
    now,
    metrics: deps.metrics ?? new Metrics(),
    tokens: new TenantTokens(store.redis, { eventsMaxLen: config.eventsMaxLen, now }),
    tenantReads: new Shares(
      config.tenantReads.perTenant,
      config.tenantReads.waitMs,
      "reads of this tenant's devices",
    ),
    tenantOf,
    deviceOf: async (req) => {
      const tenant = await tenantOf(req);
      const mac = parseMac((req.params as { mac: string }).mac);
      const device = await store.getDevice(tenant, mac);
      if (!device)
        throw new HttpError(404, 'unknown_device', `device ${mac} does not exist in tenant "${tenant}"`);
      return { tenant, device };
    },
    ...(deps.checkSync ? { checkSync: deps.checkSync } : {}),
  };
}

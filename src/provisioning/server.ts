import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config, ProvisioningTlsConfig } from '../config';
import { settle } from '../domain/auth';
import type { Device } from '../domain/device';
import {
  certificateAuditFields,
  certificateResult,
  DEFAULT_DEVICE_CERTIFICATE_POLICY,
} from '../domain/devicecert';
import type { Mac } from '../domain/mac';
import { generateDeviceCredential, hashCredential } from '../domain/pap';
import { decideProvisioning } from '../domain/provisioning';
import { httpServerOptions, httpsServerOptions, installEdgeLifecycle, RETRY_AFTER_SECONDS } from '../http';
import { Metrics, type ProvisioningDecision, type ProvisioningVendor } from '../metrics';
import { isStoreUnavailable } from '../store/connect';
import type { Store } from '../store/store';
import { clientIp, presentedBasicCredential, userAgentMismatch } from './request';
import { commonScope, deviceScope } from './scope';
import { TemplateSet } from './templates';
import { presentedCertificate, tlsServerOptions } from './tls';
import { matchFile, moduleFor, type FileMatch, type VendorModule } from './vendors';

export interface ProvisioningDeps {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  /** Defaults to the templates under config/templates, loaded once here. */
  readonly templates?: TemplateSet;
  /** Defaults to a registry of its own. */
  readonly metrics?: Metrics;
  /** Serve HTTPS with these files (read now; `reloadTls` re-reads them); absent: plain HTTP. */
  readonly tls?: ProvisioningTlsConfig;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** How far a provisioning request got, for its reply's metric labels. */
    provisioningVendor: ProvisioningVendor;
    provisioningDecision: ProvisioningDecision;
  }
}

const MAX_URL_LENGTH = 512;
/** `/<file>` or `/d/<credential>/<file>`; file names are plain: no separators, no encoding. */
const PATH = /^\/(?:d\/([A-Za-z0-9_-]{1,128})\/)?([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;
/** Looked up for requests that name no MAC, so every 404 costs the same store work. */
const DUMMY_MAC = '000000000000' as Mac;
const MAX_BLOCKED_IPS = 100_000;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Thrown for any store failure: the answer is 503, never a downgraded configuration. */
class StoreDown extends Error {}

async function guarded<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new StoreDown((err as Error).message, { cause: err });
  }
}

/** A configuration file (or, for HEAD, its headers only): never cached, it may carry secrets. */
function sendFile(reply: FastifyReply, contentType: string, body?: string): FastifyReply {
  return reply.code(200).header('content-type', contentType).header('cache-control', 'no-store').send(body);
}

function plain(reply: FastifyReply, status: number, headers: Record<string, string> = {}): FastifyReply {
  reply.code(status).header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-store');
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.send(STATUS_TEXT[status] ?? 'Error');
}

/**
 * The provisioning HTTP server (SPEC section 5): answers the file names phones request with a
 * minimal or full configuration, as `decideProvisioning` says. Not yet listening. With `tls` it
 * is the HTTPS server; unusable files throw TlsFileError here.
 */
export function createProvisioningServer(deps: ProvisioningDeps): FastifyInstance {
  const { config, store, log } = deps;
  const now = deps.now ?? Date.now;
  const templates = deps.templates ?? TemplateSet.load();
  const metrics = deps.metrics ?? new Metrics();
  const basePath = new URL(config.provisioningBaseUrl).pathname.replace(/\/+$/, '');
  /** IPs over the miss limit, until when: answered 429 without touching the store. */
  const blocked = new Map<string, number>();
  let seq = 0;

  const app = Fastify({
    ...(deps.tls ? httpsServerOptions(config, tlsServerOptions(deps.tls)) : httpServerOptions(config)),
    bodyLimit: 1024,
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: (_err, _req, reply) => plain(reply as FastifyReply, 400),
  });
  installEdgeLifecycle(app, (reply, status, headers) => plain(reply, status, headers), {
    allow: 'GET, HEAD',
    contentType: 'text/plain; charset=utf-8',
    body: STATUS_TEXT[405]!,
  });
  app.decorateRequest('provisioningVendor', 'none');
  app.decorateRequest('provisioningDecision', 'none');
  // Every reply, refusals by the hooks and the router included; a callback hook costs no promise.
  app.addHook('onResponse', (req, reply, done) => {
    metrics.provisioningReply(req.provisioningVendor, req.provisioningDecision, reply.statusCode);
    done();
  });

  const isBlocked = (ip: string): boolean => {
    const until = blocked.get(ip);
    if (until === undefined) return false;
    if (until > now()) return true;
    blocked.delete(ip);
    return false;
  };

  const block = (ip: string): void => {
    if (blocked.size >= MAX_BLOCKED_IPS) {
      const t = now();
      for (const [k, until] of blocked) if (until <= t) blocked.delete(k);
      if (blocked.size >= MAX_BLOCKED_IPS) blocked.clear();
    }
    blocked.set(ip, now() + config.provisioningMissWindowSeconds * 1000);
  };

  /** Every 404 goes through here: same body, same headers, the same store work before it. */
  const miss = async (reply: FastifyReply, ip: string, lookup: boolean): Promise<FastifyReply> => {
    if (lookup) await guarded(store.findDevice(DUMMY_MAC));
    const count = await guarded(store.countMiss(ip, config.provisioningMissWindowSeconds));
    if (count > config.provisioningMissLimit) {
      block(ip);
      log.warn({ ip, misses: count }, 'provisioning misses over the limit');
      return plain(reply, 429, { 'retry-after': String(config.provisioningMissWindowSeconds) });
    }
    return plain(reply, 404);
  };

  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(reply, 405, { allow: 'GET, HEAD' });
    if (req.url.length > MAX_URL_LENGTH) return plain(reply, 414);
    const len = req.headers['content-length'];
    if ((len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined)
      return plain(reply, 413);
    // Traversal and encoding tricks are refused outright (nothing is read from disk anyway).
    if (/\.\.|\\|%|\0/.test(req.url)) return plain(reply, 400);
    return undefined;
  });

  app.setNotFoundHandler((_req, reply) => plain(reply, 404));
  app.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err }, 'provisioning request failed');
    return plain(reply, status === 404 ? 404 : status);
  });

  const handle = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let ip: string;
    try {
      ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], config.trustProxy);
    } catch {
      return plain(reply, 400);
    }
    const q = req.url.indexOf('?');
    let p = q === -1 ? req.url : req.url.slice(0, q);
    if (basePath && p.startsWith(`${basePath}/`)) p = p.slice(basePath.length);
    const m = PATH.exec(p);
    const pathCredential = m?.[1] ?? null;
    const file = m?.[2] ?? '';
    // Outside that shape only boot files count (Gigaset bases ask for `/42/2/master.bin`).
    const candidates = m
      ? matchFile(file)
      : matchFile(p.slice(p.lastIndexOf('/') + 1)).filter((c) => c.match.role === 'boot');

    const common = candidates.find((c) => c.match.role === 'common');
    if (common && common.match.role === 'common') {
      const body = templates.render(
        common.module.family,
        common.match.template,
        [],
        commonScope(config, common.match.vars),
        common.module.escape,
      );
      return sendFile(reply, common.module.contentType, body);
    }

    const named = candidates.find((c) => c.match.role === 'config' || c.match.role === 'pointer');
    // Boot files are asked for by every phone that reboots: never a miss, never throttled.
    if (!named && candidates.some((c) => c.match.role === 'boot')) return plain(reply, 404);
    if (isBlocked(ip))
      return plain(reply, 429, { 'retry-after': String(config.provisioningMissWindowSeconds) });
    if (!named || (named.match.role !== 'config' && named.match.role !== 'pointer'))
      return miss(reply, ip, true);
    const mac = named.match.mac;

    // The miss count is shared by every papgate process (read beside the device, no extra round
    // trip): an address over the limit gets 429 from all of them, also for a MAC that exists, which
    // a process that had not seen the misses would otherwise confirm with a configuration.
    const [found, misses] = await guarded(Promise.all([store.findDevice(mac), store.missCount(ip)]));
    if (misses > config.provisioningMissLimit) {
      block(ip);
      return plain(reply, 429, { 'retry-after': String(config.provisioningMissWindowSeconds) });
    }
    for (let attempt = 0; ; attempt++) {
      const device = attempt === 0 ? found : await guarded(store.findDevice(mac));
      const module = device ? moduleFor(device.vendor) : null;
      const fm = module?.matchFile(file) ?? null;
      // A file name this device's vendor never requests is as unknown as an unknown MAC.
      if (!device || !module || !fm || (fm.role !== 'config' && fm.role !== 'pointer') || fm.mac !== mac)
        return miss(reply, ip, false);
      req.provisioningVendor = device.vendor;
      const done = await provision(req, reply, {
        ip,
        file,
        device,
        module,
        fm,
        pathCredential,
        retry: attempt === 0,
      });
      if (done !== 'retry') return done;
    }
  };

  const provision = async (
    req: FastifyRequest,
    reply: FastifyReply,
    r: {
      ip: string;
      file: string;
      device: Device;
      module: VendorModule;
      fm: Extract<FileMatch, { role: 'config' | 'pointer' }>;
      pathCredential: string | null;
      retry: boolean;
    },
  ): Promise<FastifyReply | 'retry'> => {
    const { ip, file, device, module, fm } = r;
    const tenant = device.tenant;
    const rlog = log.child({ req: ++seq, mac: device.mac, tenant });
    const [tenantRecord, permanentWhitelist, temporaryWhitelistUntil] = await Promise.all([
      guarded(store.getTenant(tenant)),
      guarded(store.whitelist(tenant)),
      guarded(store.temporaryWhitelistUntil(tenant, ip)),
    ]);
    const ua = req.headers['user-agent'];
    const userAgent = typeof ua === 'string' ? ua : undefined;
    const certificatePolicy = tenantRecord?.deviceCertificate ?? DEFAULT_DEVICE_CERTIFICATE_POLICY;
    const certificate = certificateResult(
      presentedCertificate(req.socket),
      device.mac,
      userAgent === undefined ? undefined : module.parseUserAgent(userAgent)?.mac,
    );
    const audit = certificateAuditFields(certificatePolicy, certificate);
    const note = (outcome: string, reason: string) =>
      guarded(store.recordProvisioning(tenant, device.mac, { ip, outcome, reason, file, audit }));

    if (userAgentMismatch(module, device, userAgent)) {
      await note('refused', 'user_agent_mismatch');
      rlog.warn(
        {
          ip,
          file,
          outcome: 'refused',
          reason: 'user_agent_mismatch',
          userAgent: String(ua).slice(0, 200),
          ...audit,
        },
        'provisioning refused',
      );
      return plain(reply, 403);
    }

    const presented = r.pathCredential ?? presentedBasicCredential(req.headers.authorization, device.mac);
    const t = now();
    const decision = decideProvisioning({
      device: { ...device, ...settle(device, t) },
      presentedCredential: presented,
      ip,
      permanentWhitelist,
      temporaryWhitelistUntil,
      now: t,
      certificate,
      certificatePolicy,
    });

    if (decision.kind === 'refuse') {
      await note('refused', decision.reason);
      rlog.warn({ ip, file, outcome: 'refused', reason: decision.reason, ...audit }, 'provisioning refused');
      return plain(reply, 403);
    }
    const ok = (body: string) => sendFile(reply, module.contentType, body);
    const overrides = module.overrides(device);
    if (fm.role === 'pointer') {
      // Points at the next file only; the same for minimal and full, so nothing is recorded.
      return ok(
        templates.render(
          module.family,
          fm.template,
          overrides,
          { ...commonScope(config, {}), mac: device.mac, MAC: device.mac.toUpperCase() },
          module.escape,
        ),
      );
    }
    // HEAD changes nothing: a credential issued into a body nobody receives would lock the phone out.
    if (req.method === 'HEAD') return sendFile(reply, module.contentType);

    if (decision.kind === 'minimal') {
      await note('minimal', decision.display);
      req.provisioningDecision = 'minimal';
      rlog.info({ ip, file, outcome: 'minimal', reason: decision.display }, 'provisioning');
      const scope = deviceScope(
        config,
        device,
        {
          kind: 'minimal',
          display: decision.display,
          ip,
          failedUntil: settle(device, t).failedUntil,
          language: device.language ?? tenantRecord?.language,
          timeZone: tenantRecord?.timeZone,
          now: t,
        },
        module.httpCredentials,
      );
      return ok(templates.render(module.family, fm.template, overrides, scope, module.escape));
    }

    const credential = decision.reason === 'credential' ? presented! : generateDeviceCredential();
    // Recorded before sending: once the phone holds the credential, the store must know its hash.
    const recorded = await guarded(
      store.recordFullProvisioning(tenant, device.mac, {
        generation: device.generation,
        reason: decision.reason,
        credentialHash: hashCredential(credential),
        ip,
        file,
        audit,
      }),
    );
    if (recorded !== 'ok') {
      // Reset or deleted between our read and the write: decide again once on fresh data.
      rlog.info({ ip, file, recorded }, 'device changed during provisioning');
      if (r.retry) return 'retry';
      return plain(reply, 503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    rlog.info({ ip, file, outcome: 'full', reason: decision.reason }, 'provisioning');
    req.provisioningDecision = 'full';
    const scope = deviceScope(config, device, { kind: 'full', credential }, module.httpCredentials);
    return ok(templates.render(module.family, fm.template, overrides, scope, module.escape));
  };

  app.get('/*', async (req, reply) => {
    try {
      return await handle(req, reply);
    } catch (err) {
      if (err instanceof StoreDown) {
        // Outages are logged once per outage by the store connection, not once per request.
        if (!isStoreUnavailable(err.cause)) log.error({ err: err.message }, 'provisioning: store error');
        return plain(reply, 503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      }
      log.error({ err }, 'provisioning request failed');
      return plain(reply, 500);
    }
  });

  return app;
}

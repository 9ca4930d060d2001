import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { Config, ProvisioningTlsConfig } from '../config';
import { settle } from '../domain/auth';
import type { Device } from '../domain/device';
import { certificateRefusal, DEFAULT_DEVICE_CERTIFICATE_POLICY } from '../domain/devicecert';
import { clientOf } from '../domain/prefix';
import { BoundedMap, shortText } from '../lib/bounded';
import { LogLimit } from '../lib/loglimit';
import type { Mac } from '../domain/mac';
import { challengeHeader } from '../domain/digest';
import { generateDeviceCredential, hashCredential } from '../domain/pap';
import {
  CHALLENGE_GRACE_MS,
  decideProvisioning,
  PROVISIONING_REALM,
  type PresentedCredential,
  type ProvisioningRefusal,
} from '../domain/provisioning';
import type { TenantSettings } from '../domain/setting-layers';
import { strangerText } from '../domain/text';
import {
  httpServerOptions,
  httpsServerOptions,
  installEdgeLifecycle,
  RETRY_AFTER_SECONDS,
  withFrontHandler,
  type FrontHandler,
} from '../http/server';
import {
  Metrics,
  type ProvisioningDecision,
  type ProvisioningReason,
  type ProvisioningVendor,
} from '../lib/metrics';
import { isStoreUnavailable } from '../store/connect';
import type { ProvisioningState, RenderedDevice } from '../store/provisioning';
import { Settings } from '../store/settings';
import { SipStore } from '../store/sip';
import type { Store } from '../store/store';
import { file, plain, reply, STATUS_TEXT, write, type Answer } from './answer';
import { ConfigFiles, type FileSettings } from './files';
import { MissLimit } from './misses';
import { QuickCache, type Hint } from './quick';
import { FileSettingsSource } from './settings';
import { SIP_CA_FILE, type MinimalKind } from './scope';
import {
  acceptableModel,
  answersWithDigest,
  certificateOf,
  clientIp,
  presentedBasicCredential,
  presentedDigest,
  userAgentMismatch,
  userAgentOf,
} from './request';
import { loadTemplates } from './template-check';
import type { TemplateSet } from './templates';
import { tlsServerOptions } from './tls';
import { Gate, UpstreamDown, type UpstreamFile } from './upstream';
import { matchFile, moduleFor, type FileMatch, type VendorModule } from './vendors';

interface ProvisioningDeps {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  /** Defaults to papgate's templates and the operator's (PROVISIONING_TEMPLATES_DIR), loaded and checked here. */
  readonly templates?: TemplateSet;
  /** Defaults to a registry of its own. */
  readonly metrics?: Metrics;
  /** Serve HTTPS with these files (read now; `reloadTls` re-reads them); absent: plain HTTP. */
  readonly tls?: ProvisioningTlsConfig;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** How far a provisioning request got, for its reply's metric labels (null: not routed). */
    provisioning: Labels | null;
  }
}

/** How far a request got: its reply's metric labels. */
interface Labels {
  vendor: ProvisioningVendor;
  decision: ProvisioningDecision;
  reason: ProvisioningReason;
}

/** The parts of a request the answer depends on. */
interface Request {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

const MAX_URL_LENGTH = 512;
/** Rendered bodies kept (see BodyCache); a few KB each. */
const MAX_CACHED_BODIES = 10_000;
/** `/<file>` or `/d/<credential>/<file>`; file names are plain: no separators, no encoding. */
const PATH = /^\/(?:d\/([A-Za-z0-9_-]{1,128})\/)?([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/;
/** What the onRequest hook below refuses outright (nothing is read from disk anyway). */
const TRICKS = /\.\.|\\|%|\0/;
/** Looked up for requests that name no MAC, so every 404 costs the same store work. */
const DUMMY_MAC = '000000000000' as Mac;
/** Devices (and client addresses) remembered for the one-script path; beyond it the oldest go. */
const MAX_HINTS = 100_000;
/**
 * Client addresses whose whitelist candidates (and miss client) are kept. Few: an IPv6 address has
 * 129 candidates (about 5 KB), a site's phones share one address, and anyone can send from many.
 */
const MAX_CACHED_ADDRESSES = 4096;
/** File names whose readings by every family are kept (a phone asks for the same names each time). */
const MAX_CACHED_FILE_NAMES = 4096;

/** What a request was decided to get, as both paths answer it (`decided` in the server). */
type Decided =
  | { readonly kind: 'challenge'; readonly needsReset: boolean; readonly stale: boolean }
  | (MinimalKind & { readonly device: RenderedDevice; readonly tenantSettings: TenantSettings })
  | {
      readonly kind: 'full';
      readonly device: RenderedDevice;
      readonly credential: string;
      readonly tenantSettings: TenantSettings;
      /** Gate mode: the upstream's file papgate's goes over (null: papgate's alone). */
      readonly upstream: UpstreamFile | null;
    };

/** `answer` with the file's settings, without a turn of the event loop when they are kept. */
function withSettings(
  s: Promise<FileSettings> | FileSettings,
  answer: (s: FileSettings) => Answer,
): Promise<Answer> | Answer {
  return s instanceof Promise ? guarded(s).then(answer) : answer(s);
}

/** Thrown for any store failure: the answer is 503, never a downgraded configuration. */
class StoreDown extends Error {}

async function guarded<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new StoreDown((err as Error).message, { cause: err });
  }
}

/**
 * The provisioning HTTP server (docs/phones.md): answers the file names phones request with a
 * minimal or full configuration, as `decideProvisioning` says. Not yet listening. With `tls` it
 * is the HTTPS server; unusable files throw TlsFileError here.
 *
 * A plain GET of a file name (what phones send) is answered by a front handler on the Node server
 * itself; everything else, and everything once shutdown has begun, goes through fastify, whose
 * hooks refuse what the front handler never takes. Both answer through `serve`.
 */
export function createProvisioningServer(deps: ProvisioningDeps): FastifyInstance {
  const { config, store, log } = deps;
  const now = deps.now ?? Date.now;
  const templates = deps.templates ?? loadTemplates(config);
  /** Digest nonces: signed with the secret the SIP edge's are (kept in Redis), SIP_NONCE_SECONDS long. */
  const nonces = new SipStore(store.redis, { nonceSeconds: config.sip.nonceSeconds, now });
  const metrics = deps.metrics ?? new Metrics();
  const files = new ConfigFiles(config, templates, MAX_CACHED_BODIES);
  /** The files' setting items, kept as long as their bodies could be. */
  const settings = new FileSettingsSource(
    config,
    new Settings(store.redis, { eventsMaxLen: config.eventsMaxLen }),
    MAX_CACHED_BODIES,
    now,
  );
  const gate = new Gate(config.provisioningUpstream, metrics, log, now);
  const basePath = new URL(config.provisioningBaseUrl).pathname.replace(/\/+$/, '');
  const misses = new MissLimit({
    prefix: config.provisioningMissPrefix,
    windowSeconds: config.provisioningMissWindowSeconds,
    now,
    maxAddresses: MAX_CACHED_ADDRESSES,
  });
  /** What `quick` assumes of devices and addresses. */
  const cache = new QuickCache({ devices: MAX_HINTS, addresses: MAX_CACHED_ADDRESSES });
  /** matchFile per name: pure, and it tries every family's patterns. */
  const fileNames = new BoundedMap<string, ReturnType<typeof matchFile>>(MAX_CACHED_FILE_NAMES, shortText);
  let seq = 0;
  /** Refusals are logged per client and window: a flood of them is one client's few lines. */
  const logLimit = new LogLimit({
    perClient: config.traffic.perClient,
    windowMs: config.traffic.windowSeconds * 1000,
    now,
  });
  const limitedWarn = (ip: string, fields: object, msg: string, reason?: string) =>
    logLimit.line(log, 'warn', clientOf(ip, config.traffic.clientPrefix), fields, msg, reason);
  /**
   * 403, labelled and logged within the client's share; each reason its own share: a flood of wrong
   * credentials must not silence a certificate mismatch.
   */
  const refused = (labels: Labels, ip: string, reason: ProvisioningRefusal, fields: object): Answer => {
    labels.reason = reason;
    limitedWarn(
      ip,
      { req: ++seq, ip, outcome: 'refused', reason, ...fields },
      'provisioning refused',
      reason,
    );
    return plain(403);
  };

  // Set right below, before the server can take a request.
  let lifecycle: ReturnType<typeof installEdgeLifecycle> | null = null;
  const front: FrontHandler = (req, res, next) => {
    const url = req.url ?? '';
    const len = req.headers['content-length'];
    if (
      req.method !== 'GET' ||
      lifecycle === null ||
      lifecycle.closing() ||
      !PATH.test(basePath && url.startsWith(`${basePath}/`) ? url.slice(basePath.length) : url) ||
      TRICKS.test(url) ||
      (len !== undefined && len !== '0') ||
      req.headers['transfer-encoding'] !== undefined
    ) {
      next(req, res);
      return;
    }
    const labels: Labels = { vendor: 'none', decision: 'none', reason: 'none' };
    void serve(req as IncomingMessage & Request, labels)
      .then((a) => {
        write(res, a);
        metrics.provisioningReply(labels.vendor, labels.decision, a.status, labels.reason);
        lifecycle!.answered();
      })
      .catch((err: unknown) => {
        // `serve` never throws: this is the answer's socket failing under it.
        log.error({ err }, 'provisioning answer failed');
        res.destroy();
      });
  };

  const base = deps.tls ? httpsServerOptions(config, tlsServerOptions(deps.tls)) : httpServerOptions(config);
  const app = Fastify({
    ...withFrontHandler(base, front),
    bodyLimit: 1024,
    routerOptions: { maxParamLength: 256 },
    frameworkErrors: (_err, _req, r) => reply(r as FastifyReply, plain(400)),
  });
  lifecycle = installEdgeLifecycle(app, (r, status, headers) => reply(r, plain(status, headers)), {
    allow: 'GET, HEAD',
    contentType: 'text/plain; charset=utf-8',
    body: STATUS_TEXT[405]!,
  });
  app.decorateRequest('provisioning', null);
  // The Digest secret is read (or created) before the first phone asks: a challenge, which answers
  // anyone, then never writes to Redis. Redis still connecting at start (the usual case when the
  // service starts with it) is no fault: the first challenge reads the secret then.
  app.addHook('onReady', async () => {
    await nonces.prepare().catch((err: unknown) => log.debug({ err }, 'Digest nonce secret not read yet'));
  });
  // Every reply, refusals by the hooks and the router included; a callback hook costs no promise.
  app.addHook('onResponse', (req, r, done) => {
    metrics.provisioningReply(
      req.provisioning?.vendor ?? 'none',
      req.provisioning?.decision ?? 'none',
      r.statusCode,
      req.provisioning?.reason ?? 'none',
    );
    done();
  });

  /**
   * 401 for a device that holds a credential the request did not carry: the phone answers with the
   * HTTP credentials of its full configuration (user = MAC, password = credential). Nothing of
   * value in the body; never a miss. `stale`: a Digest answer on a nonce that ran out.
   */
  const challenge = async (module: VendorModule, stale: boolean): Promise<Answer> =>
    plain(401, {
      'www-authenticate':
        module.httpAuth === 'Digest'
          ? challengeHeader(PROVISIONING_REALM, await guarded(nonces.issueNonce()), stale)
          : `Basic realm="${PROVISIONING_REALM}"`,
    });

  /** The answer to a decided request and its metric label: the same on the quick and the long way. */
  const decided = (
    labels: Labels,
    module: VendorModule,
    fm: { template: string },
    d: Decided,
  ): Promise<Answer> | Answer => {
    switch (d.kind) {
      case 'challenge':
        labels.decision = d.needsReset ? 'reset' : 'challenge';
        return challenge(module, d.stale);
      case 'minimal': {
        const { device, tenantSettings, ...what } = d;
        labels.decision = what.display === 'reset' ? 'reset' : 'minimal';
        return withSettings(settings.minimal(module, device, tenantSettings), (s) =>
          files.minimal(module, fm, device, what, s),
        );
      }
      case 'full': {
        labels.decision = 'full';
        return withSettings(settings.full(module, d.device, d.tenantSettings), (s) => {
          if (d.upstream === null) return files.full(module, fm, d.device, d.credential, s);
          const own = files.full(module, fm, d.device, d.credential, gate.yieldTo(d.upstream, s));
          return gate.merge(d.upstream, own);
        });
      }
    }
  };

  /**
   * The credential a request carries: in the path, else as HTTP Basic credentials whose user is
   * the MAC, else as a Digest answer (user: the MAC as papgate writes it) on a nonce papgate signed
   * (one that ran out is `stale`: asked again).
   */
  const presentedBy = async (
    req: Request,
    mac: Mac,
    pathCredential: string | null,
  ): Promise<PresentedCredential | null> => {
    const basic = pathCredential ?? presentedBasicCredential(req.headers.authorization, mac);
    if (basic !== null) return { kind: 'secret', credential: basic };
    const answer = presentedDigest(req.headers.authorization, mac, req.url);
    if (answer === null) return null;
    if ((await guarded(nonces.checkNonce(answer.nonce, answer.nc))) === 'stale') return { kind: 'stale' };
    return { kind: 'digest', answer, method: req.method };
  };

  /** Every 404 goes through here: same body, same headers, the same store work before it. */
  const miss = async (ip: string, client: string, lookup: boolean): Promise<Answer> => {
    if (lookup) await guarded(store.provisioningState(DUMMY_MAC, ip, client));
    const count = await guarded(store.countMiss(client, config.provisioningMissWindowSeconds));
    if (count > config.provisioningMissLimit) {
      misses.block(client);
      limitedWarn(ip, { ip, client, misses: count }, 'provisioning misses over the limit');
      return misses.tooMany();
    }
    return plain(404);
  };

  app.addHook('onRequest', async (req, r) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(r, plain(405, { allow: 'GET, HEAD' }));
    if (req.url.length > MAX_URL_LENGTH) return reply(r, plain(414));
    const len = req.headers['content-length'];
    if ((len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined)
      return reply(r, plain(413));
    // Traversal and encoding tricks are refused outright (nothing is read from disk anyway).
    if (TRICKS.test(req.url)) return reply(r, plain(400));
    return undefined;
  });

  app.setNotFoundHandler((_req, r) => reply(r, plain(404)));
  app.setErrorHandler((err: { statusCode?: number }, _req, r) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) log.error({ err }, 'provisioning request failed');
    return reply(r, plain(status === 404 ? 404 : status));
  });

  /** Never throws: a store failure is 503, anything else 500. */
  const serve = async (req: Request, labels: Labels): Promise<Answer> => {
    try {
      return await handle(req, labels);
    } catch (err) {
      if (err instanceof StoreDown) {
        // Outages are logged once per outage by the store connection, not once per request.
        if (!isStoreUnavailable(err.cause)) log.error({ err: err.message }, 'provisioning: store error');
        return plain(503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      }
      // Logged by the gate, once per family and interval.
      if (err instanceof UpstreamDown) return plain(503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
      log.error({ err }, 'provisioning request failed');
      return plain(500);
    }
  };

  const handle = async (req: Request, labels: Labels): Promise<Answer> => {
    let ip: string;
    try {
      ip = clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], config.trustProxy);
    } catch {
      return plain(400);
    }
    const q = req.url.indexOf('?');
    let p = q === -1 ? req.url : req.url.slice(0, q);
    if (basePath && p.startsWith(`${basePath}/`)) p = p.slice(basePath.length);
    const m = PATH.exec(p);
    const pathCredential = m?.[1] ?? null;
    const name = m?.[2] ?? '';
    // The TLS listener's CA (SIP_TLS_CA_FILE), named in minimal files: public, the same for all.
    const sipCa = config.sip.tls?.ca ?? null;
    if (sipCa !== null && pathCredential === null && name === SIP_CA_FILE)
      return file('application/x-pem-file', sipCa);
    // Outside that shape only boot files count (Gigaset bases ask for `/42/2/master.bin`).
    const candidates = m
      ? fileNames.memo(name, () => matchFile(name))
      : matchFile(p.slice(p.lastIndexOf('/') + 1)).filter((c) => c.match.role === 'boot');

    const common = candidates.find((c) => c.match.role === 'common');
    if (common && common.match.role === 'common') return files.common(common.module, common.match);

    const named = candidates.find((c) => c.match.role === 'config' || c.match.role === 'pointer');
    // Boot files are asked for by every phone that reboots: never a miss, never throttled.
    if (!named && candidates.some((c) => c.match.role === 'boot')) return plain(404);
    const client = misses.client(ip);
    if (misses.isBlocked(client)) return misses.tooMany();
    if (!named || (named.match.role !== 'config' && named.match.role !== 'pointer'))
      return miss(ip, client, true);
    const mac = named.match.mac;
    const hint = cache.hints.get(mac);
    // A Digest answer is checked against the device's record, which only the long way reads. A
    // gated family takes the long way: the one script records a full provisioning (a new credential)
    // before the upstream could be asked, and asking it first would ask it for minimal files too.
    if (
      hint !== undefined &&
      req.method === 'GET' &&
      !answersWithDigest(req.headers.authorization) &&
      !gate.covers(moduleFor(hint.vendor))
    ) {
      const answer = await quick(req, labels, { ip, client, name, mac, pathCredential, hint, candidates });
      if (answer !== null) return answer;
      cache.hints.delete(mac);
    }

    // The miss count is shared by every papgate process (read beside the device, no extra round
    // trip): an address over the limit gets 429 from all of them, also for a MAC that exists, which
    // a process that had not seen the misses would otherwise confirm with a configuration.
    let state = await guarded(store.provisioningState(mac, ip, client));
    if (state.misses > config.provisioningMissLimit) {
      misses.block(client);
      return misses.tooMany();
    }
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) state = await guarded(store.provisioningState(mac, ip, client));
      const { device } = state;
      const module = device ? moduleFor(device.vendor) : null;
      const fm = module?.matchFile(name) ?? null;
      // A file name this device's vendor never requests is as unknown as an unknown MAC.
      if (!device || !module || !fm || (fm.role !== 'config' && fm.role !== 'pointer') || fm.mac !== mac)
        return miss(ip, client, false);
      labels.vendor = device.vendor;
      if (store.provisionsInOneScript)
        cache.hints.set(mac, {
          tenant: device.tenant,
          vendor: device.vendor,
          model: device.model,
          policy: state.tenant?.deviceCertificate ?? DEFAULT_DEVICE_CERTIFICATE_POLICY,
        });
      const done = await provision(req, labels, {
        ip,
        name,
        device,
        state,
        module,
        fm,
        pathCredential,
        retry: attempt === 0,
      });
      if (done !== 'retry') return done;
    }
  };

  const provision = async (
    req: Request,
    labels: Labels,
    r: {
      ip: string;
      name: string;
      device: Device;
      state: ProvisioningState;
      module: VendorModule;
      fm: Extract<FileMatch, { role: 'config' | 'pointer' }>;
      pathCredential: string | null;
      retry: boolean;
    },
  ): Promise<Answer | 'retry'> => {
    const { ip, name, device, module, fm } = r;
    const { tenant: tenantRecord, whitelist: permanentWhitelist, temporaryWhitelistUntil } = r.state;
    const tenant = device.tenant;
    // Only refusals (per client, see logLimit) and the rare retry are logged: a successful request
    // writes no log line.
    const userAgent = userAgentOf(req);
    const certificatePolicy = tenantRecord?.deviceCertificate ?? DEFAULT_DEVICE_CERTIFICATE_POLICY;
    const { certificate, audit } = certificateOf(req, module, device.mac, userAgent, certificatePolicy);
    const note = (outcome: string, reason: string, fields: Readonly<Record<string, string>> = {}) =>
      guarded(
        store.recordProvisioning(tenant, device.mac, {
          ip,
          outcome,
          reason,
          file: name,
          audit: { ...audit, ...fields },
        }),
      );

    /** Noted on the device and in the traffic; logged within the client's share. */
    const refuse = async (reason: ProvisioningRefusal, fields: Readonly<Record<string, string>> = {}) => {
      await note('refused', reason, fields);
      return refused(labels, ip, reason, { mac: device.mac, tenant, file: name, ...fields, ...audit });
    };

    if (userAgentMismatch(module, device, userAgent)) {
      // Said to the operator with what was seen; a model they can accept is named (note.lua).
      const seen = strangerText(String(req.headers['user-agent']));
      const model = acceptableModel(module, device, userAgent!);
      return refuse('user_agent_mismatch', {
        userAgent: seen,
        ...(model === null ? {} : { seenModel: strangerText(model, 64) }),
      });
    }

    const presented = await presentedBy(req, device.mac, r.pathCredential);
    const t = now();
    const decision = decideProvisioning({
      device: { ...device, ...settle(device, t) },
      presented,
      ip,
      permanentWhitelist,
      temporaryWhitelistUntil,
      now: t,
      certificate,
      certificatePolicy,
    });

    if (decision.kind === 'refuse') return refuse(decision.reason);
    if (fm.role === 'pointer') {
      // Points at the next file only; the same for minimal and full, so nothing is recorded.
      return files.pointer(module, fm, device);
    }
    // HEAD changes nothing: a credential issued into a body nobody receives would lock the phone out.
    if (decision.kind === 'challenge') {
      if (req.method !== 'HEAD')
        await note('challenge', decision.needsReset ? 'needs_reset' : 'no_credential');
      return decided(labels, module, fm, {
        kind: 'challenge',
        needsReset: decision.needsReset && req.method !== 'HEAD',
        stale: presented?.kind === 'stale',
      });
    }
    if (req.method === 'HEAD') return file(module.contentType);
    if (decision.kind === 'minimal') {
      await note('minimal', decision.display);
      return decided(labels, module, fm, {
        kind: 'minimal',
        device,
        display: decision.display,
        ip,
        failedUntil: settle(device, t).failedUntil,
        language: device.language ?? tenantRecord?.language,
        timeZone: tenantRecord?.timeZone,
        now: t,
        tenantSettings: r.state.tenantSettings,
      });
    }

    // Gate mode: the upstream's file before anything is recorded, so that an upstream that fails
    // leaves no new credential the phone never received (it would be challenged for it for good).
    const upstream = gate.covers(module) ? await gate.fetch(module, device.mac, name, userAgent) : null;
    // The same credential back (a Digest answer proves it without carrying it: the kept one).
    const credential =
      decision.reason !== 'credential'
        ? generateDeviceCredential()
        : presented?.kind === 'secret'
          ? presented.credential
          : device.digestCredential!;
    // Recorded before sending: once the phone holds the credential, the store must know its hash.
    const recorded = await guarded(
      store.recordFullProvisioning(tenant, device.mac, {
        generation: device.generation,
        reason: decision.reason,
        credentialHash: hashCredential(credential),
        digestCredential: module.httpAuth === 'Digest' ? credential : null,
        ip,
        file: name,
        audit,
      }),
    );
    if (recorded !== 'ok') {
      // Reset or deleted between our read and the write: decide again once on fresh data.
      log.info(
        { req: ++seq, mac: device.mac, tenant, ip, file: name, recorded },
        'device changed during provisioning',
      );
      if (r.retry) return 'retry';
      return plain(503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    }
    return decided(labels, module, fm, {
      kind: 'full',
      device,
      credential,
      tenantSettings: r.state.tenantSettings,
      upstream,
    });
  };

  /**
   * A device seen before is decided and recorded by one script (Store.provision) on what this
   * process assumes of it: its tenant, vendor and model and the tenant's certificate policy,
   * which the script checks. Null: the long way decides (first request, a changed assumption, a
   * pointer file, a User-Agent to refuse, a Cluster).
   */
  const quick = async (
    req: Request,
    labels: Labels,
    r: {
      ip: string;
      client: string;
      name: string;
      mac: Mac;
      pathCredential: string | null;
      hint: Hint;
      /** Every family's reading of `name`. */
      candidates: ReturnType<typeof matchFile>;
    },
  ): Promise<Answer | null> => {
    const { ip, name, mac, hint } = r;
    const module = moduleFor(hint.vendor);
    const fm = r.candidates.find((c) => c.module === module)?.match ?? null;
    if (fm === null || fm.role !== 'config' || fm.mac !== mac) return null;
    const userAgent = userAgentOf(req);
    if (userAgentMismatch(module, { mac, model: hint.model }, userAgent)) return null;
    const entries = cache.containing(ip);
    if (entries === null) return null;
    const { certificate, audit } = certificateOf(req, module, mac, userAgent, hint.policy);
    const presented = r.pathCredential ?? presentedBasicCredential(req.headers.authorization, mac);
    // A request with a credential gets it back or nothing: no bypass, so no new credential.
    const fresh = presented === null ? generateDeviceCredential() : null;
    const done = await guarded(
      store.provision(hint.tenant, mac, {
        vendor: hint.vendor,
        model: hint.model,
        policy: hint.policy,
        refusal: certificateRefusal(hint.policy, certificate),
        presentedCredential: presented,
        freshCredential: fresh,
        digest: module.httpAuth === 'Digest',
        challengeGraceMs: CHALLENGE_GRACE_MS,
        ip,
        entries,
        missClient: r.client,
        file: name,
        missLimit: config.provisioningMissLimit,
        audit,
      }),
    );
    if (done === null || done.kind === 'unsure') return null;
    if (done.kind === 'limited') {
      misses.block(r.client);
      return misses.tooMany();
    }
    labels.vendor = hint.vendor;
    switch (done.kind) {
      case 'refused':
        return refused(labels, ip, done.reason, { mac, tenant: hint.tenant, file: name, ...audit });
      case 'challenge':
        return decided(labels, module, fm, { kind: 'challenge', needsReset: done.needsReset, stale: false });
      case 'full':
        return decided(labels, module, fm, {
          kind: 'full',
          device: done.device,
          credential: (done.reason === 'credential' ? presented : fresh)!,
          tenantSettings: done.tenantSettings,
          upstream: null,
        });
      case 'minimal':
        return decided(labels, module, fm, {
          kind: 'minimal',
          device: done.device,
          display: done.display,
          ip,
          failedUntil: done.failedUntil,
          language: done.device.language ?? done.tenantLanguage,
          timeZone: done.tenantTimeZone,
          now: now(),
          tenantSettings: done.tenantSettings,
        });
    }
  };

  app.get('/*', async (req, r) => {
    req.provisioning = { vendor: 'none', decision: 'none', reason: 'none' };
    return reply(r, await serve(req, req.provisioning));
  });

  return app;
}

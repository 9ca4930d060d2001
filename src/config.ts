import fs from 'node:fs';
import ipaddr from 'ipaddr.js';
import path from 'node:path';
import type { AuthPolicy } from './domain/auth';
import type { GatedFamily } from './domain/gate';
import { splitHostPort } from './domain/hostport';
import { parseExtraModels, type Language } from './domain/device';
import type { DeclaredModels } from './domain/models';
import type { PrefixLengths } from './domain/prefix';
import { isCommonField, parseLayerChange, type CommonField, type LayerItems } from './domain/setting-layers';
import type { TrafficPolicy } from './domain/traffic';
import type { WhitelistEntry } from './domain/whitelist';
import { ConfigError, Invalid, isLoopback } from './config/kinds';
import { caCertificates } from './lib/pem';
import { VARIABLES, type MediaServerAddress, type Values } from './config/variables';

export { ConfigError };

export interface Config {
  readonly redisUrl: string | null;
  /** Redis Cluster seed nodes (REDIS_CLUSTER_NODES); empty: a single server (REDIS_URL or embedded). */
  readonly redisClusterNodes: readonly string[];
  readonly dataDir: string;
  readonly redisServerBin: string;
  /** Consecutive failed restarts of the embedded redis-server before papgate gives up (exit 1). */
  readonly embeddedRedisRestarts: number;
  readonly adminHost: string;
  readonly adminPort: number;
  /** null: main.ts generates one and stores it in `<dataDir>/admin-token`. */
  readonly adminToken: string | null;
  /** Where the CLI reaches the admin API (ADMIN_URL); null: http://adminHost:adminPort. */
  readonly adminUrl: string | null;
  readonly provisioningHost: string;
  readonly provisioningPort: number;
  /** false (PROVISIONING_HTTP=0): no plain HTTP listener, provisioning over HTTPS only. */
  readonly provisioningHttp: boolean;
  /** HTTPS on PROVISIONING_HOST (PROVISIONING_TLS_CERT and _KEY); null: plain HTTP only. */
  readonly provisioningTls: ProvisioningTlsConfig | null;
  /** Base URL phones use to reach the provisioning server (written into full configurations). */
  readonly provisioningBaseUrl: string;
  /** The operator's templates over papgate's (PROVISIONING_TEMPLATES_DIR); null: papgate's only. */
  readonly provisioningTemplatesDir: string | null;
  readonly provisioningIntervalSeconds: number;
  /** Re-provisioning interval written into minimal configurations, so a waiting phone re-checks soon. */
  readonly provisioningMinimalIntervalSeconds: number;
  /** The operator default settings layer (SETTINGS_DEFAULT_FILE), checked. */
  readonly settingsDefault: LayerItems;
  /** Bytes of one tenant's stored settings layers, all together (SETTINGS_TENANT_MAX_BYTES). */
  readonly settingsTenantMaxBytes: number;
  /** Models the operator declares beyond those papgate knows (EXTRA_MODELS), per vendor. */
  readonly extraModels: DeclaredModels;
  /** The common settings the minimal configuration carries (MINIMAL_SETTINGS). */
  readonly minimalSettings: readonly CommonField[];
  /** Provisioning misses (unknown MAC / path) one client may cause per window before it gets 429. */
  readonly provisioningMissLimit: number;
  readonly provisioningMissWindowSeconds: number;
  /** The miss limit counts per client network of these lengths (PROVISIONING_MISS_PREFIX_IPV4/_IPV6). */
  readonly provisioningMissPrefix: PrefixLengths;
  /** Gate mode (docs/gate-mode.md); null: no family has an upstream. */
  readonly provisioningUpstream: UpstreamConfig | null;
  readonly trustProxy: readonly WhitelistEntry[];
  readonly maxBodyBytes: number;
  /** Both HTTP servers: time to receive a request's headers, and the whole request. */
  readonly httpHeadersTimeoutMs: number;
  readonly httpRequestTimeoutMs: number;
  /** How long in-flight requests and IVR calls may run on after SIGTERM. */
  readonly shutdownGraceMs: number;
  /** A store command not answered within this is a store outage (503), not a hang. */
  readonly storeTimeoutMs: number;
  /** At most one log line per this interval while the store is unavailable. */
  readonly storeOutageLogIntervalMs: number;
  readonly auth: AuthPolicy;
  /**
   * What counts as one source of PAP guesses (`sip:`, `pbx:`, `api:operator@`) and of IVR calls:
   * the caller's network of these lengths (SOURCE_PREFIX_IPV4/_IPV6).
   */
  readonly sourcePrefix: PrefixLengths;
  readonly eventsMaxLen: number;
  readonly traffic: TrafficPolicy;
  /** Other tenants' MACs a tenant's tokens may be told of per window (the operator is not counted). */
  readonly macProbe: { readonly limit: number; readonly windowSeconds: number };
  /**
   * Reads of a whole tenant (device list, CSV export, one device's events) at once per tenant, and
   * how long one more waits for its turn.
   */
  readonly tenantReads: { readonly perTenant: number; readonly waitMs: number };
  /**
   * Device additions (one device, a CSV import) of one tenant at once, counted while they wait for
   * the admin server's one-at-a-time queue, and how long one more waits for its turn.
   */
  readonly tenantAdditions: { readonly perTenant: number; readonly waitMs: number };
  /** Entries of one tenant's permanent whitelist. */
  readonly whitelistMaxEntries: number;
  readonly defaultLanguage: Language;
  readonly emergencyNumbers: readonly string[];
  readonly authServiceNumber: string;
  /** IANA time zone of lock ends on phone displays, for tenants that set none. */
  readonly defaultTimeZone: string;
  /** POSTed a JSON alert when a source crosses a guessing limit; null: alerts are logged only. */
  readonly alertWebhookUrl: string | null;
  readonly sip: SipConfig;
  readonly metrics: MetricsConfig;
  readonly logLevel: string;
}

/** The operator's provisioning server papgate's full files are merged over (docs/gate-mode.md). */
export interface UpstreamConfig {
  /** URL pattern per family (see parseUpstreams); a family not named is rendered by papgate alone. */
  readonly patterns: Readonly<Partial<Record<GatedFamily, string>>>;
  /** papgate's own HTTP Basic credentials to the upstream; null: none sent. */
  readonly basic: { readonly user: string; readonly password: string } | null;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly cacheEntries: number;
  readonly cacheSeconds: number;
}

/** Files re-read on SIGHUP, so that a renewed certificate needs no restart. */
export interface ProvisioningTlsConfig {
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM bundle of the vendor CAs whose device certificates identify phones; null: none asked for. */
  readonly deviceCaFile: string | null;
}

/**
 * Where GET /metrics is served, without a token. /healthz and /readyz are served on the admin
 * listener and, with METRICS_PORT, on the metrics listener too.
 */
export interface MetricsConfig {
  /**
   * 'admin': on the admin listener (ADMIN_HOST is loopback, or METRICS_PUBLIC=1); 'own': on
   * METRICS_HOST:METRICS_PORT only; 'off': ADMIN_HOST is not loopback and METRICS_PUBLIC is unset.
   */
  readonly serve: 'admin' | 'own' | 'off';
  readonly host: string;
  readonly port: number;
}

export interface SipConfig {
  /** false when DRACHTIO_HOST is unset: the HTTP side runs alone. */
  readonly enabled: boolean;
  readonly drachtio: { readonly host: string; readonly port: number; readonly secret: string };
  readonly freeswitch: {
    /** FREESWITCH_HOSTS (or FREESWITCH_HOST alone): IVR calls are spread across these. */
    readonly servers: readonly MediaServerAddress[];
    readonly secret: string;
    /** Address FreeSWITCH's outbound event socket connects back to. */
    readonly listenAddress: string;
    /** Its port for the first server; the n-th of `servers` connects back to this + n - 1. */
    readonly listenPort: number;
  };
  /** host[:port] where phones reach drachtio-server (registrar and outbound proxy). */
  readonly registrar: string;
  readonly realm: string;
  /** The restricted password is derived per fetching address and checked against the SIP source address. */
  readonly bindToProvisioningIp: boolean;
  /** SIP_REQUIRE_TLS */
  readonly requireTls: boolean;
  /**
   * SIP_TLS_REGISTRAR: where the minimal configurations of the phones that can send account 1 over
   * TLS (with SRTP mandatory); `ca`: SIP_TLS_CA_FILE's certificates (PEM), served as SIP_CA_FILE (provisioning/scope.ts).
   * null: every minimal configuration asks for UDP.
   */
  readonly tls: { readonly registrar: string; readonly ca: string | null } | null;
  readonly emergencyRoute: string | null;
  /** The further routes a site record may name (EMERGENCY_SITE_ROUTES); any other goes to EMERGENCY_ROUTE. */
  readonly emergencySiteRoutes: readonly string[];
  /** E.164 identity of emergency calls without an allowed site caller ID (EMERGENCY_CALLER_ID). */
  readonly emergencyCallerId: string | null;
  /** Whether emergency routes accept a location (RFC 6442 PIDF-LO); a site can say otherwise for its route. */
  readonly emergencySendLocation: boolean;
  readonly trustedPeers: readonly WhitelistEntry[];
  readonly deviceHeader: string;
  /** Header in which a trusted PBX names the phone's public address (what a PAP success whitelists). */
  readonly deviceAddressHeader: string;
  readonly promptsDir: string;
  readonly registerExpiresSeconds: number;
  readonly nonceSeconds: number;
  /** New registrations per second before the registrar sheds with 503; 0: no ceiling. */
  readonly registerRateLimit: number;
  /** REGISTERs waiting for the store at once before the registrar sheds with 503. */
  readonly registerMaxPending: number;
  /** How far behind (ms) papgate may be before a new registration, or a challenge's answer, gets 503. */
  readonly overloadBehindMs: number;
  readonly overloadFarBehindMs: number;
  /** Retry-After of a 503 for overload. */
  readonly overloadRetryAfterSeconds: number;
  readonly ivr: {
    readonly firstDigitTimeoutMs: number;
    readonly interDigitTimeoutMs: number;
    readonly overallTimeoutMs: number;
    /** IVR calls at once (FreeSWITCH channels); more get 503. Keep below FreeSWITCH's max-sessions. */
    readonly maxCalls: number;
    /** IVR calls at once of one device (MAC) from one source network, so that one phone cannot hold every channel. */
    readonly maxCallsPerDevice: number;
    /** IVR calls at once from one source network (`sourcePrefix`). */
    readonly maxCallsPerSource: number;
  };
  readonly lockWatchIntervalMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * What the configuration leaves broken that start-up does not refuse: logged at start-up (warn)
 * and shown to the operator (GET /api/v1/session `warnings`), so that nobody learns it from the
 * first emergency call.
 */
export function configWarnings(cfg: Config): string[] {
  const out: string[] = [];
  if (cfg.sip.enabled && cfg.sip.requireTls)
    out.push(
      'SIP_REQUIRE_TLS is set: the phones whose minimal configuration does not ask for TLS and SRTP ' +
        '(Cisco/Linksys, Gigaset bases, Panasonic, Patton, Spectralink, Poly SoundPoint IP 300/500, ' +
        'Grandstream GXP2000 and GXV; ' +
        'docs/phones.md, "SIP over TLS and SRTP") are refused (403) and cannot be authenticated; ' +
        'their emergency calls are not refused for their transport',
    );
  const tlsHost = cfg.sip.tls === null ? null : splitHostPort(cfg.sip.tls.registrar).host;
  if (cfg.sip.enabled && tlsHost !== null && ipaddr.isValid(tlsHost))
    out.push(
      `SIP_TLS_REGISTRAR names an address (${tlsHost}): the phones check the server's name (Yealink ` +
        'cn_validation, Poly strictCertCommonNameValidation, Grandstream P2311 by RFC 5922, which has no ' +
        'address form) and refuse its certificate; give the host name the certificate names',
    );
  if (cfg.sip.enabled && cfg.sip.tls?.ca)
    out.push(
      'SIP_TLS_CA_FILE is set: only Yealink phones are given that CA (the other families have no item ' +
        'papgate can cite), and snom, Poly and Grandstream phones check the TLS listener against the CAs ' +
        'they hold already: their registrations fail unless its certificate is also issued by one of those',
    );
  if (cfg.sip.enabled && cfg.sip.emergencyRoute === null)
    out.push(
      'EMERGENCY_ROUTE is not set: emergency calls are refused (503, "EMERGENCY CALL CANNOT BE ROUTED") ' +
        "unless the caller's site record names a route of EMERGENCY_SITE_ROUTES; set EMERGENCY_ROUTE",
    );
  return out;
}

/**
 * Prefixes only papgate's variables use. Not DRACHTIO_ (drachtio-srf and drachtio-server read their
 * own), REDIS_ (docker-compose's REDIS_PASSWORD), PAPGATE_ (the scripts'), nor the generic ones
 * (HTTP_PROXY, LOG_...).
 */
const OWN_PREFIXES = [
  'ADMIN_',
  'AUTH_',
  'EMERGENCY_',
  'FREESWITCH_',
  'GUESS_',
  'IVR_',
  'METRICS_',
  'PROVISIONING_',
  'SETTINGS_',
  'SHUTDOWN_',
  'SIP_',
  'STORE_',
  'TENANT_',
  'TRAFFIC_',
  'WHITELIST_',
];

/**
 * A warning for each variable that looks like papgate's but is none (a typo: its value would be
 * ignored without a word), naming the declared ones of its group.
 */
export function unknownVariables(env: Env): string[] {
  const declared = Object.keys(VARIABLES);
  return Object.keys(env)
    .filter((name) => OWN_PREFIXES.some((p) => name.startsWith(p)) && !declared.includes(name))
    .sort()
    .map((name) => {
      const parts = name.split('_');
      // its group of two words (SIP_OVERLOAD_), else of one (IVR_)
      const near = [2, 1]
        .map((n) => parts.slice(0, n).join('_') + '_')
        .map((g) => ({ g, found: declared.filter((d) => d.startsWith(g)) }))
        .find(({ found }) => found.length > 0);
      const group = near ? `; declared ones beginning ${near.g}: ${near.found.join(', ')}` : '';
      return `${name} is not a papgate variable and is ignored${group} (docs/configuration.md)`;
    });
}

/**
 * Reads and validates every variable once, in the order variables.ts declares them; throws
 * ConfigError naming the variable. Paths are taken relative to `cwd`.
 */
export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const read: Record<string, unknown> = {};
  // A rule may read only the variables declared before its own.
  const before = new Proxy(read, {
    get(values, name: string) {
      if (!(name in values)) throw new Error(`a rule reads ${name} before it is declared`);
      return values[name];
    },
  });
  for (const [name, variable] of Object.entries(VARIABLES)) {
    try {
      read[name] = (variable.read as (raw: string | undefined, before: unknown) => unknown)(
        env[name],
        before,
      );
    } catch (err) {
      throw err instanceof Invalid ? new ConfigError(name, err.message) : err;
    }
  }
  return toConfig(read as Values, cwd);
}

/** The operator default layer: a JSON file of items by family, each checked as an admin's would be. */
function settingsDefault(file: string | null): LayerItems {
  if (file === null) return {};
  try {
    return parseLayerChange({ items: JSON.parse(fs.readFileSync(file, 'utf8')) as unknown }, false).items;
  } catch (err) {
    throw new ConfigError(
      'SETTINGS_DEFAULT_FILE',
      `${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/**
 * SIP_TLS_REGISTRAR and its CA, only on the operator's word that the emergency routes answer SDES
 * (SIP_TLS_EMERGENCY_SRTP): in every process, since the provisioning ones hand out the files that
 * make the phones demand SRTP, and a split deployment may run no SIP side beside them.
 */
function sipTls(
  registrar: string | null,
  emergencySrtp: boolean,
  caFile: string | null,
): Config['sip']['tls'] {
  if (registrar === null) return null;
  if (!emergencySrtp)
    throw new ConfigError(
      'SIP_TLS_EMERGENCY_SRTP',
      'must be 1 with SIP_TLS_REGISTRAR, once the emergency routes answer SDES SRTP (or an SBC before them ' +
        'ends it): the phones given TLS demand SRTP on emergency calls too (docs/calls.md, "SIP over TLS")',
    );
  return Object.freeze({ registrar, ca: sipCa(caFile) });
}

/** SIP_TLS_CA_FILE's certificates, each a CA, as one PEM text. */
function sipCa(file: string | null): string | null {
  if (file === null) return null;
  try {
    return `${caCertificates(fs.readFileSync(file, 'utf8')).join('\n')}\n`;
  } catch (err) {
    throw new ConfigError('SIP_TLS_CA_FILE', `${file}: ${(err as Error).message}`);
  }
}

/** The values in the shape the parts are handed, frozen. */
function toConfig(v: Values, cwd: string): Config {
  const file = (f: string | null) => (f === null ? null : path.resolve(cwd, f));
  const sourcePrefix = Object.freeze({ ipv4: v.SOURCE_PREFIX_IPV4, ipv6: v.SOURCE_PREFIX_IPV6 });
  const tls =
    v.PROVISIONING_TLS_PORT === null
      ? null
      : {
          port: v.PROVISIONING_TLS_PORT,
          certFile: file(v.PROVISIONING_TLS_CERT)!,
          keyFile: file(v.PROVISIONING_TLS_KEY)!,
          deviceCaFile: file(v.PROVISIONING_DEVICE_CA),
        };
  const cfg: Config = {
    redisUrl: v.REDIS_URL,
    redisClusterNodes: Object.freeze(v.REDIS_CLUSTER_NODES),
    dataDir: path.resolve(cwd, v.DATA_DIR),
    redisServerBin: v.REDIS_SERVER_BIN,
    embeddedRedisRestarts: v.EMBEDDED_REDIS_RESTARTS,
    adminHost: v.ADMIN_HOST,
    adminPort: v.ADMIN_PORT,
    adminToken: v.ADMIN_TOKEN,
    adminUrl: v.ADMIN_URL,
    provisioningHost: v.PROVISIONING_HOST,
    provisioningPort: v.PROVISIONING_PORT,
    provisioningHttp: v.PROVISIONING_HTTP,
    provisioningTls: tls && Object.freeze(tls),
    provisioningBaseUrl: v.PROVISIONING_BASE_URL,
    provisioningTemplatesDir: file(v.PROVISIONING_TEMPLATES_DIR),
    provisioningIntervalSeconds: v.PROVISIONING_INTERVAL_SECONDS,
    provisioningMinimalIntervalSeconds: v.PROVISIONING_MINIMAL_INTERVAL_SECONDS,
    settingsDefault: Object.freeze(settingsDefault(file(v.SETTINGS_DEFAULT_FILE))),
    settingsTenantMaxBytes: v.SETTINGS_TENANT_MAX_BYTES,
    extraModels: Object.freeze(parseExtraModels(v.EXTRA_MODELS)),
    minimalSettings: Object.freeze(v.MINIMAL_SETTINGS.filter(isCommonField)),
    provisioningMissLimit: v.PROVISIONING_MISS_LIMIT,
    provisioningMissWindowSeconds: v.PROVISIONING_MISS_WINDOW_SECONDS,
    provisioningMissPrefix: Object.freeze({
      ipv4: v.PROVISIONING_MISS_PREFIX_IPV4,
      ipv6: v.PROVISIONING_MISS_PREFIX_IPV6,
    }),
    provisioningUpstream:
      Object.keys(v.PROVISIONING_UPSTREAM).length === 0
        ? null
        : Object.freeze({
            patterns: Object.freeze(v.PROVISIONING_UPSTREAM),
            basic:
              v.PROVISIONING_UPSTREAM_USER === null
                ? null
                : Object.freeze({
                    user: v.PROVISIONING_UPSTREAM_USER,
                    password: v.PROVISIONING_UPSTREAM_PASSWORD!,
                  }),
            timeoutMs: v.PROVISIONING_UPSTREAM_TIMEOUT_MS,
            maxBytes: v.PROVISIONING_UPSTREAM_MAX_BYTES,
            cacheEntries: v.PROVISIONING_UPSTREAM_CACHE_ENTRIES,
            cacheSeconds: v.PROVISIONING_UPSTREAM_CACHE_SECONDS,
          }),
    trustProxy: v.TRUST_PROXY,
    maxBodyBytes: v.MAX_BODY_BYTES,
    httpHeadersTimeoutMs: v.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
    httpRequestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
    shutdownGraceMs: v.SHUTDOWN_GRACE_SECONDS * 1000,
    storeTimeoutMs: v.STORE_TIMEOUT_MS,
    storeOutageLogIntervalMs: v.STORE_OUTAGE_LOG_INTERVAL_SECONDS * 1000,
    auth: Object.freeze({
      maxConsecutiveFailures: v.AUTH_MAX_CONSECUTIVE_FAILURES,
      failedLockSeconds: v.AUTH_FAILED_LOCK_SECONDS,
      maxTotalFailures: v.AUTH_MAX_TOTAL_FAILURES,
      suspendSeconds: v.AUTH_SUSPEND_SECONDS,
      tempWhitelistSeconds: v.AUTH_TEMP_WHITELIST_SECONDS,
      papLifetimeSeconds: v.PAP_LIFETIME_DAYS * 86400,
      guessing: Object.freeze({
        perSource: v.GUESS_LIMIT_PER_SOURCE,
        perSourceTenant: v.GUESS_LIMIT_PER_SOURCE_TENANT,
        windowSeconds: v.GUESS_WINDOW_SECONDS,
      }),
    }),
    sourcePrefix,
    eventsMaxLen: v.EVENTS_MAX_LEN,
    traffic: Object.freeze({
      maxLen: v.TRAFFIC_MAX_LEN,
      perClient: v.TRAFFIC_PER_CLIENT,
      windowSeconds: v.TRAFFIC_WINDOW_SECONDS,
      clientPrefix: sourcePrefix,
    }),
    macProbe: Object.freeze({ limit: v.MAC_PROBE_LIMIT, windowSeconds: v.MAC_PROBE_WINDOW_SECONDS }),
    tenantReads: Object.freeze({ perTenant: v.TENANT_READS, waitMs: v.TENANT_READ_WAIT_MS }),
    tenantAdditions: Object.freeze({ perTenant: v.TENANT_ADDITIONS, waitMs: v.TENANT_ADDITION_WAIT_MS }),
    whitelistMaxEntries: v.WHITELIST_MAX_ENTRIES,
    defaultLanguage: v.DEFAULT_LANGUAGE,
    emergencyNumbers: Object.freeze(v.EMERGENCY_NUMBERS),
    authServiceNumber: v.AUTH_SERVICE_NUMBER,
    defaultTimeZone: v.DEFAULT_TIME_ZONE,
    alertWebhookUrl: v.ALERT_WEBHOOK_URL,
    sip: Object.freeze({
      enabled: v.DRACHTIO_HOST !== '',
      drachtio: Object.freeze({ host: v.DRACHTIO_HOST, port: v.DRACHTIO_PORT, secret: v.DRACHTIO_SECRET }),
      freeswitch: Object.freeze({
        servers: Object.freeze(v.FREESWITCH_HOSTS),
        secret: v.FREESWITCH_SECRET,
        listenAddress: v.FREESWITCH_LISTEN_ADDRESS,
        listenPort: v.FREESWITCH_LISTEN_PORT,
      }),
      registrar: v.SIP_REGISTRAR,
      realm: v.SIP_REALM,
      bindToProvisioningIp: v.SIP_BIND_TO_PROVISIONING_IP,
      requireTls: v.SIP_REQUIRE_TLS,
      tls: sipTls(v.SIP_TLS_REGISTRAR, v.SIP_TLS_EMERGENCY_SRTP, file(v.SIP_TLS_CA_FILE)),
      emergencyRoute: v.EMERGENCY_ROUTE,
      emergencySiteRoutes: Object.freeze(v.EMERGENCY_SITE_ROUTES),
      emergencyCallerId: v.EMERGENCY_CALLER_ID,
      emergencySendLocation: v.EMERGENCY_SEND_LOCATION,
      trustedPeers: Object.freeze(v.SIP_TRUSTED_PEERS),
      deviceHeader: v.SIP_DEVICE_HEADER,
      deviceAddressHeader: v.SIP_DEVICE_ADDRESS_HEADER,
      promptsDir: path.resolve(cwd, v.PROMPTS_DIR),
      registerExpiresSeconds: v.SIP_REGISTER_EXPIRES_SECONDS,
      nonceSeconds: v.SIP_NONCE_SECONDS,
      registerRateLimit: v.SIP_REGISTER_RATE_LIMIT,
      registerMaxPending: v.SIP_REGISTER_MAX_PENDING,
      overloadBehindMs: v.SIP_OVERLOAD_BEHIND_MS,
      overloadFarBehindMs: v.SIP_OVERLOAD_FAR_BEHIND_MS,
      overloadRetryAfterSeconds: v.SIP_OVERLOAD_RETRY_AFTER_SECONDS,
      ivr: Object.freeze({
        firstDigitTimeoutMs: v.IVR_FIRST_DIGIT_TIMEOUT_MS,
        interDigitTimeoutMs: v.IVR_INTER_DIGIT_TIMEOUT_MS,
        overallTimeoutMs: v.IVR_OVERALL_TIMEOUT_MS,
        maxCalls: v.IVR_MAX_CALLS,
        maxCallsPerDevice: v.IVR_MAX_CALLS_PER_DEVICE,
        maxCallsPerSource: v.IVR_MAX_CALLS_PER_SOURCE,
      }),
      lockWatchIntervalMs: v.LOCK_WATCH_INTERVAL_MS,
    }),
    metrics: Object.freeze(
      v.METRICS_PORT === null
        ? {
            serve: isLoopback(v.ADMIN_HOST) || v.METRICS_PUBLIC ? 'admin' : 'off',
            host: v.METRICS_HOST,
            port: 0,
          }
        : { serve: 'own', host: v.METRICS_HOST, port: v.METRICS_PORT },
    ),
    logLevel: v.LOG_LEVEL,
  };
  return Object.freeze(cfg);
}

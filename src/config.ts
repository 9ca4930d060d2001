import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { AuthPolicy } from './domain/auth';
import { DEFAULT_TRAFFIC_POLICY, type TrafficPolicy } from './domain/traffic';
import { DEFAULT_EMERGENCY_NUMBERS } from './domain/emergency';
import { parseTimeZone } from './domain/display';
import { isE164, SIP_ROUTE } from './domain/site';
import { isLanguage, type Language } from './domain/device';
import { SOURCE_PREFIX, type PrefixLengths } from './domain/prefix';
import { checkWhitelistCoverage, parseWhitelistEntry, type WhitelistEntry } from './domain/whitelist';

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
  readonly provisioningHost: string;
  readonly provisioningPort: number;
  /** false (PROVISIONING_HTTP=0): no plain HTTP listener, provisioning over HTTPS only. */
  readonly provisioningHttp: boolean;
  /** HTTPS on PROVISIONING_HOST (PROVISIONING_TLS_CERT and _KEY); null: plain HTTP only. */
  readonly provisioningTls: ProvisioningTlsConfig | null;
  /** Base URL phones use to reach the provisioning server (written into full configurations). */
  readonly provisioningBaseUrl: string;
  readonly provisioningIntervalSeconds: number;
  /** Re-provisioning interval written into minimal configurations, so a waiting phone re-checks soon. */
  readonly provisioningMinimalIntervalSeconds: number;
  /** Provisioning misses (unknown MAC / path) one client may cause per window before it gets 429. */
  readonly provisioningMissLimit: number;
  readonly provisioningMissWindowSeconds: number;
  /** The miss limit counts per client network of these lengths (PROVISIONING_MISS_PREFIX_IPV4/_IPV6). */
  readonly provisioningMissPrefix: PrefixLengths;
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
  };
  /** host[:port] where phones reach drachtio-server (registrar and outbound proxy). */
  readonly registrar: string;
  readonly realm: string;
  /** The restricted password is derived per fetching address and checked against the SIP source address. */
  readonly bindToProvisioningIp: boolean;
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
  /** New registrations (REGISTERs without credentials) per second before the registrar sheds with 503. */
  readonly registerRateLimit: number;
  /** REGISTERs waiting for the store at once before the registrar sheds with 503. */
  readonly registerMaxPending: number;
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

export interface MediaServerAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets): the server's name in logs, /readyz and metrics. */
  readonly label: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function str(env: Env, name: string, def: string): string {
  const v = env[name];
  return v === undefined || v === '' ? def : v;
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^[0-9]+$/.test(raw.trim())) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function flag(env: Env, name: string, def = false): boolean {
  const v = str(env, name, def ? '1' : '0');
  if (v !== '0' && v !== '1') throw new ConfigError(name, `expected 0 or 1, got "${v}"`);
  return v === '1';
}

function list(env: Env, name: string, def: readonly string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return [...def];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Trusted addresses (TRUST_PROXY, SIP_TRUSTED_PEERS), bounded as a tenant's whitelist is: a list
 * that covers (nearly) everything would let anyone claim any address or name any device.
 */
function entries(env: Env, name: string): WhitelistEntry[] {
  try {
    const out = list(env, name, []).map(parseWhitelistEntry);
    checkWhitelistCoverage(out, 'the list');
    return out;
  } catch (err) {
    throw new ConfigError(name, (err as Error).message);
  }
}

/** `<name>_IPV4` and `<name>_IPV6`: never coarser than a /8 or a /16, one budget for a whole provider. */
function prefixLengths(env: Env, name: string, ipv4: number, ipv6: number): PrefixLengths {
  return Object.freeze({
    ipv4: int(env, `${name}_IPV4`, ipv4, 8, 32),
    ipv6: int(env, `${name}_IPV6`, ipv6, 16, 128),
  });
}

/**
 * A secret of the SIP side (DRACHTIO_SECRET, FREESWITCH_SECRET). There is no default: the servers'
 * well-known ones (drachtio's `cymru`, FreeSWITCH's `ClueCon`) let any local process drive the
 * calls and read the PAPs as they are typed. At least 16 characters, and only those that pass
 * unchanged through FreeSWITCH's XML and event socket and drachtio's `|`-separated protocol.
 */
function secret(env: Env, name: string, enabled: boolean): string {
  const v = str(env, name, '');
  if (!enabled) return v;
  if (v === '')
    throw new ConfigError(
      name,
      'is required for the SIP side (DRACHTIO_HOST is set): the same secret as the server is configured with, e.g. from `openssl rand -hex 24`',
    );
  if (!/^[A-Za-z0-9._~+/=-]{16,256}$/.test(v))
    throw new ConfigError(
      name,
      'must be 16 to 256 characters of A-Z, a-z, 0-9 and . _ ~ + / = - (e.g. `openssl rand -hex 24`)',
    );
  return v;
}

/** Only a literal loopback address (or `localhost`) counts: any other name may resolve elsewhere. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(h)) return false;
  const a = ipaddr.process(h);
  return a.range() === 'loopback';
}

/**
 * /metrics needs no token, so it is never exposed beyond this machine by default: a non-loopback
 * METRICS_HOST without METRICS_PUBLIC=1 is a configuration error, and a non-loopback ADMIN_HOST
 * (set before metrics existed) keeps /metrics off there rather than failing to start.
 */
function metricsConfig(env: Env, adminHost: string): MetricsConfig {
  const pub = str(env, 'METRICS_PUBLIC', '0');
  if (pub !== '0' && pub !== '1') throw new ConfigError('METRICS_PUBLIC', `expected 0 or 1, got "${pub}"`);
  const host = str(env, 'METRICS_HOST', '127.0.0.1');
  const own = env.METRICS_PORT !== undefined && env.METRICS_PORT !== '';
  if (!own) {
    if (env.METRICS_HOST !== undefined && env.METRICS_HOST !== '')
      throw new ConfigError(
        'METRICS_HOST',
        'needs METRICS_PORT (without it /metrics is on the admin listener)',
      );
    return { serve: isLoopback(adminHost) || pub === '1' ? 'admin' : 'off', host, port: 0 };
  }
  if (!isLoopback(host) && pub !== '1')
    throw new ConfigError(
      'METRICS_HOST',
      `"${host}" is not a loopback address: /metrics has no token, set METRICS_PUBLIC=1 to expose it`,
    );
  return { serve: 'own', host, port: int(env, 'METRICS_PORT', 9464, 0, 65535) };
}

function hostPort(env: Env, name: string, def: string): string {
  const v = str(env, name, def);
  if (!/^[A-Za-z0-9.\-:[\]]+$/.test(v)) throw new ConfigError(name, `expected host[:port], got "${v}"`);
  return v;
}

/**
 * FREESWITCH_HOSTS, a comma list of host[:port] (IPv6 in brackets), or FREESWITCH_HOST as the
 * one-server case; FREESWITCH_PORT is the port of entries that name none. Setting both is refused
 * rather than one silently ignored.
 */
function mediaServers(env: Env): MediaServerAddress[] {
  const defaultPort = int(env, 'FREESWITCH_PORT', 8021, 1, 65535);
  const many = str(env, 'FREESWITCH_HOSTS', '') !== '';
  if (many && str(env, 'FREESWITCH_HOST', '') !== '')
    throw new ConfigError('FREESWITCH_HOSTS', 'set either FREESWITCH_HOST or FREESWITCH_HOSTS, not both');
  const name = many ? 'FREESWITCH_HOSTS' : 'FREESWITCH_HOST';
  const raw = many ? str(env, name, '').split(',') : [str(env, name, '127.0.0.1')];
  const seen = new Set<string>();
  return raw.map((entry) => {
    const e = entry.trim();
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::([0-9]{1,5}))?$/.exec(e);
    if (!m)
      throw new ConfigError(
        name,
        `expected host[:port] (IPv6 as [addr]:port), got "${e}"${e === '' ? ' (empty entry)' : ''}`,
      );
    const port = m[3] === undefined ? defaultPort : Number(m[3]);
    if (port < 1 || port > 65535) throw new ConfigError(name, `port must be between 1 and 65535 in "${e}"`);
    if (m[1] !== undefined && !ipaddr.IPv6.isValid(m[1]))
      throw new ConfigError(name, `"${m[1]}" is not an IPv6 address in "${e}"`);
    const host = m[1] ?? m[2]!;
    const label = `${m[1] !== undefined ? `[${ipaddr.IPv6.parse(host).toString()}]` : host.toLowerCase()}:${port}`;
    if (seen.has(label)) throw new ConfigError(name, `${label} is listed twice`);
    seen.add(label);
    return Object.freeze({ host, port, label });
  });
}

/** HTTPS settings: all of them need PROVISIONING_TLS_CERT and _KEY, which go together. */
function provisioningTlsConfig(env: Env, cwd: string): ProvisioningTlsConfig | null {
  const file = (name: string) => {
    const v = str(env, name, '');
    return v === '' ? null : path.resolve(cwd, v);
  };
  const [certFile, keyFile, deviceCaFile] = [
    file('PROVISIONING_TLS_CERT'),
    file('PROVISIONING_TLS_KEY'),
    file('PROVISIONING_DEVICE_CA'),
  ];
  if (certFile === null || keyFile === null) {
    for (const name of [
      'PROVISIONING_TLS_CERT',
      'PROVISIONING_TLS_KEY',
      'PROVISIONING_TLS_PORT',
      'PROVISIONING_DEVICE_CA',
    ])
      if (str(env, name, '') !== '')
        throw new ConfigError(name, 'needs both PROVISIONING_TLS_CERT and PROVISIONING_TLS_KEY');
    return null;
  }
  return { port: int(env, 'PROVISIONING_TLS_PORT', 8443, 0, 65535), certFile, keyFile, deviceCaFile };
}

/** Reads and validates every setting once; throws ConfigError naming the variable. */
export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const provisioningPort = int(env, 'PROVISIONING_PORT', 8081, 0, 65535);
  const provisioningTls = provisioningTlsConfig(env, cwd);
  const provisioningHttpRaw = str(env, 'PROVISIONING_HTTP', '1');
  if (provisioningHttpRaw !== '0' && provisioningHttpRaw !== '1')
    throw new ConfigError('PROVISIONING_HTTP', `expected 0 or 1, got "${provisioningHttpRaw}"`);
  const provisioningHttp = provisioningHttpRaw === '1';
  if (!provisioningHttp && provisioningTls === null)
    throw new ConfigError(
      'PROVISIONING_HTTP',
      '0 needs PROVISIONING_TLS_CERT and _KEY (nothing would listen)',
    );
  const provisioningBaseUrl = str(
    env,
    'PROVISIONING_BASE_URL',
    provisioningHttp ? `http://127.0.0.1:${provisioningPort}` : `https://127.0.0.1:${provisioningTls!.port}`,
  );
  if (!/^https?:\/\/[^/\s]+(\/[^\s]*)?$/.test(provisioningBaseUrl)) {
    throw new ConfigError('PROVISIONING_BASE_URL', `expected an http(s) URL, got "${provisioningBaseUrl}"`);
  }
  const maxConsecutiveFailures = int(env, 'AUTH_MAX_CONSECUTIVE_FAILURES', 3, 1, 1000);
  const maxTotalFailures = int(env, 'AUTH_MAX_TOTAL_FAILURES', 9, 1, 100000);
  const httpHeadersTimeoutSeconds = int(env, 'HTTP_HEADERS_TIMEOUT_SECONDS', 5, 1, 300);
  // Node refuses a headers timeout longer than the request timeout.
  const httpRequestTimeoutSeconds = int(
    env,
    'HTTP_REQUEST_TIMEOUT_SECONDS',
    Math.max(10, httpHeadersTimeoutSeconds),
    httpHeadersTimeoutSeconds,
    3600,
  );
  if (maxTotalFailures < maxConsecutiveFailures) {
    throw new ConfigError(
      'AUTH_MAX_TOTAL_FAILURES',
      `must be >= AUTH_MAX_CONSECUTIVE_FAILURES (${maxConsecutiveFailures})`,
    );
  }
  const adminToken = env.ADMIN_TOKEN === undefined || env.ADMIN_TOKEN === '' ? null : env.ADMIN_TOKEN;
  if (adminToken !== null && adminToken.length < 16) {
    throw new ConfigError('ADMIN_TOKEN', 'must be at least 16 characters');
  }
  const redisUrl = env.REDIS_URL === undefined || env.REDIS_URL === '' ? null : env.REDIS_URL;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'expected redis://host:port[/db] or rediss://...');
  }
  const redisClusterNodes = list(env, 'REDIS_CLUSTER_NODES', []);
  redisClusterNodes.forEach((n, i) => {
    // Not shown: the entry may hold the cluster's password.
    if (!/^rediss?:\/\/[^\s]+$/.test(n))
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `node ${i + 1} of ${redisClusterNodes.length} is not redis://[:password@]host:port`,
      );
  });
  if (redisClusterNodes.length > 0 && redisUrl !== null) {
    throw new ConfigError('REDIS_CLUSTER_NODES', 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both');
  }
  const defaultLanguage = str(env, 'DEFAULT_LANGUAGE', 'en');
  if (!isLanguage(defaultLanguage)) throw new ConfigError('DEFAULT_LANGUAGE', 'must be "en" or "de"');
  const authServiceNumber = str(env, 'AUTH_SERVICE_NUMBER', '*89');
  if (!/^[0-9*#]{1,16}$/.test(authServiceNumber)) {
    throw new ConfigError('AUTH_SERVICE_NUMBER', 'expected 1-16 of 0-9, * and #');
  }
  const emergencyNumbers = list(env, 'EMERGENCY_NUMBERS', DEFAULT_EMERGENCY_NUMBERS);
  for (const n of emergencyNumbers) {
    if (!/^[0-9+*#]{1,16}$/.test(n)) throw new ConfigError('EMERGENCY_NUMBERS', `invalid number "${n}"`);
  }
  const logLevel = str(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `unknown level "${logLevel}"`);
  }
  const drachtioHost = str(env, 'DRACHTIO_HOST', '');
  const emergencyRoute = str(env, 'EMERGENCY_ROUTE', '');
  if (emergencyRoute !== '' && !SIP_ROUTE.test(emergencyRoute)) {
    throw new ConfigError('EMERGENCY_ROUTE', `expected a SIP URI (sip:host[:port]), got "${emergencyRoute}"`);
  }
  const emergencySiteRoutes = list(env, 'EMERGENCY_SITE_ROUTES', []);
  for (const r of emergencySiteRoutes) {
    if (!SIP_ROUTE.test(r)) throw new ConfigError('EMERGENCY_SITE_ROUTES', `expected SIP URIs, got "${r}"`);
  }
  const emergencyCallerId = str(env, 'EMERGENCY_CALLER_ID', '');
  if (emergencyCallerId !== '' && !isE164(emergencyCallerId)) {
    throw new ConfigError(
      'EMERGENCY_CALLER_ID',
      `expected an E.164 number (+4930...), got "${emergencyCallerId}"`,
    );
  }
  const adminHost = str(env, 'ADMIN_HOST', '127.0.0.1');
  const sourcePrefix = prefixLengths(env, 'SOURCE_PREFIX', SOURCE_PREFIX.ipv4, SOURCE_PREFIX.ipv6);
  const guessPerSource = int(env, 'GUESS_LIMIT_PER_SOURCE', 100, 1, 1_000_000);
  const guessPerSourceTenant = int(
    env,
    'GUESS_LIMIT_PER_SOURCE_TENANT',
    Math.min(30, guessPerSource),
    1,
    1_000_000,
  );
  if (guessPerSourceTenant > guessPerSource) {
    throw new ConfigError(
      'GUESS_LIMIT_PER_SOURCE_TENANT',
      `must be <= GUESS_LIMIT_PER_SOURCE (${guessPerSource})`,
    );
  }
  const defaultTimeZone = parseTimeZone(str(env, 'DEFAULT_TIME_ZONE', 'UTC'));
  if (defaultTimeZone === null) {
    throw new ConfigError('DEFAULT_TIME_ZONE', `unknown IANA time zone "${env.DEFAULT_TIME_ZONE}"`);
  }
  const alertWebhookUrl = str(env, 'ALERT_WEBHOOK_URL', '');
  if (alertWebhookUrl !== '' && !/^https?:\/\/[^/\s]+(\/[^\s]*)?$/.test(alertWebhookUrl)) {
    throw new ConfigError('ALERT_WEBHOOK_URL', `expected an http(s) URL, got "${alertWebhookUrl}"`);
  }
  const cfg: Config = {
    redisUrl,
    redisClusterNodes: Object.freeze(redisClusterNodes),
    dataDir: path.resolve(cwd, str(env, 'DATA_DIR', 'data')),
    redisServerBin: str(env, 'REDIS_SERVER_BIN', 'redis-server'),
    embeddedRedisRestarts: int(env, 'EMBEDDED_REDIS_RESTARTS', 5, 1, 100),
    adminHost,
    adminPort: int(env, 'ADMIN_PORT', 8080, 0, 65535),
    adminToken,
    provisioningHost: str(env, 'PROVISIONING_HOST', '0.0.0.0'),
    provisioningPort,
    provisioningHttp,
    provisioningTls: provisioningTls && Object.freeze(provisioningTls),
    provisioningBaseUrl: provisioningBaseUrl.replace(/\/+$/, ''),
    provisioningIntervalSeconds: int(env, 'PROVISIONING_INTERVAL_SECONDS', 5 * 3600, 60, 7 * 86400),
    provisioningMinimalIntervalSeconds: int(env, 'PROVISIONING_MINIMAL_INTERVAL_SECONDS', 300, 60, 86400),
    provisioningMissLimit: int(env, 'PROVISIONING_MISS_LIMIT', 20, 1, 1_000_000),
    provisioningMissWindowSeconds: int(env, 'PROVISIONING_MISS_WINDOW_SECONDS', 60, 1, 86400),
    provisioningMissPrefix: prefixLengths(env, 'PROVISIONING_MISS_PREFIX', 32, 64),
    trustProxy: entries(env, 'TRUST_PROXY'),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    httpHeadersTimeoutMs: httpHeadersTimeoutSeconds * 1000,
    httpRequestTimeoutMs: httpRequestTimeoutSeconds * 1000,
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_SECONDS', 10, 0, 3600) * 1000,
    storeTimeoutMs: int(env, 'STORE_TIMEOUT_MS', 2000, 50, 60000),
    storeOutageLogIntervalMs: int(env, 'STORE_OUTAGE_LOG_INTERVAL_SECONDS', 30, 1, 86400) * 1000,
    auth: Object.freeze({
      maxConsecutiveFailures,
      failedLockSeconds: int(env, 'AUTH_FAILED_LOCK_SECONDS', 1800, 1, 365 * 86400),
      maxTotalFailures,
      suspendSeconds: int(env, 'AUTH_SUSPEND_SECONDS', 1800, 1, 365 * 86400),
      tempWhitelistSeconds: int(env, 'AUTH_TEMP_WHITELIST_SECONDS', 28800, 1, 365 * 86400),
      guessing: Object.freeze({
        perSource: guessPerSource,
        perSourceTenant: guessPerSourceTenant,
        windowSeconds: int(env, 'GUESS_WINDOW_SECONDS', 3600, 1, 7 * 86400),
      }),
    }),
    sourcePrefix,
    eventsMaxLen: int(env, 'EVENTS_MAX_LEN', 100000, 100, 100_000_000),
    traffic: Object.freeze({
      maxLen: int(env, 'TRAFFIC_MAX_LEN', DEFAULT_TRAFFIC_POLICY.maxLen, 100, 100_000_000),
      perClient: int(env, 'TRAFFIC_PER_CLIENT', DEFAULT_TRAFFIC_POLICY.perClient, 1, 1_000_000),
      windowSeconds: int(env, 'TRAFFIC_WINDOW_SECONDS', DEFAULT_TRAFFIC_POLICY.windowSeconds, 1, 86400),
      clientPrefix: sourcePrefix,
    }),
    macProbe: Object.freeze({
      limit: int(env, 'MAC_PROBE_LIMIT', 100, 1, 1_000_000),
      windowSeconds: int(env, 'MAC_PROBE_WINDOW_SECONDS', 3600, 1, 7 * 86400),
    }),
    tenantReads: Object.freeze({
      perTenant: int(env, 'TENANT_READS', 2, 1, 100),
      waitMs: int(env, 'TENANT_READ_WAIT_MS', 5000, 0, 60_000),
    }),
    defaultLanguage,
    emergencyNumbers: Object.freeze(emergencyNumbers),
    authServiceNumber,
    defaultTimeZone,
    alertWebhookUrl: alertWebhookUrl === '' ? null : alertWebhookUrl,
    sip: Object.freeze({
      enabled: drachtioHost !== '',
      drachtio: Object.freeze({
        host: drachtioHost,
        port: int(env, 'DRACHTIO_PORT', 9022, 1, 65535),
        secret: secret(env, 'DRACHTIO_SECRET', drachtioHost !== ''),
      }),
      freeswitch: Object.freeze({
        servers: Object.freeze(mediaServers(env)),
        secret: secret(env, 'FREESWITCH_SECRET', drachtioHost !== ''),
        listenAddress: str(env, 'FREESWITCH_LISTEN_ADDRESS', '127.0.0.1'),
      }),
      registrar: hostPort(env, 'SIP_REGISTRAR', '127.0.0.1:5060'),
      realm: str(env, 'SIP_REALM', 'papgate'),
      bindToProvisioningIp: flag(env, 'SIP_BIND_TO_PROVISIONING_IP', true),
      emergencyRoute: emergencyRoute === '' ? null : emergencyRoute,
      emergencySiteRoutes: Object.freeze(emergencySiteRoutes),
      emergencyCallerId: emergencyCallerId === '' ? null : emergencyCallerId,
      emergencySendLocation: flag(env, 'EMERGENCY_SEND_LOCATION'),
      trustedPeers: Object.freeze(entries(env, 'SIP_TRUSTED_PEERS')),
      deviceHeader: str(env, 'SIP_DEVICE_HEADER', 'X-Papgate-Device'),
      deviceAddressHeader: str(env, 'SIP_DEVICE_ADDRESS_HEADER', 'X-Papgate-Device-Address'),
      promptsDir: path.resolve(cwd, str(env, 'PROMPTS_DIR', 'prompts')),
      registerExpiresSeconds: int(env, 'SIP_REGISTER_EXPIRES_SECONDS', 300, 30, 86400),
      nonceSeconds: int(env, 'SIP_NONCE_SECONDS', 60, 5, 3600),
      registerRateLimit: int(env, 'SIP_REGISTER_RATE_LIMIT', 1000, 1, 1_000_000),
      registerMaxPending: int(env, 'SIP_REGISTER_MAX_PENDING', 1000, 1, 1_000_000),
      overloadRetryAfterSeconds: int(env, 'SIP_OVERLOAD_RETRY_AFTER_SECONDS', 10, 1, 3600),
      ivr: Object.freeze({
        firstDigitTimeoutMs: int(env, 'IVR_FIRST_DIGIT_TIMEOUT_MS', 10000, 500, 120000),
        interDigitTimeoutMs: int(env, 'IVR_INTER_DIGIT_TIMEOUT_MS', 5000, 500, 60000),
        overallTimeoutMs: int(env, 'IVR_OVERALL_TIMEOUT_MS', 60000, 1000, 600000),
        maxCalls: int(env, 'IVR_MAX_CALLS', 400, 1, 100_000),
        maxCallsPerDevice: int(env, 'IVR_MAX_CALLS_PER_DEVICE', 2, 1, 100_000),
        maxCallsPerSource: int(env, 'IVR_MAX_CALLS_PER_SOURCE', 40, 1, 100_000),
      }),
      lockWatchIntervalMs: int(env, 'LOCK_WATCH_INTERVAL_MS', 10000, 100, 3600000),
    }),
    metrics: Object.freeze(metricsConfig(env, adminHost)),
    logLevel,
  };
  return Object.freeze(cfg);
}

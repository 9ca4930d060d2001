import ipaddr from 'ipaddr.js';
import { parseTimeZone } from '../domain/display';
import { canonicalHostPort } from '../domain/hostport';
import { isLanguage, LANGUAGES, parseExtraModels, type Language } from '../domain/device';
import { DEFAULT_EMERGENCY_NUMBERS } from '../domain/emergency';
import { COMMON_FIELDS, isCommonField } from '../domain/setting-layers';
import { GATED_FAMILIES, parseUpstreams, type GatedFamily } from '../domain/gate';
import { SOURCE_PREFIX } from '../domain/prefix';
import { isE164, SIP_ROUTE } from '../domain/site';
import { DEFAULT_TRAFFIC_POLICY } from '../domain/traffic';
import {
  addresses,
  ConfigError,
  flag,
  given,
  HTTP_URL,
  int,
  Invalid,
  isLoopback,
  list,
  optional,
  readInt,
  text,
  tied,
  type Raw,
  type Section,
  type Variable,
} from './kinds';

/**
 * Every environment variable papgate reads, each declared once: its section of
 * docs/configuration.md, the values it takes, its default and one line of meaning. loadConfig
 * (src/config.ts) reads them in this order, so a rule that ties a variable to others is written on the
 * later one, where they have been read. docs/configuration.md is generated from this table
 * (`npm run docs:config`); test/config-docs.test.ts fails when they differ.
 */

export interface MediaServerAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets): the server's name in logs, /readyz and metrics. */
  readonly label: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LIMIT = { min: 1, max: 1_000_000 };
const YEAR = 365 * 86400;
const WEEK = 7 * 86400;
const port = (section: Section, def: number, meaning: string) =>
  int({ section, default: def, min: 0, max: 65535, meaning });

/**
 * A secret of the SIP side (DRACHTIO_SECRET, FREESWITCH_SECRET). There is no default: the servers'
 * well-known ones (drachtio's `cymru`, FreeSWITCH's `ClueCon`) let any local process drive the
 * calls and read the PAPs as they are typed. At least 16 characters, and only those that pass
 * unchanged through FreeSWITCH's XML and event socket and drachtio's `|`-separated protocol.
 */
const secret = (meaning: string): Variable<string, { DRACHTIO_HOST: string }> => ({
  section: 'sip',
  accepts: '16 to 256 of `A-Z a-z 0-9 . _ ~ + / = -`',
  shown: '_(none: required with `DRACHTIO_HOST`)_',
  meaning,
  read: (raw, v) => {
    const s = given(raw) ? raw : '';
    if (v.DRACHTIO_HOST === '') return s;
    if (s === '')
      throw new Invalid(
        'is required for the SIP side (DRACHTIO_HOST is set): the same secret as the server is configured with, e.g. from `openssl rand -hex 24`',
      );
    if (!/^[A-Za-z0-9._~+/=-]{16,256}$/.test(s))
      throw new Invalid(
        'must be 16 to 256 characters of A-Z, a-z, 0-9 and . _ ~ + / = - (e.g. `openssl rand -hex 24`)',
      );
    return s;
  },
});

/**
 * FREESWITCH_HOSTS, a comma list of host[:port] (IPv6 in brackets), or FREESWITCH_HOST as the
 * one-server case; FREESWITCH_PORT is the port of entries that name none. Setting both is refused
 * rather than one silently ignored.
 */
function mediaServers(
  raw: Raw,
  v: { FREESWITCH_PORT: number; FREESWITCH_HOST: string | null },
): MediaServerAddress[] {
  const many = given(raw);
  if (many && v.FREESWITCH_HOST !== null)
    throw new Invalid('set either FREESWITCH_HOST or FREESWITCH_HOSTS, not both');
  const name = many ? 'FREESWITCH_HOSTS' : 'FREESWITCH_HOST';
  const entries = many ? raw.split(',') : [v.FREESWITCH_HOST ?? '127.0.0.1'];
  const seen = new Set<string>();
  return entries.map((entry) => {
    const e = entry.trim();
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::([0-9]{1,5}))?$/.exec(e);
    if (!m)
      throw new ConfigError(
        name,
        `expected host[:port] (IPv6 as [addr]:port), got "${e}"${e === '' ? ' (empty entry)' : ''}`,
      );
    const port = m[3] === undefined ? v.FREESWITCH_PORT : Number(m[3]);
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

/** HTTPS settings: each of them needs PROVISIONING_TLS_CERT and _KEY, which go together. */
const tlsFile = (meaning: string, shown = '_(none)_') =>
  optional({ section: 'https', accepts: 'path of a PEM file', shown, meaning });
const NEEDS_TLS = 'needs both PROVISIONING_TLS_CERT and PROVISIONING_TLS_KEY';
type Tls = { PROVISIONING_TLS_CERT: string | null; PROVISIONING_TLS_KEY: string | null };
const hasTls = (v: Tls) => v.PROVISIONING_TLS_CERT !== null && v.PROVISIONING_TLS_KEY !== null;

/** `host[:port]` as the phones' files take it (a DNS name or an address, a port 1-65535 if given). */
const hostPort = (v: string): string | null =>
  canonicalHostPort(v.toLowerCase()) === null ? `expected host[:port], got "${v}"` : null;

export const VARIABLES = {
  // ---- Redis
  REDIS_URL: optional({
    section: 'store',
    accepts: '`redis://` or `rediss://` URL',
    shown: '_(embedded)_',
    meaning:
      '`redis://:password@host:port[/db]`; it must require a password or ACL user (see "External Redis"); unset: papgate runs its own under `DATA_DIR/redis`',
    check: (v) =>
      /^rediss?:\/\/[^/\s]/.test(v)
        ? null
        : /^rediss?:\/\//.test(v)
          ? 'no host in it: expected redis://host:port[/db] (a unix socket is not taken)'
          : 'expected redis://host:port[/db] or rediss://...',
  }),
  REDIS_CLUSTER_NODES: tied(
    list({
      section: 'store',
      default: [],
      accepts: 'comma list of `redis://` URLs',
      meaning:
        "comma-separated `redis://[:password@]host:port` seed nodes of a Redis Cluster, instead of `REDIS_URL`; the first seed's user and password are used for every node",
      // Not shown: the entry may hold the cluster's password.
      check: (n, i, all) =>
        /^rediss?:\/\/[^\s]+$/.test(n)
          ? null
          : `node ${i + 1} of ${all.length} is not redis://[:password@]host:port`,
    }),
    (nodes, v: { REDIS_URL: string | null }) =>
      nodes.length > 0 && v.REDIS_URL !== null
        ? 'set either REDIS_URL or REDIS_CLUSTER_NODES, not both'
        : null,
  ),
  DATA_DIR: text({
    section: 'store',
    default: 'data',
    shown: '`./data`',
    accepts: 'path',
    meaning: 'embedded Redis data and the generated admin token',
  }),
  REDIS_SERVER_BIN: text({
    section: 'store',
    default: 'redis-server',
    accepts: 'path or command',
    meaning: 'binary for the embedded Redis',
  }),
  EMBEDDED_REDIS_RESTARTS: int({
    section: 'store',
    default: 5,
    min: 1,
    max: 100,
    meaning: 'failed restarts in a row of the embedded Redis before papgate exits with code 1',
  }),
  STORE_TIMEOUT_MS: int({
    section: 'store',
    default: 2000,
    min: 50,
    max: 60000,
    meaning: 'a Redis command not answered within this fails (503 / "not possible") instead of waiting',
  }),
  STORE_OUTAGE_LOG_INTERVAL_SECONDS: int({
    section: 'store',
    default: 30,
    min: 1,
    max: 86400,
    meaning: 'while Redis is unavailable, at most one log line per interval',
  }),

  // ---- Admin API and CLI
  ADMIN_HOST: text({
    section: 'admin',
    default: '127.0.0.1',
    accepts: 'address',
    meaning: 'address of the admin API (keep it off public interfaces)',
  }),
  ADMIN_PORT: port('admin', 8080, 'port of the admin API'),
  ADMIN_TOKEN: optional({
    section: 'admin',
    accepts: 'at least 16 characters',
    shown: '_(generated)_',
    meaning:
      'bearer token of the admin API; unset: one is generated on first start and kept in `DATA_DIR/admin-token`',
    check: (v) => (v.length < 16 ? 'must be at least 16 characters' : null),
  }),
  ADMIN_URL: {
    section: 'admin',
    accepts: 'URL',
    shown: '`http://ADMIN_HOST:ADMIN_PORT`',
    meaning: 'where the CLI (`bin/papgate`) reaches the admin API',
    // The CLI's: taken as it is, as before it was declared here.
    read: (raw: Raw): string | null => raw ?? null,
  },
  MAX_BODY_BYTES: int({
    section: 'admin',
    default: 1024 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    meaning: 'largest admin request body (JSON or CSV)',
  }),
  TENANT_READS: int({
    section: 'admin',
    default: 2,
    min: 1,
    max: 100,
    meaning:
      'reads of a whole tenant (device list, CSV export, one device\'s events) at once per tenant (see "Admin load")',
  }),
  TENANT_READ_WAIT_MS: int({
    section: 'admin',
    default: 5000,
    min: 0,
    max: 60_000,
    meaning: 'how long one more such read waits for its turn before a 429 `tenant_busy` with `Retry-After`',
  }),
  TENANT_ADDITIONS: int({
    section: 'admin',
    default: 1,
    min: 1,
    max: 100,
    meaning:
      'device additions (one device through the API, a CSV import) of one tenant at once, counted while they wait for the server\'s one-at-a-time queue (see "Admin load")',
  }),
  TENANT_ADDITION_WAIT_MS: int({
    section: 'admin',
    default: 5000,
    min: 0,
    max: 60_000,
    meaning:
      'how long one more such addition waits for its turn before a 429 `tenant_busy` with `Retry-After`',
  }),
  WHITELIST_MAX_ENTRIES: int({
    section: 'admin',
    default: 1000,
    min: 1,
    max: 100_000,
    meaning:
      'entries of one tenant\'s permanent whitelist; one more is refused with 409 `whitelist_full` (see "Whitelist bound")',
  }),
  MAC_PROBE_LIMIT: int({
    section: 'admin',
    default: 100,
    ...LIMIT,
    meaning:
      "MACs of other tenants a tenant's tokens may be told of per window; past it the tenant's device additions get 429 (the operator is not limited)",
  }),
  MAC_PROBE_WINDOW_SECONDS: int({
    section: 'admin',
    default: 3600,
    min: 1,
    max: WEEK,
    meaning: 'that window (fixed, from the first such MAC)',
  }),

  // ---- Metrics and health: /metrics has no token, so it never leaves this machine by default.
  METRICS_PUBLIC: flag({
    section: 'metrics',
    default: false,
    meaning:
      '`1` allows `/metrics` (no token) on a non-loopback address; without it a non-loopback `METRICS_HOST` is a configuration error and a non-loopback `ADMIN_HOST` serves no `/metrics`',
  }),
  METRICS_PORT: {
    section: 'metrics',
    accepts: '0 to 65535',
    shown: '_(unset)_',
    meaning:
      'port of a listener of their own for `/metrics`, `/healthz` and `/readyz` (`/metrics` then leaves the admin listener); unset: they are on the admin listener',
    read: (raw: Raw): number | null => (given(raw) ? readInt(raw, 0, 65535, 0) : null),
  },
  METRICS_HOST: {
    ...text({
      section: 'metrics',
      default: '127.0.0.1',
      accepts: 'address',
      meaning: 'address of that listener (needs `METRICS_PORT`)',
    }),
    read: (raw: Raw, v: { METRICS_PORT: number | null; METRICS_PUBLIC: boolean }): string => {
      const host = given(raw) ? raw : '127.0.0.1';
      if (v.METRICS_PORT === null) {
        if (given(raw))
          throw new Invalid('needs METRICS_PORT (without it /metrics is on the admin listener)');
      } else if (!isLoopback(host) && !v.METRICS_PUBLIC)
        throw new Invalid(
          `"${host}" is not a loopback address: /metrics has no token, set METRICS_PUBLIC=1 to expose it`,
        );
      return host;
    },
  },

  // ---- Both HTTP servers
  HTTP_HEADERS_TIMEOUT_SECONDS: int({
    section: 'http',
    default: 5,
    min: 1,
    max: 300,
    meaning: "a request's headers must arrive within this (else 408 and the connection is closed)",
  }),
  HTTP_REQUEST_TIMEOUT_SECONDS: {
    section: 'http',
    accepts: '`HTTP_HEADERS_TIMEOUT_SECONDS` to 3600',
    shown: '`10`',
    meaning: 'the whole request, body included',
    // Node refuses a headers timeout longer than the request timeout.
    read: (raw: Raw, v: { HTTP_HEADERS_TIMEOUT_SECONDS: number }) =>
      readInt(raw, v.HTTP_HEADERS_TIMEOUT_SECONDS, 3600, Math.max(10, v.HTTP_HEADERS_TIMEOUT_SECONDS)),
  },
  SHUTDOWN_GRACE_SECONDS: int({
    section: 'http',
    default: 10,
    min: 0,
    max: 3600,
    meaning: 'after SIGTERM/SIGINT, how long requests and IVR calls in progress may run on',
  }),

  // ---- Provisioning over HTTPS (read before the provisioning section, whose base URL they decide)
  PROVISIONING_TLS_CERT: tlsFile(
    'PEM certificate (chain) of the HTTPS listener; re-read on `SIGHUP`',
    '_(none: no HTTPS)_',
  ),
  PROVISIONING_TLS_KEY: {
    ...tlsFile('its PEM private key; re-read on `SIGHUP`'),
    read: (raw: Raw, v: { PROVISIONING_TLS_CERT: string | null }): string | null => {
      const key = given(raw) ? raw : null;
      if ((v.PROVISIONING_TLS_CERT === null) !== (key === null))
        throw new ConfigError(key === null ? 'PROVISIONING_TLS_CERT' : 'PROVISIONING_TLS_KEY', NEEDS_TLS);
      return key;
    },
  },
  PROVISIONING_TLS_PORT: {
    section: 'https',
    accepts: '0 to 65535',
    shown: '`8443`',
    meaning: 'HTTPS port, on `PROVISIONING_HOST`',
    read: (raw: Raw, v: Tls): number | null => {
      if (hasTls(v)) return readInt(raw, 0, 65535, 8443);
      if (given(raw)) throw new Invalid(NEEDS_TLS);
      return null;
    },
  },
  PROVISIONING_DEVICE_CA: tied(
    tlsFile(
      'PEM bundle of vendor CAs whose device certificates identify phones; re-read on `SIGHUP`',
      '_(none: none asked for)_',
    ),
    (ca, v: Tls) => (ca !== null && !hasTls(v) ? NEEDS_TLS : null),
  ),
  PROVISIONING_HTTP: tied(
    flag({
      section: 'https',
      default: true,
      meaning: '`0`: no plain HTTP listener (needs the two above); the default base URL becomes `https://`',
    }),
    (http, v: Tls) =>
      !http && !hasTls(v) ? '0 needs PROVISIONING_TLS_CERT and _KEY (nothing would listen)' : null,
  ),

  // ---- Provisioning
  PROVISIONING_HOST: text({
    section: 'provisioning',
    default: '0.0.0.0',
    accepts: 'address',
    meaning: 'address of the provisioning server for phones (HTTP, and HTTPS when configured)',
  }),
  PROVISIONING_PORT: port('provisioning', 8081, 'its plain HTTP port'),
  PROVISIONING_BASE_URL: {
    section: 'provisioning',
    accepts: 'http(s) URL',
    shown: '`http://127.0.0.1:<PROVISIONING_PORT>`',
    meaning: 'URL phones use to reach provisioning, written into configurations',
    read: (
      raw: Raw,
      v: { PROVISIONING_HTTP: boolean; PROVISIONING_PORT: number; PROVISIONING_TLS_PORT: number | null },
    ): string => {
      const url = given(raw)
        ? raw
        : v.PROVISIONING_HTTP
          ? `http://127.0.0.1:${v.PROVISIONING_PORT}`
          : `https://127.0.0.1:${v.PROVISIONING_TLS_PORT}`;
      if (!HTTP_URL.test(url)) throw new Invalid(`expected an http(s) URL, got "${url}"`);
      return url.replace(/\/+$/, '');
    },
  },
  PROVISIONING_TEMPLATES_DIR: optional({
    section: 'provisioning',
    accepts: 'path of a folder',
    meaning:
      "the operator's templates over papgate's, never for the minimal file; checked at start-up (docs/phones.md)",
  }),
  TRUST_PROXY: addresses({
    section: 'provisioning',
    meaning:
      'addresses/CIDRs of reverse proxies whose `X-Forwarded-For` is believed (the client address is the right-most hop not on this list)',
  }),
  PROVISIONING_INTERVAL_SECONDS: int({
    section: 'provisioning',
    default: 5 * 3600,
    min: 60,
    max: WEEK,
    meaning: 'periodic re-provisioning of fully configured phones (5 h, within the 8 h whitelist window)',
  }),
  PROVISIONING_MINIMAL_INTERVAL_SECONDS: int({
    section: 'provisioning',
    default: 300,
    min: 60,
    max: 86400,
    meaning: 'how often a phone on the minimal configuration re-checks',
  }),
  SETTINGS_DEFAULT_FILE: optional({
    section: 'provisioning',
    accepts: 'path of a JSON file',
    meaning:
      'the operator default settings layer, `{"<family>": [{"name": ..., "value": ...}]}`, checked at start-up (docs/settings.md)',
  }),
  SETTINGS_TENANT_MAX_BYTES: int({
    section: 'provisioning',
    default: 1024 * 1024,
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
    meaning:
      "bytes of one tenant's settings layers in Redis (tenant, sites and devices together); a change past it is refused with 413 (docs/settings.md)",
  }),
  EXTRA_MODELS: list({
    section: 'provisioning',
    default: [],
    accepts: 'comma list of `vendor:model`',
    meaning:
      "models papgate does not know that devices may have (`yealink:T99Z`), with the family's base templates (docs/admin.md)",
    check: (e) => {
      try {
        parseExtraModels([e]);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    },
  }),
  MINIMAL_SETTINGS: list({
    section: 'provisioning',
    default: [],
    accepts: `comma list of ${COMMON_FIELDS.join(', ')}`,
    meaning:
      'the common settings the minimal configuration carries too, shown to anyone who knows a MAC (docs/settings.md)',
    check: (e) => (isCommonField(e) ? null : `"${e}" is none of ${COMMON_FIELDS.join(', ')}`),
  }),
  PROVISIONING_MISS_LIMIT: int({
    section: 'provisioning',
    default: 20,
    ...LIMIT,
    meaning: 'misses (unknown MAC or path) one client may cause per window before 429',
  }),
  PROVISIONING_MISS_WINDOW_SECONDS: int({
    section: 'provisioning',
    default: 60,
    min: 1,
    max: 86400,
    meaning: "that window; also the 429's `Retry-After`",
  }),
  PROVISIONING_MISS_PREFIX_IPV4: int({
    section: 'provisioning',
    default: 32,
    min: 8,
    max: 32,
    meaning: 'a client of the miss limit is its IPv4 network of this many bits',
  }),
  PROVISIONING_MISS_PREFIX_IPV6: int({
    section: 'provisioning',
    default: 64,
    min: 16,
    max: 128,
    meaning: 'and its IPv6 network of this many bits',
  }),
  // Gate mode (docs/gate-mode.md)
  PROVISIONING_UPSTREAM: {
    section: 'provisioning',
    accepts: 'comma list of `family=URL pattern` (`{mac}`, `{MAC}`, `{file}`)',
    shown: '_(none: no gate mode)_',
    meaning: `gate mode, the upstream per family (${GATED_FAMILIES.join(', ')}): \`yealink=https://prov/{mac}.cfg\``,
    read: (raw: Raw): Partial<Record<GatedFamily, string>> => {
      try {
        return given(raw) ? parseUpstreams(raw) : {};
      } catch (err) {
        throw new Invalid((err as Error).message);
      }
    },
  },
  PROVISIONING_UPSTREAM_USER: optional({
    section: 'provisioning',
    accepts: 'text without `:`',
    meaning:
      "user of the HTTP Basic credentials papgate sends to the upstream (papgate's own, never the phone's)",
    check: (v) => (v.includes(':') ? 'must not contain ":"' : null),
  }),
  PROVISIONING_UPSTREAM_PASSWORD: tied(
    optional({ section: 'provisioning', accepts: 'text', meaning: 'and its password' }),
    (password, v: { PROVISIONING_UPSTREAM_USER: string | null }) =>
      (password === null) !== (v.PROVISIONING_UPSTREAM_USER === null)
        ? 'goes with PROVISIONING_UPSTREAM_USER: set both or neither'
        : null,
  ),
  PROVISIONING_UPSTREAM_TIMEOUT_MS: int({
    section: 'provisioning',
    default: 3000,
    min: 100,
    max: 30_000,
    meaning: 'an upstream request (connection, headers and body) not done within this is a 503 to the phone',
  }),
  PROVISIONING_UPSTREAM_MAX_BYTES: int({
    section: 'provisioning',
    default: 1024 * 1024,
    min: 1024,
    max: 16 * 1024 * 1024,
    meaning: 'an upstream file larger than this is a 503 to the phone',
  }),
  PROVISIONING_UPSTREAM_CACHE_ENTRIES: int({
    section: 'provisioning',
    default: 10_000,
    min: 0,
    max: 1_000_000,
    meaning: "upstream files kept (the upstream's bodies only, never a merged file); beyond it the oldest go",
  }),
  PROVISIONING_UPSTREAM_CACHE_SECONDS: int({
    section: 'provisioning',
    default: 60,
    min: 0,
    max: 86400,
    meaning: 'how long a kept upstream file is used before it is fetched again (0: never kept)',
  }),

  // ---- Authentication and guessing limits
  AUTH_MAX_CONSECUTIVE_FAILURES: int({
    section: 'auth',
    default: 3,
    min: 1,
    max: 1000,
    meaning: 'wrong PAPs in a row before the `failed` lock',
  }),
  AUTH_FAILED_LOCK_SECONDS: int({
    section: 'auth',
    default: 1800,
    min: 1,
    max: YEAR,
    meaning: 'length of the `failed` lock',
  }),
  AUTH_MAX_TOTAL_FAILURES: tied(
    int({
      section: 'auth',
      default: 9,
      min: 1,
      max: 100000,
      meaning: 'wrong PAPs since the last reset/success before `blocked` (at least the consecutive limit)',
    }),
    (total, v: { AUTH_MAX_CONSECUTIVE_FAILURES: number }) =>
      total < v.AUTH_MAX_CONSECUTIVE_FAILURES
        ? `must be >= AUTH_MAX_CONSECUTIVE_FAILURES (${v.AUTH_MAX_CONSECUTIVE_FAILURES})`
        : null,
  ),
  AUTH_SUSPEND_SECONDS: int({
    section: 'auth',
    default: 1800,
    min: 1,
    max: YEAR,
    meaning: 'how long a PIN bypass ("suspend authentication") lasts',
  }),
  PAP_LIFETIME_DAYS: int({
    section: 'auth',
    default: 0,
    min: 0,
    max: 3650,
    meaning:
      'days a PAP stays usable after it was issued (added, reset); older: `pap_expired` until a reset; 0: for ever',
  }),
  AUTH_TEMP_WHITELIST_SECONDS: int({
    section: 'auth',
    default: 28800,
    min: 1,
    max: YEAR,
    meaning: 'temporary whitelist lifetime after a success or a full provisioning',
  }),
  GUESS_LIMIT_PER_SOURCE: int({
    section: 'auth',
    default: 100,
    ...LIMIT,
    meaning:
      'wrong PAPs one source (caller IP, trusted PBX, API client) may make across all tenants per window',
  }),
  GUESS_LIMIT_PER_SOURCE_TENANT: {
    section: 'auth',
    accepts: '1 to `GUESS_LIMIT_PER_SOURCE`',
    shown: '`30`',
    meaning: 'the same within one tenant',
    read: (raw: Raw, v: { GUESS_LIMIT_PER_SOURCE: number }): number => {
      const n = readInt(raw, LIMIT.min, LIMIT.max, Math.min(30, v.GUESS_LIMIT_PER_SOURCE));
      if (n > v.GUESS_LIMIT_PER_SOURCE)
        throw new Invalid(`must be <= GUESS_LIMIT_PER_SOURCE (${v.GUESS_LIMIT_PER_SOURCE})`);
      return n;
    },
  },
  GUESS_WINDOW_SECONDS: int({
    section: 'auth',
    default: 3600,
    min: 1,
    max: WEEK,
    meaning: 'the sliding window of both',
  }),
  SOURCE_PREFIX_IPV4: int({
    section: 'auth',
    default: SOURCE_PREFIX.ipv4,
    min: 8,
    max: 32,
    meaning:
      'one source of wrong PAPs, of IVR calls and of phone traffic is the caller\'s IPv4 network of this many bits (see "Source networks")',
  }),
  SOURCE_PREFIX_IPV6: int({
    section: 'auth',
    default: SOURCE_PREFIX.ipv6,
    min: 16,
    max: 128,
    meaning: 'and its IPv6 network of this many bits',
  }),
  ALERT_WEBHOOK_URL: optional({
    section: 'auth',
    accepts: 'http(s) URL',
    meaning: 'POSTed a JSON alert when a source reaches a guessing limit (retried, never blocking)',
    check: (v) => (HTTP_URL.test(v) ? null : `expected an http(s) URL, got "${v}"`),
  }),

  // ---- Audit trail and phone traffic
  EVENTS_MAX_LEN: int({
    section: 'audit',
    default: 100000,
    min: 100,
    max: 100_000_000,
    meaning:
      'audit events kept per tenant (approximate trim); phone traffic has a stream of its own, so it never trims these',
  }),
  TRAFFIC_MAX_LEN: int({
    section: 'audit',
    default: DEFAULT_TRAFFIC_POLICY.maxLen,
    min: 100,
    max: 100_000_000,
    meaning:
      'phone traffic events (provisioning answers, refused REGISTERs) kept per tenant (approximate trim)',
  }),
  TRAFFIC_PER_CLIENT: int({
    section: 'audit',
    default: DEFAULT_TRAFFIC_POLICY.perClient,
    ...LIMIT,
    meaning:
      'traffic events a client (its source network, `SOURCE_PREFIX_*`) writes per tenant and window, and log lines of each kind it causes per process',
  }),
  TRAFFIC_WINDOW_SECONDS: int({
    section: 'audit',
    default: DEFAULT_TRAFFIC_POLICY.windowSeconds,
    min: 1,
    max: 86400,
    meaning: 'that window',
  }),

  // ---- SIP: drachtio-server, FreeSWITCH, the registrar and router
  DRACHTIO_HOST: text({
    section: 'sip',
    default: '',
    shown: '_(off)_',
    accepts: 'host',
    meaning: 'drachtio-server control connection; unset: no SIP side (the HTTP side runs alone)',
  }),
  DRACHTIO_PORT: int({
    section: 'sip',
    default: 9022,
    min: 1,
    max: 65535,
    meaning: 'its port',
  }),
  DRACHTIO_SECRET: secret('its secret, required with `DRACHTIO_HOST`'),
  FREESWITCH_PORT: int({
    section: 'sip',
    default: 8021,
    min: 1,
    max: 65535,
    meaning: 'FreeSWITCH event socket port; also the port of `FREESWITCH_HOSTS` entries without one',
  }),
  FREESWITCH_HOST: optional({
    section: 'sip',
    accepts: 'host',
    shown: '`127.0.0.1`',
    meaning: 'FreeSWITCH event socket host',
  }),
  FREESWITCH_HOSTS: {
    section: 'sip',
    accepts: 'comma list of `host[:port]` (IPv6 as `[addr]:port`)',
    shown: '_(unset)_',
    meaning:
      'several FreeSWITCH, with the same secret, IVR calls spread across them; instead of `FREESWITCH_HOST` (both set: refused)',
    read: mediaServers,
  },
  FREESWITCH_SECRET: secret('FreeSWITCH event socket secret, required with `DRACHTIO_HOST`'),
  FREESWITCH_LISTEN_ADDRESS: text({
    section: 'sip',
    default: '127.0.0.1',
    accepts: 'address',
    meaning: "address of papgate's outbound event socket server that FreeSWITCH connects back to",
  }),
  FREESWITCH_LISTEN_PORT: tied(
    int({
      section: 'sip',
      default: 8085,
      min: 1,
      max: 65535,
      meaning:
        "port of that server; with `FREESWITCH_HOSTS` the n-th server's is this port + n - 1. FreeSWITCH connects back only to the `address:port` pairs in its `PAPGATE_LISTENERS` (config/freeswitch/vars.xml)",
    }),
    (port, v: { FREESWITCH_HOSTS: readonly MediaServerAddress[] }) =>
      port + v.FREESWITCH_HOSTS.length - 1 > 65535
        ? `with ${v.FREESWITCH_HOSTS.length} FreeSWITCH servers the last listener would be port ${port + v.FREESWITCH_HOSTS.length - 1}: at most 65535`
        : null,
  ),
  SIP_REGISTRAR: text({
    section: 'sip',
    default: '127.0.0.1:5060',
    accepts: 'host[:port]',
    meaning: 'host[:port] phones use as registrar and outbound proxy (drachtio-server)',
    check: hostPort,
  }),
  SIP_TLS_REGISTRAR: optional({
    section: 'sip',
    accepts: 'host[:port]',
    shown: '_(none: UDP)_',
    meaning:
      'host[:port] (port `5061` unless given) where phones reach drachtio-server\'s TLS listener (see "SIP over TLS"); set: the minimal configurations of the phones that can ask for account 1 over TLS there with SRTP mandatory and the server\'s certificate checked (docs/phones.md, "SIP over TLS and SRTP"); the others stay on `SIP_REGISTRAR` over UDP',
    check: hostPort,
  }),
  SIP_TLS_CA_FILE: tied(
    optional({
      section: 'sip',
      accepts: 'path of a PEM file',
      meaning:
        "the CA (PEM, one or more) that issued the TLS listener's certificate, where it is not one the phones trust already: served at `/sip-ca.pem` beside the configuration files, and named in the minimal files of the phones that load a CA from a URL (Yealink)",
    }),
    (file, v: { SIP_TLS_REGISTRAR: string | null }) =>
      file !== null && v.SIP_TLS_REGISTRAR === null ? 'needs SIP_TLS_REGISTRAR' : null,
  ),
  SIP_TLS_EMERGENCY_SRTP: flag({
    section: 'sip',
    default: false,
    meaning:
      "`1`: the operator's word that `EMERGENCY_ROUTE` and the routes of `EMERGENCY_SITE_ROUTES` answer SRTP keyed in the SDP (SDES), or that an SBC before them ends it. papgate does not start with `SIP_TLS_REGISTRAR` without it: the phones given TLS demand SRTP on every call, emergency calls included, whose offer papgate passes on as it came, and a route that answers plain RTP leaves them without emergency calls",
  }),
  SIP_REALM: text({ section: 'sip', default: 'papgate', accepts: 'text', meaning: 'digest realm' }),
  SIP_REGISTER_EXPIRES_SECONDS: int({
    section: 'sip',
    default: 300,
    min: 30,
    max: 86400,
    meaning: 'longest registration granted',
  }),
  SIP_NONCE_SECONDS: int({
    section: 'sip',
    default: 60,
    min: 5,
    max: 3600,
    meaning: 'digest nonce lifetime (SIP, and the provisioning challenge of Gigaset bases)',
  }),
  SIP_BIND_TO_PROVISIONING_IP: flag({
    section: 'sip',
    default: true,
    meaning:
      '`0`: one restricted password per device from anywhere, instead of one per fetching address checked against the SIP source address',
  }),
  SIP_REQUIRE_TLS: tied(
    flag({
      section: 'sip',
      default: false,
      meaning:
        '`1`: the restricted accounts only over TLS (drachtio-server\'s `sips:` contact, see "SIP over TLS"): a REGISTER or a call that arrives over UDP or TCP gets 403, and an IVR call offering anything but SRTP keyed in its SDP (SDES) 488, except emergency calls, never refused for their transport, and calls of `SIP_TRUSTED_PEERS` (over any transport). Needs `SIP_TLS_REGISTRAR`; the phones whose minimal file cannot ask for TLS and SRTP (docs/phones.md) are then refused (warned at start-up)',
    }),
    (on, v: { SIP_TLS_REGISTRAR: string | null }) =>
      on && v.SIP_TLS_REGISTRAR === null
        ? "needs SIP_TLS_REGISTRAR: without it papgate's minimal configurations give every phone UDP, and every phone would be refused"
        : null,
  ),
  SIP_TRUSTED_PEERS: addresses({
    section: 'sip',
    meaning: 'PBX addresses/CIDRs allowed to send `*89` calls naming a device',
  }),
  SIP_DEVICE_HEADER: text({
    section: 'sip',
    default: 'X-Papgate-Device',
    accepts: 'header name',
    meaning: 'header in which a trusted PBX names the device MAC',
  }),
  SIP_DEVICE_ADDRESS_HEADER: text({
    section: 'sip',
    default: 'X-Papgate-Device-Address',
    accepts: 'header name',
    meaning:
      'header in which a trusted PBX names the phone\'s public address, which a PAP success whitelists (see "Where the phone is")',
  }),
  LOCK_WATCH_INTERVAL_MS: int({
    section: 'sip',
    default: 10000,
    min: 100,
    max: 3600000,
    meaning: 'how often expired `failed` locks are looked for (and phones notified)',
  }),
  SIP_REGISTER_RATE_LIMIT: int({
    section: 'sip',
    default: 0,
    min: 0,
    max: LIMIT.max,
    meaning:
      "ceiling on new registrations (a REGISTER that answers no fresh challenge of papgate's) per second, 0: none (measured overload sheds); above it: 503 + `Retry-After`",
  }),
  SIP_REGISTER_MAX_PENDING: int({
    section: 'sip',
    default: 1000,
    ...LIMIT,
    meaning: 'REGISTERs waiting for Redis at once; above it: 503 + `Retry-After`',
  }),
  SIP_OVERLOAD_BEHIND_MS: int({
    section: 'sip',
    default: 200,
    min: 5,
    max: 10_000,
    meaning:
      "a new registration gets 503 + `Retry-After` while papgate is this far behind: the request's age, the event loop's delay, or the oldest REGISTER's wait for Redis",
  }),
  SIP_OVERLOAD_FAR_BEHIND_MS: tied(
    int({
      section: 'sip',
      default: 400,
      min: 5,
      max: 10_000,
      meaning:
        'a REGISTER that answers a fresh challenge of papgate\'s gets 503 only this far behind (see "Overload"); at least `SIP_OVERLOAD_BEHIND_MS`, so raising that above 400 means raising this too',
    }),
    (far, v: { SIP_OVERLOAD_BEHIND_MS: number }, set) =>
      far < v.SIP_OVERLOAD_BEHIND_MS
        ? `must be at least SIP_OVERLOAD_BEHIND_MS (${v.SIP_OVERLOAD_BEHIND_MS}); it is ${far}` +
          (set ? '' : ' (default): set it too')
        : null,
  ),
  SIP_OVERLOAD_RETRY_AFTER_SECONDS: int({
    section: 'sip',
    default: 10,
    min: 1,
    max: 3600,
    meaning: '`Retry-After` of those 503s, and of a 503 when FreeSWITCH refuses a channel',
  }),

  // ---- SIP: the IVR
  AUTH_SERVICE_NUMBER: text({
    section: 'sip',
    default: '*89',
    accepts: '1 to 16 of `0-9 * #`',
    meaning: 'number of the authentication IVR (hotline target)',
    check: (v) => (/^[0-9*#]{1,16}$/.test(v) ? null : 'expected 1-16 of 0-9, * and #'),
  }),
  PROMPTS_DIR: text({
    section: 'sip',
    default: 'prompts',
    shown: '`./prompts`',
    accepts: 'path',
    meaning: 'prompt folder (must be the same path for FreeSWITCH)',
  }),
  IVR_FIRST_DIGIT_TIMEOUT_MS: int({
    section: 'sip',
    default: 10000,
    min: 500,
    max: 120000,
    meaning: 'how long the IVR waits for the first digit',
  }),
  IVR_INTER_DIGIT_TIMEOUT_MS: int({
    section: 'sip',
    default: 5000,
    min: 500,
    max: 60000,
    meaning: 'and for each further digit',
  }),
  IVR_OVERALL_TIMEOUT_MS: int({
    section: 'sip',
    default: 60000,
    min: 1000,
    max: 600000,
    meaning: 'longest digit collection of a call',
  }),
  IVR_MAX_CALLS: int({
    section: 'sip',
    default: 400,
    min: 1,
    max: 100_000,
    meaning:
      "IVR calls at once (one FreeSWITCH channel each); a new call above it gets 503 + `Retry-After` before digest and Redis; keep it below FreeSWITCH's `max-sessions`",
  }),
  IVR_MAX_CALLS_PER_DEVICE: int({
    section: 'sip',
    default: 2,
    min: 1,
    max: 100_000,
    meaning:
      'IVR calls of one device (MAC) from one source network at once; one more gets 503 + `Retry-After` once the digest named the device',
  }),
  IVR_MAX_CALLS_PER_SOURCE: int({
    section: 'sip',
    default: 40,
    min: 1,
    max: 100_000,
    meaning:
      'IVR calls from one source network (`SOURCE_PREFIX_IPV4/_IPV6`) at once; one more gets 503 + `Retry-After` before digest and Redis',
  }),

  // ---- SIP: emergency calls
  EMERGENCY_NUMBERS: list({
    section: 'sip',
    default: DEFAULT_EMERGENCY_NUMBERS,
    accepts: 'comma list of numbers (`0-9 + * #`)',
    meaning: 'numbers routed straight to `EMERGENCY_ROUTE`',
    check: (n) => (/^[0-9+*#]{1,16}$/.test(n) ? null : `invalid number "${n}"`),
  }),
  EMERGENCY_ROUTE: optional({
    section: 'sip',
    accepts: 'SIP URI',
    meaning: 'SIP URI emergency calls are sent to (`sip:host:port`)',
    check: (v) => (SIP_ROUTE.test(v) ? null : `expected a SIP URI (sip:host[:port]), got "${v}"`),
  }),
  EMERGENCY_SITE_ROUTES: list({
    section: 'sip',
    default: [],
    accepts: 'comma list of SIP URIs',
    meaning:
      'further SIP URIs a site record may name as its `emergencyRoute` (exact text); any other route is refused (400) and never used',
    check: (r) => (SIP_ROUTE.test(r) ? null : `expected SIP URIs, got "${r}"`),
  }),
  EMERGENCY_CALLER_ID: optional({
    section: 'sip',
    accepts: 'E.164 number',
    meaning:
      'E.164 identity (P-Asserted-Identity, From) of emergency calls without an allowed site caller ID; unset: see "Sites and emergency calls"',
    check: (v) => (isE164(v) ? null : `expected an E.164 number (+4930...), got "${v}"`),
  }),
  EMERGENCY_SEND_LOCATION: flag({
    section: 'sip',
    default: false,
    meaning: '`1`: emergency routes accept a location (RFC 6442 PIDF-LO); a site record can say otherwise',
  }),

  // ---- Language, time and logs
  DEFAULT_LANGUAGE: text<Language>({
    section: 'general',
    default: 'en',
    accepts: LANGUAGES.map((l) => `\`${l}\``).join(', '),
    meaning: 'prompt language when neither device nor tenant sets one',
    check: (v) => (isLanguage(v) ? null : 'must be "en" or "de"'),
  }),
  DEFAULT_TIME_ZONE: {
    section: 'general',
    accepts: 'IANA time zone',
    shown: '`UTC`',
    meaning: 'time zone of lock ends on phone displays, for tenants without `timeZone`',
    read: (raw: Raw): string => {
      const zone = parseTimeZone(given(raw) ? raw : 'UTC');
      if (zone === null) throw new Invalid(`unknown IANA time zone "${raw}"`);
      return zone;
    },
  },
  LOG_LEVEL: text({
    section: 'general',
    default: 'info',
    accepts: LOG_LEVELS.map((l) => `\`${l}\``).join(', '),
    meaning: 'pino level',
    check: (v) => (LOG_LEVELS.includes(v) ? null : `unknown level "${v}"`),
  }),
} satisfies Record<string, Variable<unknown, never>>;

/** Every variable's value, as loadConfig reads it. */
export type Values = { readonly [K in keyof typeof VARIABLES]: ReturnType<(typeof VARIABLES)[K]['read']> };

// Each rule reads variables with the types it expects (their order is checked as they are read).
type Before<K extends keyof typeof VARIABLES> =
  Parameters<(typeof VARIABLES)[K]['read']> extends [unknown, infer B] ? B : unknown;
type Unmet = { [K in keyof typeof VARIABLES]: Values extends Before<K> ? never : K }[keyof typeof VARIABLES];
export const RULES_MET: [Unmet] extends [never] ? true : Unmet = true;

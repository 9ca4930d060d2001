import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { XMLValidator } from 'fast-xml-parser';
import pino from 'pino';
import { EXPORT_COLUMNS, IMPORT_OPTIONAL } from '../src/admin/csv';
import { openApiDocument } from '../src/admin/openapi';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { parseNewDevice, VENDORS, type Vendor } from '../src/domain/device';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { createProvisioningServer } from '../src/provisioning/server';
import { startEmbeddedRedis } from '../src/store/embedded';
import { DEVICE } from '../src/store/keys';
import { ACCOUNT } from './support/http';
import {
  changedEntries,
  choose,
  commandsProcessed,
  fuzzSeeds,
  Rng,
  sendRaw,
  storeSnapshot,
  type Choice,
  type RawReply,
  type RawRequest,
} from './support/fuzz';
import { TestRedis } from './support/redis';

/**
 * A bounded fuzz run against the real admin and provisioning servers over a real Redis: a fixed
 * seed (the same run everywhere) and FUZZ_SEED (else a random one). A run passes when no answer is
 * a 5xx other than 503 while Redis is stopped, every answer comes within REPLY_BOUND_MS, stalled
 * requests are cut within STALL_BOUND_MS, nothing crashes, a request without the admin token
 * reaches neither a handler nor Redis, and a refused request writes nothing beyond what is audited
 * by design.
 */

const FIXED_SEED = 0x7a11;
const SEEDS = fuzzSeeds(FIXED_SEED, process.env.FUZZ_SEED);
const TOKEN = 'fuzz-admin-token-0123456789abcdef';
/** The servers' header and body timeouts are a few seconds; no answer may take longer than this. */
const REPLY_BOUND_MS = 5000;
/** Both servers' header and request timeouts in this suite (shorter than the defaults, same code). */
const TIMEOUTS = { HTTP_HEADERS_TIMEOUT_SECONDS: '2', HTTP_REQUEST_TIMEOUT_SECONDS: '3' };
/** A stalled request must be cut by then: the timeouts plus the servers' interval for checking them. */
const STALL_BOUND_MS = (Number(TIMEOUTS.HTTP_REQUEST_TIMEOUT_SECONDS) + 1) * 1000;
const CASES_PER_SEED = 2000;
const OUTAGE_CASES = 100;
const TRUSTED_PROXY = '127.0.0.1';
/** 127.0.0.3 is on acme's permanent whitelist, so some requests get (and write) full configurations. */
const SOURCES = [TRUSTED_PROXY, '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];

// ---- the world the requests are aimed at ---------------------------------------------------------

interface Phone {
  readonly vendor: Vendor;
  readonly model: string;
  readonly mac: string;
  readonly files: (mac: string) => string[];
  readonly ua: (mac: string) => string;
}

const colons = (mac: string) => mac.replace(/(..)(?!$)/g, '$1:');

const PHONES: readonly Phone[] = [
  {
    vendor: 'yealink',
    model: 'T54W',
    mac: '001565000001',
    files: (m) => [`${m}.cfg`],
    ua: (m) => `Yealink SIP-T54W 96.86.0.70 ${colons(m)}`,
  },
  {
    vendor: 'snom',
    model: 'D785',
    mac: '000413000002',
    files: (m) => [`snomD785-${m.toUpperCase()}.htm`, `${m.toUpperCase()}.xml`],
    ua: () => 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13)',
  },
  {
    vendor: 'poly',
    model: 'VVX 450',
    mac: '0004f2000003',
    files: (m) => [`${m}.cfg`, `${m}-phone.cfg`],
    ua: () => 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234 Type/Application',
  },
  {
    vendor: 'cisco',
    model: 'SPA112',
    mac: '00d0b8000004',
    files: (m) => [`${m}.xml`],
    ua: (m) => `Cisco/SPA112-1.4.1 (${m.toUpperCase()})`,
  },
  {
    vendor: 'gigaset',
    model: 'N720 DM PRO',
    mac: '7c2f80000005',
    files: (m) => [`${m.toUpperCase()}.xml`],
    ua: () => 'Gigaset N720 DM PRO/70.106.00.000.000',
  },
  {
    vendor: 'patton',
    model: 'SN4112',
    mac: '00a0ba000006',
    files: (m) => [`${m}.cfg`],
    ua: () => 'Patton SmartNode SN4112/JS/EUI',
  },
  {
    vendor: 'grandstream',
    model: 'GXP2170',
    mac: '000b82000007',
    files: (m) => [`cfg${m}.xml`],
    ua: (m) => `Grandstream Model HW GXP2170 SW 1.0.11.3 DevId ${m}`,
  },
  {
    vendor: 'panasonic',
    model: 'KX-TGP500',
    mac: '0080f0000008',
    files: (m) => [`Config${m.toUpperCase()}.cfg`],
    ua: (m) => `Panasonic_KX-TGP500/01.133 (${m})`,
  },
];

/** MACs the admin requests add, delete and authenticate: a small pool, so they collide often. */
const MAC_POOL = [
  ...PHONES.map((p) => p.mac),
  ...Array.from({ length: 16 }, (_, i) => `02fe00${i.toString(16).padStart(6, '0')}`),
];

const HEX = '0123456789abcdef';
const FILE_CHARS = 'abcdefABCDEF0123456789._-';
const CREDENTIAL_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-';
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const WILD = `${PRINTABLE}\u0000\u0001\t\n\r\u007f\u00e9\u00ff\u0100\u202e\u2028\ud83d\ude00\ufeff`;
/** Strings that have broken parsers before: encodings, traversal, prototype keys, numbers. */
const JUNK = [
  '',
  ' ',
  '%',
  '%%',
  '%00',
  '%2e%2e',
  '%2F',
  '..',
  '../..',
  '\\',
  '%ZZ',
  '%c0%af',
  '\u00e9',
  '\ud83d\ude00',
  '\u202e',
  'null',
  '__proto__',
  'constructor',
  '0',
  '-1',
  '1e309',
  'NaN',
  "'",
  '"',
  '<x>',
  '${x}',
  '{{x}}',
  ';',
  '&',
  '#',
  '?',
  '*',
];

/** encodeURIComponent of any string (lone surrogates become U+FFFD first). */
const uri = (s: string) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8'));
const randomMac = (rng: Rng) => rng.chars(HEX, 12);
const wild = (rng: Rng, max: number) => rng.chars(WILD, rng.int(0, max));
/** Header values: anything but the control characters that end a header line (EXTRA_HEADERS sends those). */
const TEXT = WILD.replace(/[\u0000-\u001f\u007f]/g, '');
const text = (rng: Rng, max: number) => rng.chars(TEXT, rng.int(0, max));

/** Percent-encodes some characters (upper- or lower-case hex), as a client or an attacker might. */
function encodeSome(rng: Rng, s: string, p: number): string {
  return [...s]
    .map((ch) => {
      if (ch === '/' || !rng.chance(p)) return ch;
      const hex = [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      return rng.chance(0.5) ? hex.toUpperCase() : hex;
    })
    .join('');
}

/** Ways to write the same path differently; the first few stay well-formed HTTP. */
const PATH_MUTATIONS: readonly Choice<(p: string) => string>[] = [
  { name: 'percent-encoded', weight: 3, gen: (rng) => (p) => encodeSome(rng, p, 0.3) },
  { name: 'doubled-slash', weight: 1, gen: () => (p) => p.replace(/\//g, '//') },
  { name: 'dot-segment', weight: 1, gen: () => (p) => p.replace(/\/(?=[^/]*$)/, '/./') },
  { name: 'trailing-?', weight: 1, gen: () => (p) => `${p}?` },
  { name: ';param', weight: 1, gen: () => (p) => p.replace(/(\/[^/]+)$/, '$1;x=1') },
  { name: 'trailing-slash', weight: 1, gen: () => (p) => `${p}/` },
  {
    name: 'case-flip',
    weight: 1,
    gen: (rng) => (p) => [...p].map((c) => (rng.chance(0.2) ? c.toUpperCase() : c)).join(''),
  },
  { name: 'traversal', weight: 1, gen: (rng) => (p) => `/${rng.pick(['..', '%2e%2e', '.%2e', 'x/..'])}${p}` },
  { name: 'backslash', weight: 1, gen: () => (p) => p.replace(/\/(?=[^/]*$)/, '\\') },
  {
    name: 'query-junk',
    weight: 1,
    gen: (rng) => (p) => `${p}?${encodeSome(rng, rng.pick(JUNK), 0.5)}=${wild(rng, 8)}`,
  },
  { name: 'fragment', weight: 1, gen: () => (p) => `${p}#frag` },
  { name: 'nul', weight: 1, gen: (rng) => (p) => `${p}${rng.pick(['%00', '\u0000'])}` },
  { name: 'long', weight: 1, gen: (rng) => (p) => `${p}/${'a'.repeat(rng.int(300, 20_000))}` },
  { name: 'absolute-form', weight: 1, gen: () => (p) => `http://127.0.0.1${p}` },
  { name: 'wild-chars', weight: 1, gen: (rng) => (p) => `${p}${wild(rng, 6)}` },
];
/** The mutations that keep a path valid HTTP (for requests that must still be answered 401/404). */
const ENCODING_MUTATIONS = PATH_MUTATIONS.slice(0, 6);

const METHODS: readonly Choice<string>[] = [
  { name: 'GET', weight: 12, gen: () => 'GET' },
  { name: 'HEAD', weight: 3, gen: () => 'HEAD' },
  ...['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT'].map((m) => ({
    name: m,
    weight: 1,
    gen: () => m,
  })),
  { name: 'lower-case', weight: 0.5, gen: () => 'get' },
  {
    name: 'garbage',
    weight: 0.5,
    gen: (rng: Rng) => rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ-!{', rng.int(1, 12)),
  },
];

type Header = readonly [string, string];
type HeaderGen = readonly Choice<readonly Header[]>[];

const none: Choice<readonly Header[]> = { name: 'none', weight: 3, gen: () => [] };

function userAgents(phone: Phone): HeaderGen {
  return [
    none,
    { name: 'right', weight: 4, gen: () => [['User-Agent', phone.ua(phone.mac)]] },
    { name: 'other-vendor', weight: 1, gen: (rng) => [['User-Agent', rng.pick(PHONES).ua(phone.mac)]] },
    { name: 'other-mac', weight: 1, gen: (rng) => [['User-Agent', phone.ua(randomMac(rng))]] },
    { name: 'random', weight: 1, gen: (rng) => [['User-Agent', text(rng, 80)]] },
    {
      name: 'long',
      weight: 0.5,
      gen: (rng) => [['User-Agent', `${phone.ua(phone.mac)} ${'x'.repeat(rng.int(1000, 9000))}`]],
    },
  ];
}

const HOPS: readonly Choice<string>[] = [
  {
    name: 'v4',
    weight: 3,
    gen: (rng) => `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(0, 255)}`,
  },
  { name: 'whitelisted', weight: 1, gen: () => '127.0.0.3' },
  { name: 'proxy', weight: 1, gen: () => TRUSTED_PROXY },
  { name: 'v6', weight: 1, gen: (rng) => `2001:db8::${rng.chars(HEX, rng.int(1, 4))}` },
  { name: 'mapped', weight: 1, gen: () => '::ffff:127.0.0.3' },
  { name: 'port', weight: 1, gen: () => '198.51.100.7:8080' },
  { name: 'bracketed', weight: 1, gen: () => '[2001:db8::1]' },
  { name: 'zone', weight: 1, gen: () => 'fe80::1%eth0' },
  { name: 'shorthand', weight: 1, gen: () => '0x7f.1' },
  {
    name: 'junk',
    weight: 2,
    gen: (rng) => rng.pick(['unknown', '', ' ', '_hidden', 'x'.repeat(300), ',', '256.1.1.1']),
  },
  { name: 'text', weight: 1, gen: (rng) => text(rng, 20) },
];

const FORWARDED: HeaderGen = [
  none,
  {
    name: 'hops',
    weight: 4,
    gen: (rng) => [
      [
        'X-Forwarded-For',
        Array.from({ length: rng.int(1, 5) }, () => choose(rng, HOPS).value).join(
          rng.pick([',', ', ', ' ,']),
        ),
      ],
    ],
  },
  {
    name: 'many-hops',
    weight: 0.5,
    gen: (rng) => [
      ['X-Forwarded-For', Array.from({ length: rng.int(50, 400) }, () => choose(rng, HOPS).value).join(',')],
    ],
  },
  {
    name: 'repeated',
    weight: 1,
    gen: (rng) => [
      ['X-Forwarded-For', choose(rng, HOPS).value],
      ['X-Forwarded-For', choose(rng, HOPS).value],
    ],
  },
];

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function authorizations(phone: Phone): HeaderGen {
  return [
    none,
    {
      name: 'basic-mac',
      weight: 2,
      gen: (rng) => [['Authorization', `Basic ${b64(`${phone.mac}:${rng.chars(HEX, 32)}`)}`]],
    },
    {
      name: 'basic-other-mac',
      weight: 1,
      gen: (rng) => [['Authorization', `Basic ${b64(`${randomMac(rng)}:${wild(rng, 40)}`)}`]],
    },
    { name: 'basic-no-colon', weight: 1, gen: (rng) => [['Authorization', `Basic ${b64(wild(rng, 30))}`]] },
    {
      name: 'basic-broken',
      weight: 1,
      gen: (rng) => [['Authorization', `Basic ${rng.chars(PRINTABLE, rng.int(0, 60))}`]],
    },
    {
      name: 'basic-long',
      weight: 0.5,
      gen: (rng) => [['Authorization', `Basic ${b64(`${phone.mac}:${'p'.repeat(rng.int(100, 5000))}`)}`]],
    },
    { name: 'bearer', weight: 1, gen: (rng) => [['Authorization', `Bearer ${text(rng, 40)}`]] },
    {
      name: 'scheme-only',
      weight: 0.5,
      gen: (rng) => [['Authorization', rng.pick(['Basic', 'Bearer', 'Digest', ''])]],
    },
  ];
}

const EXTRA_HEADERS: HeaderGen = [
  { ...none, weight: 6 },
  {
    name: 'content-length',
    weight: 1,
    gen: (rng) => [['Content-Length', rng.pick(['0', '5', '-1', 'abc', '99999999999999999999', '1, 1'])]],
  },
  { name: 'chunked', weight: 0.5, gen: () => [['Transfer-Encoding', 'chunked']] },
  { name: 'expect', weight: 0.5, gen: () => [['Expect', '100-continue']] },
  { name: 'random', weight: 1, gen: (rng) => [[rng.chars(`${HEX}xyz-`, rng.int(1, 20)), text(rng, 40)]] },
  { name: 'control-chars', weight: 0.5, gen: (rng) => [['X-Junk', wild(rng, 20)]] },
  { name: 'bad-name', weight: 0.5, gen: (rng) => [[`X ${rng.chars('(){}@', 3)}`, 'v']] },
  { name: 'huge', weight: 0.3, gen: (rng) => [['X-Pad', 'p'.repeat(rng.int(8000, 40_000))]] },
];

// ---- cases ------------------------------------------------------------------------------------------

interface FuzzCase {
  readonly edge: 'admin' | 'provisioning';
  /** the generators that made it, for the failure report */
  readonly kind: string;
  readonly req: RawRequest;
  /** a well-formed /api request without the right token: must be 401 or 404 and reach no handler */
  readonly unauthenticated?: boolean;
}

function headersFrom(rng: Rng, tables: Record<string, HeaderGen>): { names: string[]; headers: Header[] } {
  const names: string[] = [];
  const headers: Header[] = [];
  for (const [label, table] of Object.entries(tables)) {
    const c = choose(rng, table);
    if (c.name !== 'none') names.push(`${label}=${c.name}`);
    headers.push(...c.value);
  }
  return { names, headers };
}

function provisioningTargets(phone: Phone): readonly Choice<string>[] {
  const file = (rng: Rng) => rng.pick(phone.files(phone.mac));
  return [
    { name: 'device-file', weight: 6, gen: (rng) => `/${file(rng)}` },
    {
      name: 'credential',
      weight: 2,
      gen: (rng) => `/d/${rng.chars(CREDENTIAL_CHARS, rng.int(1, 140))}/${file(rng)}`,
    },
    {
      name: 'credential-junk',
      weight: 1,
      gen: (rng) => `/d/${encodeSome(rng, wild(rng, 30), 0.5)}/${file(rng)}`,
    },
    {
      name: 'common',
      weight: 1,
      gen: (rng) =>
        rng.pick(['/y000000000028.cfg', '/000000000000.cfg', `/y000000000${rng.int(0, 999)}.cfg`]),
    },
    {
      // devices the admin cases added, with whatever fields they were given
      name: 'pool-device',
      weight: 2,
      gen: (rng) => {
        const m = rng.pick(MAC_POOL);
        return `/${rng.pick([`${m}.cfg`, `${m}-phone.cfg`, `${m}.xml`, `${m.toUpperCase()}.xml`, `cfg${m}.xml`, `Config${m.toUpperCase()}.cfg`, `snomD785-${m.toUpperCase()}.htm`])}`;
      },
    },
    { name: 'unknown-mac', weight: 1, gen: (rng) => `/${randomMac(rng)}.cfg` },
    { name: 'random-file', weight: 2, gen: (rng) => `/${rng.chars(FILE_CHARS, rng.int(1, 140))}` },
    {
      name: 'segments',
      weight: 1,
      gen: (rng) =>
        `/${Array.from({ length: rng.int(1, 6) }, () => rng.chars(FILE_CHARS, rng.int(0, 12))).join('/')}`,
    },
    {
      name: 'traversal',
      weight: 1,
      gen: (rng) =>
        rng.pick([
          '/../../etc/passwd',
          `/d/../${file(rng)}`,
          '/%2e%2e/%2e%2e/etc/passwd',
          '/..%5c..%5cwin.ini',
        ]),
    },
    { name: 'long', weight: 1, gen: (rng) => `/${'a'.repeat(rng.int(400, 20_000))}` },
    { name: 'junk', weight: 1, gen: (rng) => `/${rng.pick(JUNK)}` },
    { name: 'odd-target', weight: 0.3, gen: (rng) => rng.pick(['*', '', 'cfg', '//', '127.0.0.1:80']) },
  ];
}

function provisioningCase(rng: Rng): FuzzCase {
  const phone = rng.pick(PHONES);
  const target = choose(rng, provisioningTargets(phone));
  const mutation = rng.chance(0.25) ? choose(rng, PATH_MUTATIONS) : null;
  const method = choose(rng, METHODS);
  const h = headersFrom(rng, {
    ua: userAgents(phone),
    xff: FORWARDED,
    auth: authorizations(phone),
    extra: EXTRA_HEADERS,
  });
  const body =
    ['POST', 'PUT'].includes(method.value) && rng.chance(0.5) ? Buffer.from(wild(rng, 200)) : undefined;
  return {
    edge: 'provisioning',
    kind: [method.name, target.name, ...(mutation ? [mutation.name] : []), ...h.names].join(' '),
    req: {
      method: method.value,
      target: mutation ? mutation.value(target.value) : target.value,
      headers: h.headers,
      from: rng.pick(SOURCES),
      ...(body ? { body } : {}),
    },
  };
}

/** The admin routes as the OpenAPI document lists them, so a new route is fuzzed without edits here. */
const ROUTES = Object.entries(openApiDocument.paths).flatMap(([path, ops]) =>
  Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })),
);
const API_ROUTES = ROUTES.filter((r) => r.path.startsWith('/api/'));

const PARAMS: Record<string, readonly Choice<string>[]> = {
  tenant: [
    { name: 'acme', weight: 6, gen: () => 'acme' },
    { name: 'unknown', weight: 1, gen: () => 'nope' },
    { name: 'new', weight: 1, gen: (rng) => `t${rng.int(0, 5)}` },
    {
      name: 'invalid',
      weight: 1,
      gen: (rng) => uri(rng.pick(['Bad{T}', '-x', 'a'.repeat(64), '\u00e9', '..', ' '])),
    },
    { name: 'wild', weight: 1, gen: (rng) => uri(wild(rng, 20)) },
  ],
  mac: [
    { name: 'pool', weight: 5, gen: (rng) => rng.pick(MAC_POOL) },
    {
      name: 'notation',
      weight: 1,
      gen: (rng) =>
        colons(rng.pick(MAC_POOL))
          .toUpperCase()
          .replace(/:/g, rng.pick([':', '-'])),
    },
    { name: 'unknown', weight: 1, gen: randomMac },
    { name: 'wild', weight: 1, gen: (rng) => uri(wild(rng, 20)) },
  ],
  tokenId: [
    { name: 'unknown', weight: 2, gen: () => '0123456789ab' },
    { name: 'wild', weight: 1, gen: (rng) => uri(wild(rng, 20)) },
  ],
  site: [
    { name: 'devices', weight: 3, gen: (rng) => uri(rng.pick(['HQ', 'Berlin', 'Floor 2/East'])) },
    { name: 'invalid', weight: 1, gen: (rng) => uri(rng.pick([' HQ', 'x'.repeat(129), '\u0000', '\n'])) },
    { name: 'wild', weight: 1, gen: (rng) => uri(wild(rng, 20)) },
  ],
  // a temporary whitelist entry's address (DELETE .../whitelist/temporary/{ip})
  ip: [
    { name: 'loopback', weight: 3, gen: (rng) => uri(rng.pick(['127.0.0.3', '127.0.0.5', '::1'])) },
    { name: 'range', weight: 1, gen: () => uri('198.51.100.0/24') },
    { name: 'wild', weight: 1, gen: (rng) => uri(wild(rng, 20)) },
  ],
  entry: [
    {
      name: 'whitelisted',
      weight: 3,
      gen: (rng) => uri(rng.pick(['127.0.0.3', '198.51.100.0/24', '2001:db8::/32'])),
    },
    { name: 'unknown', weight: 1, gen: () => '203.0.113.9' },
    { name: 'wild', weight: 1, gen: (rng) => uri(wild(rng, 20)) },
  ],
};

/** Over 2^64: Redis refuses such stream ids. */
const HUGE = '18446744073709551616';
const QUERY_VALUES: Record<string, readonly string[]> = {
  state: ['needed', 'failed', 'blocked', 'successful', 'NEEDED', 'happy', '', '%00'],
  site: ['HQ', 'Berlin', '', '%C3%A9', '%00', 'x'.repeat(500)],
  count: ['1', '100', '1000', '1001', '0', '-1', '1e3', '0x10', '1.5', 'NaN', '', HUGE],
  before: [
    '0-0',
    '0-1',
    '1-0',
    '1700000000000-0',
    `${HUGE}-0`,
    `1-${HUGE}`,
    '99999999999999999999999-1',
    '1',
    '-',
    '+',
    '(1-0',
    '',
    '1-1-1',
  ],
};

function queryString(rng: Rng): string {
  const parts: string[] = [];
  for (const [name, values] of Object.entries(QUERY_VALUES)) {
    if (rng.chance(0.35))
      parts.push(`${name}=${rng.chance(0.8) ? rng.pick(values) : encodeSome(rng, wild(rng, 12), 1)}`);
  }
  if (rng.chance(0.1)) parts.push(`${rng.pick(Object.keys(QUERY_VALUES))}=${rng.pick(['a', '1'])}`); // repeated
  if (rng.chance(0.05)) parts.push(rng.pick(['=', '&&', '%', 'x', `${'q'.repeat(3000)}=1`]));
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Random JSON values, nested up to `depth`. */
function randomJson(rng: Rng, depth: number): unknown {
  const leaf = () =>
    rng.pick([null, true, false, 0, -1, 1.5, 1e308, wild(rng, 20), rng.pick(JUNK), '123456']);
  if (depth <= 0 || rng.chance(0.4)) return leaf();
  if (rng.chance(0.5)) return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth - 1));
  return Object.fromEntries(
    Array.from({ length: rng.int(0, 5) }, () => [
      rng.pick([...FIELD_NAMES, wild(rng, 8)]),
      randomJson(rng, depth - 1),
    ]),
  );
}
const FIELD_NAMES = ['name', 'language', 'mac', 'vendor', 'model', 'site', 'accounts', 'entry', 'pap', 'ip'];

/** Plausible values per field, including the wrong ones an admin tool might send. */
const FIELD_VALUES: Record<string, (rng: Rng) => unknown> = {
  name: (rng) => rng.pick(['Acme', '', 'x'.repeat(201), 42, null, text(rng, 30), wild(rng, 30)]),
  language: (rng) => rng.pick(['en', 'de', 'fr', '', null, 1]),
  mac: (rng) =>
    rng.pick([rng.pick(MAC_POOL), colons(rng.pick(MAC_POOL)), randomMac(rng), '00:15:65:aa:bb', 12, null]),
  vendor: (rng) => rng.pick([...VENDORS, 'nokia', 'YEALINK', '', null]),
  model: (rng) => rng.pick(['T54W', 'D785', 'x'.repeat(65), '', text(rng, 20), wild(rng, 20), ['T54W']]),
  site: (rng) => rng.pick(['HQ', 'Berlin', '=HYPERLINK("x")', 'x'.repeat(129), 'a\u0000b', text(rng, 30)]),
  accounts: (rng) =>
    rng.pick([
      [ACCOUNT],
      [],
      [{}],
      [{ ...ACCOUNT, password: text(rng, 30), displayName: text(rng, 30) }],
      [{ ...ACCOUNT, server: `${text(rng, 10)}:${rng.int(0, 99999)}`, user: text(rng, 12) }],
      Array.from({ length: 17 }, () => ACCOUNT),
      'none',
      [null],
    ]),
  entry: (rng) =>
    rng.pick([
      '198.51.100.0/24',
      '127.0.0.3',
      '2001:DB8::/32',
      '0.0.0.0/0',
      '10.1',
      '0x7f.1',
      '1.2.3.4/33',
      wild(rng, 20),
      5,
    ]),
  pap: (rng) => rng.pick([rng.chars('0123456789', 6), '12345', '1234567', 123456, null, '12345\u0000']),
  ip: (rng) => rng.pick(['198.51.100.7', '::ffff:198.51.100.7', '1.2.3', {}, null, wild(rng, 16)]),
  emergencyCallerId: (rng) =>
    rng.pick(['+493012345678', '+0123', '03012345678', '+1'.repeat(9), 4930, wild(rng, 16)]),
  civicAddress: (rng) =>
    rng.pick([
      { country: 'DE', A3: 'Berlin', RD: 'Unter den Linden', HNO: '1' },
      { country: 'de', A3: 'x' },
      { country: 'DE' },
      { country: 'DE', A3: wild(rng, 40), XYZ: '1' },
      { country: 'DE', NAM: '<&"\u0000>' },
      [],
      null,
      wild(rng, 20),
    ]),
  emergencyRoute: (rng) =>
    rng.pick(['sip:127.0.0.1:5099', 'sips:psap.example', 'http://x', 'sip: x', null, 7]),
  sendLocation: (rng) => rng.pick([true, false, null, 'yes', 1]),
  emergencyCallerIdPrefixes: (rng) =>
    rng.pick([['+4930'], [], ['+4930', '+1'], ['030'], '+4930', null, [wild(rng, 8)], Array(101).fill('+1')]),
};

const BODY_FIELDS: Record<string, readonly string[]> = {
  'PUT /api/v1/tenants/{tenant}': ['name', 'language', 'emergencyCallerIdPrefixes'],
  'POST /api/v1/tenants/{tenant}/devices': ['mac', 'vendor', 'model', 'site', 'language', 'accounts'],
  'POST /api/v1/tenants/{tenant}/whitelist': ['entry'],
  'POST /api/v1/authenticate': ['mac', 'pap', 'ip'],
  'PUT /api/v1/tenants/{tenant}/sites/{site}': [
    'emergencyCallerId',
    'civicAddress',
    'emergencyRoute',
    'sendLocation',
  ],
};

const JSON_BODIES: readonly Choice<(fields: readonly string[]) => string>[] = [
  {
    name: 'fields',
    weight: 6,
    gen: (rng) => (fields) =>
      JSON.stringify(
        Object.fromEntries(fields.filter(() => rng.chance(0.85)).map((f) => [f, FIELD_VALUES[f]!(rng)])),
      ),
  },
  { name: 'random-json', weight: 2, gen: (rng) => () => JSON.stringify(randomJson(rng, 4)) ?? 'null' },
  {
    name: 'deep',
    weight: 0.5,
    gen: (rng) => () => {
      const n = rng.int(1000, 200_000);
      return rng.chance(0.5) ? `${'['.repeat(n)}${']'.repeat(n)}` : `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    },
  },
  {
    name: 'huge-string',
    weight: 0.5,
    gen: (rng) => (fields) =>
      JSON.stringify({ [rng.pick(fields.length ? fields : ['x'])]: 'x'.repeat(rng.int(100_000, 1_200_000)) }),
  },
  {
    name: 'malformed',
    weight: 1,
    gen: (rng) => () =>
      rng.pick([
        '{',
        '{"mac": ',
        '{"a":1,}',
        'NaN',
        "{'a':1}",
        '{"a":1}x',
        '\ufeff{}',
        '',
        ' ',
        '[',
        'nul',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '"\\ud800"',
      ]),
  },
  { name: 'binary', weight: 0.5, gen: (rng) => () => wild(rng, 300) },
];

const CONTENT_TYPES: readonly Choice<string | null>[] = [
  { name: 'json', weight: 8, gen: () => 'application/json' },
  {
    name: 'json-variant',
    weight: 1,
    gen: (rng) =>
      rng.pick([
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/json; charset=latin1',
        'application/json;;',
        'application/jsonx',
        'application/vnd.api+json',
      ]),
  },
  { name: 'csv', weight: 1, gen: () => 'text/csv' },
  {
    name: 'other',
    weight: 1,
    gen: (rng) =>
      rng.pick([
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/octet-stream',
        ';;;',
        '',
      ]),
  },
  { name: 'missing', weight: 1, gen: () => null },
];

const ADMIN_AUTH: readonly Choice<string | null>[] = [
  { name: 'none', weight: 2, gen: () => null },
  { name: 'wrong', weight: 1, gen: (rng) => `Bearer ${rng.chars(CREDENTIAL_CHARS, rng.int(1, 40))}` },
  { name: 'empty-bearer', weight: 1, gen: () => 'Bearer ' },
  { name: 'basic', weight: 1, gen: () => `Basic ${b64(`admin:${TOKEN}`)}` },
  { name: 'prefix', weight: 1, gen: () => `Bearer ${TOKEN.slice(0, -1)}` },
];

function fillPath(rng: Rng, template: string): { path: string; names: string[] } {
  const names: string[] = [];
  const path = template.replace(/\{(\w+)\}/g, (_, p: string) => {
    const c = choose(rng, PARAMS[p]!);
    names.push(`${p}=${c.name}`);
    return c.value;
  });
  return { path, names };
}

function adminCase(rng: Rng, withToken: boolean): FuzzCase {
  const route = rng.pick(withToken ? ROUTES : API_ROUTES);
  const filled = fillPath(rng, route.path);
  const names = [route.method, route.path, ...filled.names];
  let target = filled.path;
  if (!withToken || rng.chance(0.2)) {
    const m = choose(rng, withToken ? PATH_MUTATIONS : ENCODING_MUTATIONS);
    names.push(m.name);
    target = m.value(target);
  }
  if (route.method === 'GET') target += queryString(rng);
  const headers: Header[] = [];
  if (withToken) headers.push(['Authorization', `Bearer ${TOKEN}`]);
  else {
    const a = choose(rng, ADMIN_AUTH);
    names.push(`auth=${a.name}`);
    if (a.value !== null) headers.push(['Authorization', a.value]);
  }
  const fields = BODY_FIELDS[`${route.method} ${route.path}`];
  let body: Buffer | undefined;
  if (fields !== undefined || rng.chance(0.1)) {
    const b = choose(rng, JSON_BODIES);
    const ct = choose(rng, CONTENT_TYPES);
    names.push(`body=${b.name}`, `type=${ct.name}`);
    body = Buffer.from(b.value(fields ?? []), 'utf8');
    if (ct.value !== null) headers.push(['Content-Type', ct.value]);
  }
  const method =
    withToken && rng.chance(0.05) ? choose(rng, METHODS) : { name: route.method, value: route.method };
  if (method.value !== route.method) names.push(`method=${method.name}`);
  return {
    edge: 'admin',
    kind: names.join(' '),
    req: { method: method.value, target, headers, from: '127.0.0.1', ...(body ? { body } : {}) },
    unauthenticated: !withToken,
  };
}

// ---- CSV imports ------------------------------------------------------------------------------------

/** Every column the import reads (unknown ones are generated separately). */
const CSV_COLUMNS = [...new Set<string>([...EXPORT_COLUMNS, ...IMPORT_OPTIONAL])];

const CSV_CELLS: Record<string, (rng: Rng, row: number) => string> = {
  vendor: (rng) => rng.pick([...VENDORS, 'Yealink', 'nokia']),
  type: (rng) => rng.pick(['T54W', 'D785', 'GXP2170', 'x'.repeat(65)]),
  mac: (rng, row) => (rng.chance(0.8) ? `02fd${row.toString(16).padStart(8, '0')}` : rng.pick(MAC_POOL)),
  site: (rng) => rng.pick(['HQ', 'Berlin, 2nd "floor"', "'=1+1", '=1+1', 'multi\nline']),
  language: (rng) => rng.pick(['', 'en', 'de', 'xx']),
  sip_server: (rng) => rng.pick(['', 'sip.example.net', 'sip.example.net:5080']),
  sip_user: (rng) => rng.pick(['', '100']),
  sip_auth_user: (rng) => rng.pick(['', 'auth100']),
  sip_password: (rng) => rng.pick(['', 'pw', 'p,w"\'']),
  display_name: (rng) => rng.pick(['', 'Reception', '\u00c9milie']),
  created: () => '2024-01-01T00:00:00.000Z',
  state: () => 'needed',
  pap: () => '123456',
};

/** What can be wrong with one cell. */
const CSV_CELL_TROUBLE: readonly Choice<string>[] = [
  { name: 'long', weight: 1, gen: (rng) => 'L'.repeat(rng.int(1000, 120_000)) },
  { name: 'nul', weight: 1, gen: () => 'a\u0000b' },
  { name: 'quotes', weight: 1, gen: (rng) => rng.pick(['"', '""', 'a"b', '"a"b', '"unterminated']) },
  { name: 'control', weight: 1, gen: (rng) => rng.pick(['\t', '\r', 'a\rb', '\u007f']) },
  { name: 'wild', weight: 1, gen: (rng) => wild(rng, 30) },
  { name: 'bom', weight: 0.5, gen: () => '\ufeffyealink' },
];

function csvCell(rng: Rng, v: string): string {
  const quote = /[",\r\n]/.test(v) ? rng.chance(0.9) : rng.chance(0.1);
  return quote ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A CSV file: random columns, cells, quoting and line ends; `rows` device rows. */
function csvFile(rng: Rng, rows: number): { text: string; names: string[] } {
  const names: string[] = [];
  const required = ['vendor', 'type', 'mac', 'site'];
  let columns = [...required, ...CSV_COLUMNS.filter((c) => !required.includes(c) && rng.chance(0.3))];
  columns = columns.sort(() => rng.next() - 0.5);
  if (rng.chance(0.1)) {
    names.push('header-trouble');
    columns = rng.pick([columns.slice(1), [...columns, 'colour'], [...columns, columns[0]!]]);
  }
  const eol = rng.pick([['\r\n'], ['\n'], ['\r'], ['\r\n', '\n', '\r']]);
  if (eol.length > 1) names.push('mixed-eol');
  const lines = [columns.map((c) => (rng.chance(0.1) ? ` ${c.toUpperCase()} ` : c)).join(',')];
  for (let row = 0; row < rows; row++) {
    const cells = columns.map((c) => {
      if (rng.chance(0.02)) {
        const t = choose(rng, CSV_CELL_TROUBLE);
        names.push(t.name);
        return rng.chance(0.5) ? csvCell(rng, t.value) : t.value;
      }
      return csvCell(rng, CSV_CELLS[c]?.(rng, row) ?? '');
    });
    if (rng.chance(0.01)) cells.pop();
    lines.push(cells.join(','));
  }
  let text = '';
  for (const l of lines) text += l + rng.pick(eol);
  if (rng.chance(0.3)) {
    names.push('bom');
    text = `\ufeff${text}`;
  }
  if (rng.chance(0.3)) text = text.replace(/[\r\n]+$/, '');
  return { text, names: [...new Set(names)] };
}

function csvCase(rng: Rng, rows: number): FuzzCase {
  const file = csvFile(rng, rows);
  const tenant = choose(rng, PARAMS.tenant!);
  const ct = rng.chance(0.9)
    ? 'text/csv'
    : rng.pick(['text/csv; charset=utf-8', 'application/json', 'text/plain']);
  return {
    edge: 'admin',
    kind: ['POST devices.csv', `rows=${rows}`, `tenant=${tenant.name}`, `type=${ct}`, ...file.names].join(
      ' ',
    ),
    req: {
      method: 'POST',
      target: `/api/v1/tenants/${tenant.value}/devices.csv`,
      headers: [
        ['Authorization', `Bearer ${TOKEN}`],
        ['Content-Type', ct],
      ],
      body: Buffer.from(file.text, 'utf8'),
      from: '127.0.0.1',
    },
  };
}

/** The families of cases; each runs at least once per seed. */
const FAMILIES: readonly Choice<FuzzCase>[] = [
  { name: 'provisioning', weight: 10, gen: provisioningCase },
  { name: 'admin', weight: 7, gen: (rng) => adminCase(rng, true) },
  { name: 'admin-without-token', weight: 3, gen: (rng) => adminCase(rng, false) },
  { name: 'csv', weight: 1.5, gen: (rng) => csvCase(rng, rng.int(0, 30)) },
  { name: 'csv-10001-rows', weight: 0.03, gen: (rng) => csvCase(rng, 10_001) },
];

/** Clients that stop sending: each connection must be closed (or answered 4xx) within the bound. */
function stalledCases(rng: Rng): FuzzCase[] {
  const phone = rng.pick(PHONES);
  const json = Buffer.from('{"mac":');
  return [
    {
      edge: 'provisioning',
      kind: 'stalled headers',
      req: {
        method: 'GET',
        target: `/${phone.files(phone.mac)[0]}`,
        headers: [['User-Agent', phone.ua(phone.mac)]],
        stall: 'headers',
      },
    },
    {
      edge: 'admin',
      kind: 'stalled headers',
      req: {
        method: 'GET',
        target: '/api/v1/tenants/acme',
        headers: [['Authorization', `Bearer ${TOKEN}`]],
        stall: 'headers',
      },
    },
    {
      edge: 'admin',
      kind: 'stalled body',
      req: {
        method: 'POST',
        target: '/api/v1/tenants/acme/devices',
        headers: [
          ['Authorization', `Bearer ${TOKEN}`],
          ['Content-Type', 'application/json'],
        ],
        body: json,
        stall: 'body',
      },
    },
    {
      edge: 'admin',
      kind: 'stalled body without token',
      req: {
        method: 'PUT',
        target: '/%61pi/v1/tenants/evil',
        headers: [['Content-Type', 'application/json']],
        body: json,
        stall: 'body',
      },
    },
  ];
}

// ---- verdicts -------------------------------------------------------------------------------------

/** What only a route handler answers: an unauthenticated request must never see it. */
const HANDLER_ANSWER =
  /"error":"(unknown_tenant|unknown_device|not_whitelisted|duplicate_mac|invalid_csv|unknown_site)"|"field":"|body must be a JSON object|send the CSV as/;

/** `storeCommands`: Redis commands the request caused (counted only for unauthenticated requests). */
function verdict(c: FuzzCase, r: RawReply, storeDown: boolean, storeCommands = 0): string | null {
  if (c.req.stall) {
    if (r.hung) return `stalled request still open after ${STALL_BOUND_MS} ms`;
    if (r.status !== null && r.status >= 500) return `stalled request answered ${r.status}`;
    return null;
  }
  if (r.hung || r.ms > REPLY_BOUND_MS) return `no answer within ${REPLY_BOUND_MS} ms`;
  if (r.status === null) return 'connection closed without an answer';
  if (r.status >= 500) {
    if (r.status !== 503) return `answered ${r.status}`;
    if (!storeDown) return '503 while the store was up';
    if (!r.headers['retry-after']) return '503 without Retry-After';
  }
  // Device fields come from fuzzed admin requests: escaping must keep every served file well-formed.
  if (r.status === 200 && /xml/.test(r.headers['content-type'] ?? '') && r.body !== '') {
    const v = XMLValidator.validate(r.body);
    if (v !== true) return `served malformed XML: ${JSON.stringify(v)}`;
  }
  if (c.unauthenticated) {
    if (r.status < 400 || r.status >= 500) return `without the admin token: answered ${r.status}`;
    if (HANDLER_ANSWER.test(r.body)) return `without the admin token: reached a handler`;
    if (storeCommands > 0) return `without the admin token: ${storeCommands} store command(s)`;
  }
  return null;
}

/** The device fields a refused provisioning request notes (lua/note.lua). */
const NOTED = new Set<string>([
  DEVICE.lastProvisioningAt,
  DEVICE.lastProvisioningIp,
  DEVICE.lastProvisioningOutcome,
  // a User-Agent naming another phone, kept for the operator (src/store/lua/note.lua)
  DEVICE.userAgentMismatch,
  DEVICE.userAgentModel,
]);

/**
 * What an answer may have written. Refusals write nothing, except what is recorded by design: a
 * refused provisioning request (403) notes the attempt on the device and in the phone traffic (with
 * its client's count), a challenge (401) the same and the wait for the credential, a provisioning
 * miss (404, or the 429 it tips into) counts against the client IP.
 */
function mayWrite(c: FuzzCase, status: number | null): (entry: string) => boolean {
  if (status !== null && status < 400 && !(c.edge === 'provisioning' && c.req.method === 'HEAD'))
    return () => true;
  if (c.edge === 'provisioning' && status === 403)
    return (e) => e.endsWith(':traffic') || e.includes(':tg:') || NOTED.has(e.split('#')[1] ?? '');
  if (c.edge === 'provisioning' && status === 401)
    return (e) =>
      e.endsWith(':traffic') ||
      e.includes(':tg:') ||
      NOTED.has(e.split('#')[1] ?? '') ||
      e.split('#')[1] === DEVICE.challenged;
  if (c.edge === 'provisioning' && (status === 404 || status === 429))
    return (e) => e.startsWith('papgate:miss:');
  return () => false;
}

// ---- the run ----------------------------------------------------------------------------------------

interface Failure {
  readonly problem: string;
  readonly kind: string;
  readonly edge: string;
  readonly example: string;
  count: number;
}

function describeRequest(r: RawRequest): string {
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}... (${s.length} chars)` : s);
  return JSON.stringify({
    from: r.from,
    method: r.method,
    target: cut(r.target, 160),
    headers: r.headers.map(([k, v]) => `${cut(k, 40)}: ${cut(v, 100)}`),
    ...(r.body ? { body: cut(r.body.toString('utf8'), 200) } : {}),
  });
}

class FuzzRun {
  readonly failures = new Map<string, Failure>();
  readonly serverErrors: string[] = [];
  readonly statuses = new Map<string, number>();
  admin!: FastifyInstance;
  provisioning!: FastifyInstance;
  ports = { admin: 0, provisioning: 0 };

  constructor(
    readonly seed: number,
    private readonly redis: TestRedis,
  ) {}

  fail(c: FuzzCase, problem: string, detail = ''): void {
    // One entry per problem and admin route (or provisioning method); the first example is kept.
    const [method, route] = c.kind.split(' ');
    const key = `${c.edge} ${problem.replace(/[0-9]+/g, 'N')} ${c.edge === 'admin' ? route : method}`;
    const f = this.failures.get(key);
    if (f) f.count++;
    else
      this.failures.set(key, {
        problem,
        kind: c.kind,
        edge: c.edge,
        example: `${describeRequest(c.req)}${detail}`,
        count: 1,
      });
  }

  async start(): Promise<void> {
    // Server error logs go into the failure report (a 500's stack says where it came from).
    const log = pino(
      { level: 'error' },
      { write: (line: string) => void (this.serverErrors.length < 200 && this.serverErrors.push(line)) },
    );
    const store = this.redis.store();
    const adminConfig = loadConfig({ ADMIN_TOKEN: TOKEN, ...TIMEOUTS });
    this.admin = createAdminServer({ config: adminConfig, store, log, adminToken: TOKEN });
    const provConfig = loadConfig({
      ...TIMEOUTS,
      PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081',
      TRUST_PROXY: TRUSTED_PROXY,
      PROVISIONING_MISS_LIMIT: '40',
    });
    this.provisioning = createProvisioningServer({ config: provConfig, store, log });
    for (const app of [this.admin, this.provisioning]) await app.listen({ host: '127.0.0.1', port: 0 });
    this.ports = {
      admin: (this.admin.server.address() as AddressInfo).port,
      provisioning: (this.provisioning.server.address() as AddressInfo).port,
    };
    await store.putTenant('acme', { name: 'Acme', language: null }, 'fuzz');
    const created = await store.createDevices(
      'acme',
      PHONES.map((p) =>
        parseNewDevice({ mac: p.mac, vendor: p.vendor, model: p.model, site: 'HQ', accounts: [ACCOUNT] }),
      ),
      'fuzz',
    );
    assert.ok(created !== 'unknown_tenant' && created.ok);
    await store.addWhitelist('acme', parseWhitelistEntry('127.0.0.3'), 'fuzz');
  }

  async stop(): Promise<void> {
    await Promise.all([this.admin.close(), this.provisioning.close()]);
  }

  send(c: FuzzCase): Promise<RawReply> {
    return sendRaw(this.ports[c.edge], c.req, c.req.stall ? STALL_BOUND_MS : REPLY_BOUND_MS + 1000);
  }

  /** Sends the cases one by one; with the store up, compares it before and after each refusal. */
  async run(cases: Iterable<FuzzCase>, storeDown: boolean): Promise<void> {
    let before = storeDown ? null : await storeSnapshot(this.redis.client);
    for (const c of cases) {
      const errorsBefore = this.serverErrors.length;
      const counted = c.unauthenticated && !storeDown;
      const commandsBefore = counted ? await commandsProcessed(this.redis.client) : 0;
      const r = await this.send(c);
      // minus one: the INFO that read commandsBefore
      const commands = counted ? (await commandsProcessed(this.redis.client)) - commandsBefore - 1 : 0;
      const problem = verdict(c, r, storeDown, commands);
      const tally = `${c.edge} ${r.status}`;
      this.statuses.set(tally, (this.statuses.get(tally) ?? 0) + 1);
      if (problem) {
        const logged = this.serverErrors.slice(errorsBefore).join('').slice(0, 600);
        this.fail(
          c,
          problem,
          `\n      answer: ${r.status} ${r.body.slice(0, 160)}${logged ? `\n      server log: ${logged}` : ''}`,
        );
      }
      if (before === null) continue;
      const after = await storeSnapshot(this.redis.client);
      const allowed = mayWrite(c, r.status);
      const written = changedEntries(before, after).filter((e) => !allowed(e));
      if (written.length) this.fail(c, `answered ${r.status} but wrote ${written.slice(0, 4).join(', ')}`);
      before = after;
    }
  }

  /** Redis stopped (after a SAVE), requests answered 503 or without the store, Redis started again. */
  async outage(rng: Rng): Promise<void> {
    const client = this.redis.client;
    const dir = (await client.configGet('dir')).dir!;
    await client.sendCommand(['SAVE']);
    const before = await storeSnapshot(client);
    const port = this.redis.server.port;
    await this.redis.server.stop();
    await this.run(
      Array.from({ length: OUTAGE_CASES }, () => choose(rng, FAMILIES.slice(0, 3)).value),
      true,
    );
    this.redis.server = await startEmbeddedRedis({ bin: 'redis-server', dir, persistent: false, port });
    const deadline = Date.now() + REPLY_BOUND_MS;
    for (;;) {
      try {
        await client.ping();
        break;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`store client did not reconnect: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const written = changedEntries(before, await storeSnapshot(client));
    assert.deepEqual(written, [], `seed ${this.seed}: written while Redis was stopped`);
    const back = await this.send({
      edge: 'admin',
      kind: 'after restart',
      req: { method: 'GET', target: '/api/v1/tenants/acme', headers: [['Authorization', `Bearer ${TOKEN}`]] },
    });
    assert.equal(back.status, 200, `seed ${this.seed}: admin API after Redis came back: ${back.body}`);
  }

  report(): string {
    const lines = [...this.failures.values()].map(
      (f) => `  - [${f.edge}] ${f.problem} (x${f.count}) <${f.kind}>\n      ${f.example}`,
    );
    return [
      `fuzz seed ${this.seed} (replay: FUZZ_SEED=${this.seed} npx mocha --no-config --exit dist/test/fuzz.test.js): ${this.failures.size} distinct failure(s)`,
      ...lines.slice(0, 40),
    ].join('\n');
  }
}

describe('fuzz: admin and provisioning over real HTTP and Redis', function () {
  this.timeout(60_000);
  const redis = new TestRedis();
  const crashes: string[] = [];
  const onCrash = (err: unknown) => crashes.push(String((err as Error)?.stack ?? err));
  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    await redis.start();
  });
  after(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await redis.stop();
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: no 5xx but 503 on store loss, bounded answers, no crash, refusals write nothing`, async () => {
      await redis.flush();
      const rng = new Rng(seed);
      const run = new FuzzRun(seed, redis);
      await run.start();
      try {
        const stalled = Promise.all(
          stalledCases(rng).map(async (c) => {
            const problem = verdict(c, await run.send(c), false);
            if (problem) run.fail(c, problem);
          }),
        );
        const cases = function* () {
          for (const f of FAMILIES) yield f.gen(rng);
          for (let i = FAMILIES.length; i < CASES_PER_SEED; i++) yield choose(rng, FAMILIES).value;
        };
        const t0 = Date.now();
        await run.run(cases(), false);
        const t1 = Date.now();
        await run.outage(rng);
        const t2 = Date.now();
        await stalled;
        console.log(
          `      fuzz seed ${seed}: main ${t1 - t0} ms, outage ${t2 - t1} ms, total ${Date.now() - t0} ms`,
          JSON.stringify(Object.fromEntries([...run.statuses].sort())),
        );
      } finally {
        await run.stop();
      }
      assert.deepEqual(crashes, [], `seed ${seed}: uncaught errors`);
      assert.equal(run.failures.size, 0, run.report());
    });
  }
});

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, ConfigError } from '../config';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What a command is handed: its arguments and options as parsed, and the API. */
interface Run {
  readonly args: readonly string[];
  readonly opt: (name: string) => string | undefined;
  readonly opts: (name: string) => readonly string[];
  readonly flag: (name: string) => boolean;
  /**
   * Sends a request and prints the answer; `hint`, given the status and the answer's JSON, may
   * name what to do next (printed on standard error).
   */
  readonly call: (
    method: string,
    url: string,
    body?: unknown,
    options?: { contentType?: string; hint?: Hint },
  ) => Promise<number>;
  /** A GET whose JSON the command needs; a refusal is printed and ends the command (exit 1). */
  readonly read: (url: string) => Promise<unknown>;
}

type Hint = (status: number, answer: unknown) => string | undefined;

interface Command {
  /** Arguments and options, as the usage line shows them (after `papgate <name>`). */
  readonly usage: string;
  readonly summary: string;
  readonly options: Options;
  /** Positional arguments: how many at least and at most. */
  readonly args: readonly [number, number];
  readonly run: (r: Run) => Promise<number>;
}

const s = { type: 'string' } as const;
const many = { type: 'string', multiple: true } as const;
/**
 * A tenant, site, MAC or list entry as one segment of an API path. `.` and `..` (encoded too: a URL
 * reads `%2E%2E` as `..`) would be steps of the path itself, `--site ..` naming the tenant's own
 * layer, and an empty one another route: refused before anything is sent.
 */
function enc(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..')
    throw new UsageError(`"${value}" cannot be a ${what}: . and .. would be read as steps of the API path`);
  return encodeURIComponent(value);
}
const t = (r: Run) => `/api/v1/tenants/${enc(r.args[0]!, 'tenant')}`;
const dev = (r: Run) => `${t(r)}/devices/${enc(r.args[1]!, 'MAC')}`;

/** Query string of the options given among `names`, and of `fixed`. */
function query(
  r: Run,
  names: readonly string[],
  fixed: Record<string, string> = {},
  renamed: Record<string, string> = {},
): string {
  const q = new URLSearchParams(fixed);
  for (const n of names) if (r.opt(n) !== undefined) q.set(renamed[n] ?? n, r.opt(n)!);
  const str = q.toString();
  return str ? `?${str}` : '';
}

function parseAccount(spec: string, what = '--account'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new UsageError(`${what} expects key=value pairs, got "${part}"`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

interface Item {
  readonly name: string;
  readonly value: unknown;
}

/**
 * The family's items after --item (added, or replacing the item of the same name), --remove-item
 * and --replace (start from none): `current` is the layer's list as read before. Changing one item
 * must not delete the family's others, as replacing the list with the items given did.
 */
function familyItems(r: Run, current: readonly Item[], given: readonly Item[]): Item[] {
  const out = new Map(r.flag('replace') ? [] : current.map((i) => [i.name, i] as const));
  for (const name of r.opts('remove-item')) {
    if (!out.delete(name) && !r.flag('replace'))
      throw new UsageError(`--remove-item ${name}: the layer has no item of that name`, 'settings');
  }
  for (const item of given) out.set(item.name, item);
  return [...out.values()];
}

/** The change `papgate settings` options ask for (docs/settings.md), or null: none, only show the layer. */
async function settingsChange(r: Run, layer: string): Promise<Record<string, unknown> | null> {
  const file = r.opt('file');
  const body =
    file === undefined ? {} : (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new UsageError(`${file} must hold a JSON object {items, common}`, 'settings');
  const family = r.opt('family');
  const given = r.opts('item').map((spec) => {
    const eq = spec.indexOf('=');
    if (eq < 1) throw new UsageError(`--item expects NAME=VALUE, got "${spec}"`, 'settings');
    return { name: spec.slice(0, eq), value: spec.slice(eq + 1) };
  });
  const itemOptions = given.length + r.opts('remove-item').length;
  if (family !== undefined) {
    if (itemOptions === 0 && !r.flag('replace'))
      throw new UsageError(
        '--family needs --item, --remove-item, or --replace (alone: remove all its items)',
        'settings',
      );
    const fromFile = (body.items as Record<string, Item[]> | undefined)?.[family];
    const current =
      fromFile ??
      (r.flag('replace')
        ? []
        : (((await r.read(layer)) as { items?: Record<string, Item[]> }).items?.[family] ?? []));
    body.items = { ...(body.items as object | undefined), [family]: familyItems(r, current, given) };
  } else if (itemOptions > 0 || r.flag('replace'))
    throw new UsageError('--item, --remove-item and --replace need --family', 'settings');
  const common: Record<string, string | null> = {};
  for (const [f, field] of [
    ['time-zone', 'timeZone'],
    ['ntp-server', 'ntpServer'],
    ['phone-language', 'phoneLanguage'],
  ] as const) {
    const v = r.opt(f);
    if (v !== undefined) common[field] = v === '' ? null : v;
  }
  if (Object.keys(common).length > 0) body.common = { ...(body.common as object | undefined), ...common };
  if (r.flag('check-sync')) body.checkSync = true;
  return Object.keys(body).length === 0 ? null : body;
}

/** A site record from `site set` options; the API checks every field (docs/admin.md#sites). */
function siteBody(r: Run): Record<string, unknown> {
  const send = r.opt('send-location');
  if (send !== undefined && send !== 'true' && send !== 'false')
    throw new UsageError('--send-location expects true or false', 'site');
  const address = r.opt('address');
  return {
    emergencyCallerId: r.opt('caller-id'),
    civicAddress: address === undefined ? null : parseAccount(address, '--address'),
    emergencyRoute: r.opt('route') ?? null,
    sendLocation: send === undefined ? null : send === 'true',
  };
}

/** `--unknown-site accept` as the API's query (docs/admin.md#sites). */
const unknownSite = (r: Run, fixed: Record<string, string> = {}) =>
  query(r, ['unknown-site'], fixed, { 'unknown-site': 'unknownSite' });

/** `word` as one shell word, quoted when it needs to be (a site named `Main Office`). */
const shellWord = (word: string) => (/^[\w.:/@+-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`);

/** A command on one device, `<tenant> <mac>`, without options. */
function device(summary: string, run: (r: Run) => Promise<number>): Command {
  return { usage: '<tenant> <mac>', summary, options: {}, args: [2, 2], run };
}

const ACCOUNT_USAGE = '[--account server=HOST,user=U,password=P[,authUser=A][,displayName=D]]...';

const COMMANDS: Record<string, Command> = {
  tenant: {
    usage: '<tenant> [--create] [--name NAME] [--language en|de] [--time-zone ZONE]',
    summary:
      'Change the fields given of the tenant (the others stay as they are); --create: create it (a ' +
      'tenant of that id is refused). ZONE: an IANA time zone such as Europe/Berlin.',
    options: { create: { type: 'boolean' }, name: s, language: s, 'time-zone': s },
    args: [1, 1],
    run: (r) => {
      const id = r.args[0]!;
      const fields = { name: r.opt('name'), language: r.opt('language'), timeZone: r.opt('time-zone') };
      // A typo (`acmee`) must not create a tenant: only --create does (docs/admin.md#cli).
      return r.flag('create')
        ? r.call(
            'POST',
            '/api/v1/tenants',
            { id, ...fields },
            {
              hint: (status) =>
                status === 409 ? `tenant "${id}" exists: change it without --create` : undefined,
            },
          )
        : r.call('PATCH', t(r), fields, {
            hint: (status, answer) =>
              status === 404 && (answer as { error?: string } | null)?.error === 'unknown_tenant'
                ? `no tenant "${id}" (see papgate tenants); to create it: papgate tenant ${id} --create`
                : undefined,
          });
    },
  },
  tenants: {
    usage: '',
    summary: 'The tenants (a tenant token: its own).',
    options: {},
    args: [0, 0],
    run: (r) => r.call('GET', '/api/v1/tenants'),
  },
  add: {
    usage: `<tenant> --mac MAC --vendor VENDOR --model MODEL --site SITE [--language en|de]\n      ${ACCOUNT_USAGE} [--unknown-site accept]`,
    summary:
      'Add a device; the answer holds its PAP. A site the tenant has no record of is refused while it ' +
      'has records, unless --unknown-site accept.',
    options: { mac: s, vendor: s, model: s, site: s, language: s, account: many, 'unknown-site': s },
    args: [1, 1],
    run: (r) =>
      r.call('POST', `${t(r)}/devices${unknownSite(r)}`, {
        mac: r.opt('mac'),
        vendor: r.opt('vendor'),
        model: r.opt('model'),
        site: r.opt('site'),
        language: r.opt('language'),
        accounts: r.opts('account').map((a) => parseAccount(a)),
      }),
  },
  edit: {
    usage: `<tenant> <mac> [--site SITE] [--model MODEL] [--language en|de|none]\n      ${ACCOUNT_USAGE} [--unknown-site accept]`,
    summary:
      'Edit a device; its PAP and authentication stay. --account replaces all accounts; one without ' +
      'password keeps the password of the account with the same user and server. A move to a site ' +
      'without a record is refused as in add, unless --unknown-site accept.',
    options: { site: s, model: s, language: s, account: many, 'unknown-site': s },
    args: [2, 2],
    run: (r) => {
      const language = r.opt('language');
      return r.call('PATCH', `${dev(r)}${unknownSite(r)}`, {
        site: r.opt('site'),
        model: r.opt('model'),
        language: language === 'none' ? null : language,
        accounts: r.opts('account').length > 0 ? r.opts('account').map((a) => parseAccount(a)) : undefined,
      });
    },
  },
  list: {
    usage: '<tenant> [--state needed|failed|blocked|successful] [--site SITE] [--site-record missing]',
    summary:
      "The tenant's devices, filtered (--site-record missing: those whose site has no emergency data).",
    options: { state: s, site: s, 'site-record': s },
    args: [1, 1],
    run: (r) =>
      r.call(
        'GET',
        `${t(r)}/devices${query(r, ['state', 'site', 'site-record'], {}, { 'site-record': 'siteRecord' })}`,
      ),
  },
  site: {
    usage:
      '<tenant> [list | get NAME | delete NAME]\n' +
      '      <tenant> set NAME --caller-id +E164 [--address country=DE,A3=Berlin,RD=...,HNO=...]\n' +
      '      [--route sip:URI] [--send-location true|false]',
    summary: "Site records: each site's emergency caller ID, civic address and route.",
    options: { 'caller-id': s, address: s, route: s, 'send-location': s },
    args: [1, 3],
    run: (r) => {
      const [, sub = 'list', name] = r.args;
      if (sub === 'list') {
        if (r.args.length > 2) throw new UsageError(`unexpected argument "${r.args[2]}"`, 'site');
        return r.call('GET', `${t(r)}/sites`);
      }
      if (!['get', 'delete', 'set'].includes(sub))
        throw new UsageError(`unknown site command "${sub}"`, 'site');
      if (name === undefined) throw new UsageError(`site ${sub}: missing NAME`, 'site');
      const site = `${t(r)}/sites/${enc(name, 'site')}`;
      if (sub === 'get') return r.call('GET', site);
      if (sub === 'delete') return r.call('DELETE', site);
      return r.call('PUT', site, siteBody(r));
    },
  },
  get: device('One device (its PAP while it is not successful; never account passwords).', (r) =>
    r.call('GET', dev(r)),
  ),
  reset: device(
    'Reset authentication: a new PAP, the device credential revoked. Whitelist entries that still let ' +
      'the device in without its PAP are listed (stillLetIn) and named on standard error.',
    (r) =>
      r.call('POST', `${dev(r)}/reset`, undefined, {
        hint: (status, answer) => {
          const still = (
            answer as {
              stillLetIn?: { via: string; ip?: string; site?: string | null; entry?: string }[];
            } | null
          )?.stillLetIn;
          if (status !== 200 || !still?.length) return undefined;
          const temporary = still.filter((e) => e.via === 'temporary_whitelist');
          const permanent = still.filter((e) => e.via === 'whitelist').map((e) => e.entry);
          return (
            'the device still gets its full configuration without the PAP from: ' +
            `${still.map((e) => e.ip ?? e.entry ?? e.via).join(', ')}. ` +
            [
              // Of its site only: the address may let other sites' phones in for good reason.
              ...temporary.map(
                (e) =>
                  `papgate whitelist ${r.args[0]} remove-temporary ${e.ip}` +
                  (e.site ? ` --site ${shellWord(e.site)}` : ''),
              ),
              ...permanent.map((e) => `papgate whitelist ${r.args[0]} remove ${e}`),
            ].join('; ')
          );
        },
      }),
  ),
  delete: device('Delete a device.', (r) => r.call('DELETE', dev(r))),
  'pin-bypass': {
    usage: '<tenant> <mac> [--network ADDRESS|CIDR]',
    summary:
      'Skip the PIN for one full file (only a fetch from --network gets it) within AUTH_SUSPEND_SECONDS ' +
      '(default 1800: 30 minutes); the answer says until when (pinBypassUntil). Old name: suspend.',
    options: { network: s },
    args: [2, 2],
    run: (r) => r.call('POST', `${dev(r)}/pin-bypass`, { network: r.opt('network') }),
  },
  'end-pin-bypass': device('End a PIN bypass early.', (r) => r.call('DELETE', `${dev(r)}/pin-bypass`)),
  unlock: device('Unlock a failed device, keeping its PAP.', (r) => r.call('POST', `${dev(r)}/unlock`)),
  disable: device('Disable a device: the minimal configuration only, no PAP taken.', (r) =>
    r.call('POST', `${dev(r)}/disable`),
  ),
  enable: device('Enable a disabled device.', (r) => r.call('POST', `${dev(r)}/enable`)),
  bypasses: device('What hands the device its full configuration without a PAP.', (r) =>
    r.call('GET', `${dev(r)}/bypasses`),
  ),
  'accept-model': device("Make the model its refused User-Agent named the device's model.", (r) =>
    r.call('POST', `${dev(r)}/accept-model`),
  ),
  whitelist: {
    usage: '<tenant> [list | add ENTRY | remove ENTRY | temporary | remove-temporary IP [--site SITE]]',
    summary:
      'The permanent whitelist (list, add, remove) and the temporary one (list, remove an address: ' +
      'of one site with --site).',
    options: { site: s },
    args: [1, 3],
    run: (r) => {
      const [, sub = 'list', entry] = r.args;
      const arity = (
        { list: 2, temporary: 2, add: 3, remove: 3, 'remove-temporary': 3 } as Record<string, number>
      )[sub];
      if (arity === undefined) throw new UsageError(`unknown whitelist command "${sub}"`, 'whitelist');
      if (r.args.length > arity) throw new UsageError(`unexpected argument "${r.args[arity]}"`, 'whitelist');
      if (arity === 3 && entry === undefined)
        throw new UsageError(`whitelist ${sub}: missing ENTRY`, 'whitelist');
      if (sub === 'add') return r.call('POST', `${t(r)}/whitelist`, { entry });
      if (sub === 'remove') return r.call('DELETE', `${t(r)}/whitelist/${enc(entry!, 'whitelist entry')}`);
      if (sub === 'remove-temporary')
        return r.call(
          'DELETE',
          `${t(r)}/whitelist/temporary/${enc(entry!, 'whitelist entry')}${query(r, ['site'])}`,
        );
      return r.call('GET', `${t(r)}/whitelist${sub === 'list' ? '' : '/temporary'}`);
    },
  },
  export: {
    usage: '<tenant> [--state STATE] [--with-passwords]',
    summary:
      "The tenant's devices as CSV on standard output; account passwords only with --with-passwords " +
      '(audited).',
    options: { state: s, 'with-passwords': { type: 'boolean' } },
    args: [1, 1],
    run: (r) =>
      r.call(
        'GET',
        `${t(r)}/devices.csv${query(r, ['state'], r.flag('with-passwords') ? { passwords: 'true' } : {})}`,
      ),
  },
  import: {
    usage: '<tenant> FILE.csv [--update] [--unknown-site accept]',
    summary:
      'Add the devices of a CSV file: all rows or none. --update: a row whose MAC the tenant has ' +
      'updates that device (an empty sip_password keeps the password). Sites without a record are ' +
      'refused as in add, unless --unknown-site accept.',
    options: { update: { type: 'boolean' }, 'unknown-site': s },
    args: [2, 2],
    run: (r) =>
      r.call(
        'POST',
        `${t(r)}/devices.csv${unknownSite(r, r.flag('update') ? { mode: 'update' } : {})}`,
        fs.readFileSync(r.args[1]!, 'utf8'),
        { contentType: 'text/csv' },
      ),
  },
  authenticate: {
    usage: '<mac> <pap> [--ip IP]',
    summary: "Check a PAP as the IVR does (IP: the phone's public address, whitelisted on success).",
    options: { ip: s },
    args: [2, 2],
    run: (r) => r.call('POST', '/api/v1/authenticate', { mac: r.args[0], pap: r.args[1], ip: r.opt('ip') }),
  },
  events: {
    usage: '<tenant> [--count N] [--stream traffic]',
    summary: 'The audit trail, newest first (--stream traffic: the phone traffic).',
    options: { count: s, stream: s },
    args: [1, 1],
    run: (r) => r.call('GET', `${t(r)}/events${query(r, ['count', 'stream'])}`),
  },
  settings: {
    usage:
      '<tenant> [--site SITE | --mac MAC] [--file LAYER.json]\n' +
      '      [--family FAMILY [--item NAME=VALUE]... [--remove-item NAME]... [--replace]]\n' +
      '      [--time-zone TZ] [--ntp-server HOST] [--phone-language xx] [--check-sync]',
    summary:
      "Show a settings layer (the tenant's, a site's or a device's); with any other option, change it. " +
      "--item adds an item to the family's items in the layer, or replaces the one of the same name; the " +
      'others stay. --remove-item removes one. --replace: the items given become the whole list ' +
      '(--family F --replace alone removes all its items). "" clears a common setting; --check-sync also ' +
      'sends the devices concerned a check-sync.',
    options: {
      site: s,
      mac: s,
      file: s,
      family: s,
      item: many,
      'remove-item': many,
      replace: { type: 'boolean' },
      'time-zone': s,
      'ntp-server': s,
      'phone-language': s,
      'check-sync': { type: 'boolean' },
    },
    args: [1, 1],
    run: async (r) => {
      const site = r.opt('site');
      const mac = r.opt('mac');
      if (site !== undefined && mac !== undefined)
        throw new UsageError('--site or --mac, not both', 'settings');
      const at =
        site !== undefined
          ? `/sites/${enc(site, 'site')}`
          : mac !== undefined
            ? `/devices/${enc(mac, 'MAC')}`
            : '';
      const layer = `${t(r)}${at}/settings`;
      const body = await settingsChange(r, layer);
      return body === null ? r.call('GET', layer) : r.call('PUT', layer, body);
    },
  },
};

/** Old names, kept working. */
const ALIASES: Record<string, string> = { suspend: 'pin-bypass' };

const help = (name: string) => {
  const c = COMMANDS[ALIASES[name] ?? name]!;
  return `papgate ${name} ${c.usage}\n  ${c.summary}`;
};

const USAGE = `papgate: admin command line (talks to the admin API)

${Object.keys(COMMANDS)
  .map((n) => `  papgate ${n} ${COMMANDS[n]!.usage.replace(/\n/g, '\n  ')}`)
  .join('\n')}
  papgate help [COMMAND]    (or papgate COMMAND --help)

Environment: ADMIN_URL (default http://ADMIN_HOST:ADMIN_PORT), ADMIN_TOKEN (default: the token
file DATA_DIR/admin-token that the service writes on first start).
Exit status: 0 done, 1 the API refused (HTTP error), 2 usage error, 3 the API could not be reached.`;

class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** The API did not answer: what was tried, and what to check. */
class UnreachableError extends Error {}

/** A read the command needed was refused (printed already): the command ends with `code`. */
class Refused extends Error {
  constructor(readonly code: number) {
    super('refused');
  }
}

/** An option the command does not know, and the one it probably meant (`--timezone`: `--time-zone`). */
function unknownOption(err: Error, options: Options): string {
  const given = /'(-{1,2}[^']+)'/.exec(err.message)?.[1] ?? err.message;
  const norm = (o: string) => o.replace(/^-+/, '').replace(/[-_]/g, '').toLowerCase();
  const near = Object.keys(options).find((o) => norm(o) === norm(given));
  return `unknown option ${given}${near ? ` (did you mean --${near}?)` : ''}`;
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || ['help', '--help', '-h'].includes(name)) {
    const about = rest[0];
    if (about !== undefined && !COMMANDS[ALIASES[about] ?? about])
      throw new UsageError(`unknown command "${about}"`);
    process.stdout.write(`${about ? help(about) : USAGE}\n`);
    return 0;
  }
  const cmd = COMMANDS[ALIASES[name] ?? name];
  if (!cmd) throw new UsageError(`unknown command "${name}"`);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    const e = err as Error & { code?: string };
    throw new UsageError(
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? unknownOption(e, cmd.options) : e.message,
      name,
    );
  }
  if (parsed.values.help) {
    process.stdout.write(`${help(name)}\n`);
    return 0;
  }
  const args = parsed.positionals;
  const [min, max] = cmd.args;
  if (args.length < min) throw new UsageError('missing arguments', name);
  if (args.length > max) throw new UsageError(`unexpected argument "${args[max]}"`, name);

  // Read when a command calls the API, so that a usage error never waits on configuration.
  let target: { base: string; token: string; from: string } | undefined;
  const api = () => {
    if (target) return target;
    // Set but empty (a `ADMIN_TOKEN=` line, a variable whose source failed) is a mistake, not "unset".
    if (process.env.ADMIN_TOKEN === '')
      throw new Error(
        'ADMIN_TOKEN is set but empty: set it to the admin token, or unset it to use the token file',
      );
    const cfg = loadConfig(process.env);
    const base = (cfg.adminUrl ?? `http://${cfg.adminHost}:${cfg.adminPort}`).replace(/\/+$/, '');
    const tokenFile = path.join(cfg.dataDir, 'admin-token');
    const token =
      cfg.adminToken ?? (fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : '');
    if (!token)
      throw new Error(
        `no ADMIN_TOKEN set and no ${tokenFile}: set ADMIN_TOKEN, or DATA_DIR to the service's data directory`,
      );
    target = { base, token, from: cfg.adminToken ? 'ADMIN_TOKEN' : tokenFile };
    return target;
  };

  const request = async (method: string, url: string, body?: unknown, contentType = 'application/json') => {
    const { base, token, from } = api();
    let res: Response;
    try {
      res = await fetch(`${base}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': contentType } : {}),
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new UnreachableError(
        `cannot reach the admin API at ${base} (${cause?.code ?? cause?.message ?? (err as Error).message}): ` +
          'is papgate running, and does ADMIN_URL (or ADMIN_HOST and ADMIN_PORT) name its admin address?',
      );
    }
    const text = await res.text();
    /** Prints the answer (and the status of a refusal); 0 or 1, the exit status it makes. */
    const show = () => {
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      if (res.status === 401)
        process.stderr.write(`papgate: HTTP 401: the admin API at ${base} refused the token (${from})\n`);
      else if (!res.ok) process.stderr.write(`papgate: HTTP ${res.status}\n`);
      return res.ok ? 0 : 1;
    };
    return { status: res.status, ok: res.ok, text, show };
  };
  const call: Run['call'] = async (method, url, body, { contentType, hint } = {}) => {
    const res = await request(method, url, body, contentType);
    const code = res.show();
    let answer: unknown = null;
    try {
      answer = JSON.parse(res.text);
    } catch {
      // not JSON (a CSV export): no hint reads it
    }
    const said = hint?.(res.status, answer);
    if (said) process.stderr.write(`papgate: ${said}\n`);
    return code;
  };
  const read: Run['read'] = async (url) => {
    const res = await request('GET', url);
    if (!res.ok) throw new Refused(res.show());
    return JSON.parse(res.text) as unknown;
  };
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  return cmd.run({
    args,
    opt: (n) => {
      const x = v[n];
      return typeof x === 'string' ? x : undefined;
    },
    opts: (n) => {
      const x = v[n];
      return Array.isArray(x) ? x : [];
    },
    flag: (n) => v[n] === true,
    call,
    read,
  });
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof Refused) process.exit(err.code);
    if (err instanceof UsageError)
      process.stderr.write(
        `papgate: ${err.message}\n\n${err.command ? `${help(err.command)}\n\nSee papgate help.` : USAGE}\n`,
      );
    else if (err instanceof ConfigError)
      process.stderr.write(`papgate: configuration error: ${err.message}\n`);
    else process.stderr.write(`papgate: ${err.message}\n`);
    process.exit(err instanceof UnreachableError ? 3 : 2);
  },
);

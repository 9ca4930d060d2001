import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, ConfigError } from '../config';

const USAGE = `papgate: admin command line (talks to the admin API)

  papgate tenant <tenant> [--name NAME] [--language en|de]
  papgate add <tenant> --mac MAC --vendor VENDOR --model MODEL --site SITE [--language en|de]
              [--account server=HOST,user=U,password=P[,authUser=A][,displayName=D]]...
  papgate list <tenant> [--state needed|failed|blocked|successful] [--site SITE]
  papgate get|reset|delete <tenant> <mac>
  papgate pin-bypass <tenant> <mac> [--network ADDRESS|CIDR]
              skip the PIN for one full file (only a fetch from there gets it); old name: suspend
  papgate disable|enable <tenant> <mac>   (disabled: the minimal configuration only, no PAP taken)
  papgate end-pin-bypass|unlock|bypasses|accept-model <tenant> <mac>
              end a PIN bypass early | unlock a failed device, keeping its PAP | what lets it in without a PAP
              | make the model its refused User-Agent named the device's
  papgate whitelist <tenant> [list | add ENTRY | remove ENTRY | temporary]
  papgate whitelist <tenant> remove-temporary IP [--site SITE]
  papgate export <tenant> [--state STATE]        (CSV on standard output)
  papgate import <tenant> FILE.csv
  papgate authenticate <mac> <pap> [--ip IP]
  papgate events <tenant> [--count N] [--stream traffic]

Environment: ADMIN_URL (default http://ADMIN_HOST:ADMIN_PORT), ADMIN_TOKEN (default: the token
file DATA_DIR/admin-token that the service writes on first start).`;

class UsageError extends Error {}

function parseArgs(argv: string[]): { positional: string[]; flags: Map<string, string[]> } {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      flags.set(a.slice(2), [...(flags.get(a.slice(2)) ?? []), v]);
    } else positional.push(a);
  }
  return { positional, flags };
}

function parseAccount(spec: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new UsageError(`--account expects key=value pairs, got "${part}"`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

async function run(argv: string[]): Promise<number> {
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0]!)) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cfg = loadConfig(process.env);
  const base = (cfg.adminUrl ?? `http://${cfg.adminHost}:${cfg.adminPort}`).replace(/\/+$/, '');
  const tokenFile = path.join(cfg.dataDir, 'admin-token');
  const token = cfg.adminToken ?? (fs.existsSync(tokenFile) ? fs.readFileSync(tokenFile, 'utf8').trim() : '');
  if (!token) throw new UsageError(`no ADMIN_TOKEN set and no ${tokenFile}`);

  const { positional, flags } = parseArgs(argv);
  const [cmd, ...args] = positional;
  const flag = (n: string) => flags.get(n)?.[0];
  const need = (i: number, what: string) => {
    const v = args[i];
    if (v === undefined) throw new UsageError(`missing ${what}`);
    return encodeURIComponent(v);
  };

  const call = async (
    method: string,
    url: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<number> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    if (!res.ok) process.stderr.write(`papgate: HTTP ${res.status}\n`);
    return res.ok ? 0 : 1;
  };
  const query = (names: string[]) => {
    const q = new URLSearchParams();
    for (const n of names) if (flag(n) !== undefined) q.set(n, flag(n)!);
    const s = q.toString();
    return s ? `?${s}` : '';
  };
  const t = () => `/api/v1/tenants/${need(0, 'tenant')}`;

  switch (cmd) {
    case 'tenant':
      return call('PUT', t(), { name: flag('name'), language: flag('language') });
    case 'add':
      return call('POST', `${t()}/devices`, {
        mac: flag('mac'),
        vendor: flag('vendor'),
        model: flag('model'),
        site: flag('site'),
        language: flag('language'),
        accounts: (flags.get('account') ?? []).map(parseAccount),
      });
    case 'list':
      return call('GET', `${t()}/devices${query(['state', 'site'])}`);
    case 'get':
      return call('GET', `${t()}/devices/${need(1, 'mac')}`);
    case 'delete':
      return call('DELETE', `${t()}/devices/${need(1, 'mac')}`);
    case 'reset':
      return call('POST', `${t()}/devices/${need(1, 'mac')}/reset`);
    case 'pin-bypass':
    case 'suspend':
      return call('POST', `${t()}/devices/${need(1, 'mac')}/pin-bypass`, { network: flag('network') });
    case 'end-pin-bypass':
      return call('DELETE', `${t()}/devices/${need(1, 'mac')}/pin-bypass`);
    case 'unlock':
    case 'disable':
    case 'enable':
      return call('POST', `${t()}/devices/${need(1, 'mac')}/${cmd}`);
    case 'bypasses':
      return call('GET', `${t()}/devices/${need(1, 'mac')}/bypasses`);
    case 'accept-model':
      return call('POST', `${t()}/devices/${need(1, 'mac')}/accept-model`);
    case 'whitelist': {
      const sub = args[1] ?? 'list';
      if (sub === 'list') return call('GET', `${t()}/whitelist`);
      if (sub === 'temporary') return call('GET', `${t()}/whitelist/temporary`);
      if (sub === 'add') return call('POST', `${t()}/whitelist`, { entry: args[2] });
      if (sub === 'remove') return call('DELETE', `${t()}/whitelist/${need(2, 'entry')}`);
      if (sub === 'remove-temporary')
        return call('DELETE', `${t()}/whitelist/temporary/${need(2, 'address')}${query(['site'])}`);
      throw new UsageError(`unknown whitelist command "${sub}"`);
    }
    case 'export':
      return call('GET', `${t()}/devices.csv${query(['state'])}`);
    case 'import': {
      const file = args[1];
      if (!file) throw new UsageError('missing CSV file');
      return call('POST', `${t()}/devices.csv`, fs.readFileSync(file, 'utf8'), 'text/csv');
    }
    case 'authenticate':
      return call('POST', '/api/v1/authenticate', { mac: args[0], pap: args[1], ip: flag('ip') });
    case 'events':
      return call('GET', `${t()}/events${query(['count', 'stream'])}`);
    default:
      throw new UsageError(cmd ? `unknown command "${cmd}"` : 'no command given');
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof UsageError) process.stderr.write(`papgate: ${err.message}\n\n${USAGE}\n`);
    else if (err instanceof ConfigError)
      process.stderr.write(`papgate: configuration error: ${err.message}\n`);
    else process.stderr.write(`papgate: ${err.message}\n`);
    process.exit(2);
  },
);

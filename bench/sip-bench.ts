/**
 * What the SIP benchmarks (bench/calls.ts, bench/storm.ts) share: papgate and the bare app
 * (bench/calls-bare.ts) started against the servers test/e2e/servers.sh started, sipp runs counted
 * by their `-trace_logs` lines, CPU from /proc, the throwaway Redis with its seeded devices.
 * Everything on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseNewDevice } from '../src/domain/device';
import { restrictedSipPassword } from '../src/domain/pap';
import { connectRedis } from '../src/store/connect';
import { freePort, startEmbeddedRedis } from '../src/store/embedded';
import { Store } from '../src/store/store';

const env = process.env;
export const REPO = path.resolve(__dirname, '../..');
export const SIP = env.E2E_SIP ?? '127.0.0.1:5060';
export const REALM = 'papgate-bench';
export const BARE_PASSWORD = 'bench-password';
const TICK_MS = 1000 / 100; // /proc/<pid>/stat counts CPU time in clock ticks of 10 ms (USER_HZ)

export const nums = (name: string, def: string) => (env[name] ?? def).split(',').map(Number);
export const num = (name: string, def: number) => Number(env[name] ?? def);

for (const host of [SIP.split(':')[0], env.E2E_DRACHTIO_HOST, env.E2E_FREESWITCH_HOST]) {
  if (host !== undefined && !/^127\./.test(host)) throw new Error(`bench: ${host} is not loopback; refused`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU milliseconds (user + system) a process has used so far. */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface Device {
  mac: string;
  pap: string;
  password: string;
}

export interface App {
  readonly name: 'papgate' | 'bare' | 'floor';
  readonly pids: number[];
  stop(): Promise<void>;
}

/** The run's folder (sipp output, papgate logs), made by benchFolder(). */
let tmp = '';
export function benchFolder(prefix: string): string {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return tmp;
}

/** Every process this run started (apps, sipp): stopped when the run is interrupted. */
const children = new Set<ChildProcess>();
export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const c of children) c.kill('SIGTERM');
    process.exit(130);
  });

async function waitFor(what: string, child: ChildProcess, test: () => boolean, ms = 30000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    if (Date.now() > end) throw new Error(`${what} not ready after ${ms} ms`);
    await sleep(100);
  }
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The servers test/e2e/servers.sh started (bench/calls.sh), with the secrets it drew for this run. */
const serverEnv = () => ({
  DRACHTIO_HOST: env.E2E_DRACHTIO_HOST ?? '127.0.0.1',
  DRACHTIO_PORT: env.E2E_DRACHTIO_PORT ?? '9022',
  DRACHTIO_SECRET: env.E2E_DRACHTIO_SECRET ?? '',
  FREESWITCH_HOST: env.E2E_FREESWITCH_HOST ?? '127.0.0.1',
  FREESWITCH_PORT: env.E2E_FREESWITCH_PORT ?? '8021',
  FREESWITCH_SECRET: env.E2E_FREESWITCH_SECRET ?? '',
  // FreeSWITCH hands calls only to the listeners servers.sh named (PAPGATE_LISTENERS), the first is this
  FREESWITCH_LISTEN_PORT: env.E2E_PAPGATE_LISTEN_PORT ?? '8085',
});

let run = 0;

export interface Papgate extends App {
  /** papgate's provisioning port (HTTP, 127.0.0.1) */
  readonly provisioningPort: number;
}

/** papgate as it runs in production (dist/src/main.js), logging at info to a file. */
export async function startPapgate(
  redisUrl: string,
  redisPid: number,
  extra: Record<string, string>,
): Promise<Papgate> {
  run += 1;
  const logFile = path.join(tmp, `papgate-${run}.log`);
  const out = fs.openSync(logFile, 'w');
  const provisioningPort = await freePort();
  // BENCH_PAPGATE_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=DIR`, profiles papgate under load
  const nodeArgs = nodeArgsOf('BENCH_PAPGATE_NODE_ARGS');
  const child = track(
    spawn(process.execPath, [...nodeArgs, path.join(REPO, 'dist/src/main.js')], {
      cwd: REPO,
      stdio: ['ignore', out, out],
      env: {
        PATH: env.PATH,
        ...serverEnv(),
        REDIS_URL: redisUrl,
        DATA_DIR: path.join(tmp, 'data'),
        ADMIN_PORT: String(await freePort()),
        ADMIN_TOKEN: 'bench-admin-token-0123456789',
        PROVISIONING_PORT: String(provisioningPort),
        PROVISIONING_HOST: '127.0.0.1',
        SIP_REALM: REALM,
        PROMPTS_DIR: path.join(REPO, 'prompts'),
        // readiness is read from the info lines "connected to ..."
        LOG_LEVEL: env.BENCH_LOG_LEVEL === 'debug' ? 'debug' : 'info',
        // Every phone of the benchmark calls from 127.0.0.1: one source network, whose share would
        // otherwise be what is measured.
        IVR_MAX_CALLS_PER_SOURCE: '100000',
        ...extra,
      },
    }),
  );
  fs.closeSync(out);
  const log = () => fs.readFileSync(logFile, 'utf8');
  await waitFor(
    `papgate (log ${logFile})`,
    child,
    () => /connected to drachtio-server/.test(log()) && /connected to FreeSWITCH/.test(log()),
  ).catch(async (err: Error) => {
    await stopChild(child);
    throw err;
  });
  await sleep(500);
  return { name: 'papgate', pids: [child.pid!, redisPid], provisioningPort, stop: () => stopChild(child) };
}

/** Extra node options from a space-separated variable. */
const nodeArgsOf = (name: string) => (env[name] ?? '').split(' ').filter((a) => a !== '');

/** The bare app; with `floor`, the REGISTER floor on that Redis (its pid counted with the app's). */
export async function startBare(floor?: { url: string; pid: number }): Promise<App> {
  const child = track(
    // BENCH_BARE_NODE_ARGS: as BENCH_PAPGATE_NODE_ARGS, for the bare app (its profile beside papgate's)
    spawn(
      process.execPath,
      [...nodeArgsOf('BENCH_BARE_NODE_ARGS'), path.join(REPO, 'dist/bench/calls-bare.js')],
      {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: {
          PATH: env.PATH,
          ...Object.fromEntries(Object.entries(serverEnv()).map(([k, v]) => [`BENCH_${k}`, v])),
          BENCH_BARE_REALM: REALM,
          BENCH_BARE_PASSWORD: BARE_PASSWORD,
          ...(floor && { BENCH_BARE_REDIS_URL: floor.url }),
        },
      },
    ),
  );
  let ready = false;
  child.stdout!.on('data', (d: Buffer) => (ready ||= d.toString().includes('"ready":true')));
  await waitFor('bare app', child, () => ready).catch(async (err: Error) => {
    await stopChild(child);
    throw err;
  });
  await sleep(500);
  return {
    name: floor ? 'floor' : 'bare',
    pids: floor ? [child.pid!, floor.pid] : [child.pid!],
    stop: () => stopChild(child),
  };
}

export interface SippRun {
  /** `-trace_logs` lines per outcome (REG, BYE, SHED, BADPAP) */
  outcomes: Record<string, number>;
  /** the `-trace_logs` lines themselves (`<outcome> <mac>`) */
  lines: string[];
  failed: number;
  /** rtd 1 (served), rtd 2 (shed) and rtd 3 (answer: authenticated INVITE to 200) in ms, sorted */
  served: number[];
  shed: number[];
  answer: number[];
  seconds: number;
  /** seconds from the first to the last answer timed (rtd): a rate that does not count sipp's own lag */
  span: number;
}

/** Runs one sipp client to completion in its own folder; `service` is the number it calls. */
export async function sipp(
  name: string,
  scenario: string,
  inf: string,
  args: string[],
  timeoutS: number,
  service = '*89',
): Promise<SippRun> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const sf = path.join(dir, 'scenario.xml');
  fs.writeFileSync(sf, scenario);
  const started = Date.now();
  const port = await freePort();
  const code = await new Promise<number | null>((resolve) => {
    const p = track(
      spawn(
        'sipp',
        [
          SIP,
          '-sf',
          sf,
          '-inf',
          inf,
          '-i',
          '127.0.0.1',
          '-p',
          String(port),
          '-s',
          service,
          '-trace_stat',
          '-stf',
          path.join(dir, 'stat.csv'),
          '-trace_logs',
          '-log_file',
          path.join(dir, 'outcomes.log'),
          '-trace_rtt',
          '-rtt_freq',
          '1',
          // why a call failed (an unexpected message, a timeout), for the run's folder
          '-trace_err',
          '-error_file',
          path.join(dir, 'errors.log'),
          '-timeout',
          `${timeoutS}s`,
          '-nostdin',
          ...args,
        ],
        { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
      ),
    );
    p.stderr.on('data', (d: Buffer) => fs.appendFileSync(path.join(dir, 'stderr'), d));
    // sipp's own -timeout did not end a run whose calls hung (emergency calls under overload held
    // the step for minutes): SIGUSR1 makes it stop and write its statistics, SIGKILL follows.
    const stop = setTimeout(() => p.kill('SIGUSR1'), (timeoutS + 5) * 1000);
    const kill = setTimeout(() => p.kill('SIGKILL'), (timeoutS + 15) * 1000);
    p.on('close', (c) => {
      clearTimeout(stop);
      clearTimeout(kill);
      resolve(c);
    });
  });
  const seconds = (Date.now() - started) / 1000;
  const outcomes: Record<string, number> = {};
  const logPath = path.join(dir, 'outcomes.log');
  const lines = fs.existsSync(logPath)
    ? fs
        .readFileSync(logPath, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
    : [];
  for (const line of lines) {
    const w = line.split(' ')[0]!;
    outcomes[w] = (outcomes[w] ?? 0) + 1;
  }
  const stat = fs.readFileSync(path.join(dir, 'stat.csv'), 'utf8').trim().split('\n');
  const head = stat[0]!.split(';');
  const last = stat[stat.length - 1]!.split(';');
  const failed = Number(last[head.indexOf('FailedCall(C)')]);
  const served: number[] = [];
  const shed: number[] = [];
  const answer: number[] = [];
  let [firstAt, lastAt] = [Infinity, -Infinity];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(1)) {
      const [at, ms, rtd] = line.split(';');
      if (ms === undefined) continue;
      [firstAt, lastAt] = [Math.min(firstAt, Number(at)), Math.max(lastAt, Number(at))];
      const which = rtd?.trim();
      (which === '2' ? shed : which === '3' ? answer : served).push(Number(ms));
    }
  }
  served.sort((a, b) => a - b);
  shed.sort((a, b) => a - b);
  answer.sort((a, b) => a - b);
  if (code !== 0 && failed === 0 && lines.length === 0)
    throw new Error(
      `sipp ${name} failed (exit ${code}): ${fs.readFileSync(path.join(dir, 'stderr'), 'utf8').slice(-2000)}`,
    );
  const span = lastAt > firstAt ? (lastAt - firstAt) / 1000 : 0;
  return { outcomes, lines, failed, served, shed, answer, seconds, span };
}

/** The loopback emergency route: a sipp UAS answering every INVITE to an emergency number. */
export async function emergencyRoute(tmp: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const file = path.join(tmp, 'emergency-route.xml');
  fs.writeFileSync(
    file,
    fs
      .readFileSync(path.join(REPO, 'test/e2e/scenarios/uas_route.tmpl.xml'), 'utf8')
      .split('__CHECKS__')
      .join('')
      .split('__VARIABLES__')
      .join(''),
  );
  const child = track(
    spawn('sipp', ['-sf', file, '-i', '127.0.0.1', '-p', String(port), '-nostdin'], {
      cwd: tmp,
      stdio: ['ignore', 'ignore', 'ignore'],
    }),
  );
  await sleep(300);
  return { port, stop: () => stopChild(child) };
}

/** drachtio-server's process (bench/calls.sh runs it through test/e2e/servers.sh), when known. */
export function drachtioPid(): number[] {
  return serverPids().drachtio;
}

/** The processes of drachtio-server and FreeSWITCH that test/e2e/servers.sh started, when known. */
export function serverPids(): { drachtio: number[]; freeswitch: number[] } {
  const pid = (name: string) => {
    try {
      return [Number(fs.readFileSync(path.join(env.E2E_SERVERS_RUN ?? '', `${name}.pid`), 'utf8').trim())];
    } catch {
      return [];
    }
  };
  return { drachtio: pid('drachtio'), freeswitch: pid('freeswitch') };
}

/** The first two fields of an injection line (see calls-scenarios.ts). */
export const auth = (mac: string, password: string) =>
  `${mac};[authentication username=${mac} password=${password}]`;

/** A sipp injection file in the run's folder. */
export function csv(name: string, rows: string[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `SEQUENTIAL\n${rows.join('\n')}\n`);
  return file;
}

export const fmt = (v: number | null, digits = 0) =>
  v === null || Number.isNaN(v) ? '-' : v.toFixed(digits);
export const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? '-' : (a / b).toFixed(2);

export interface BenchStore {
  readonly store: Store;
  readonly url: string;
  readonly pid: number;
  /**
   * `n` new Yealink devices of `tenant` (created unless it exists), the site of each from `site`
   * (default `bench`), with the restricted password papgate derives for 127.0.0.1.
   */
  devices(n: number, tenant?: string, site?: (serial: number) => string): Promise<Device[]>;
  /** How many of `list` (of `tenant`) are `successful`. */
  successful(list: Device[], tenant?: string): Promise<number>;
  close(): Promise<void>;
}

/** A throwaway redis-server (in the run's folder) and the Store the benchmark seeds it through. */
export async function benchStore(): Promise<BenchStore> {
  const silent = pino({ level: 'silent' });
  const redis = await startEmbeddedRedis({
    bin: env.REDIS_SERVER_BIN || 'redis-server',
    dir: path.join(tmp, 'redis'),
    persistent: false,
  });
  const client = await connectRedis(redis.url, silent);
  const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
  const store = new Store(client, {
    auth: {
      maxConsecutiveFailures: 3,
      failedLockSeconds: 60,
      maxTotalFailures: 9,
      suspendSeconds: 60,
      tempWhitelistSeconds: 60,
    },
    eventsMaxLen: 100000,
  });
  const tenants = new Set<string>();
  let serial = 0;
  const devices = async (n: number, tenant = 'bench', site = (_: number) => 'bench'): Promise<Device[]> => {
    if (!tenants.has(tenant)) {
      await store.putTenant(tenant, { name: tenant, language: 'en' }, 'bench');
      tenants.add(tenant);
    }
    const out: Device[] = [];
    while (out.length < n) {
      const batch = Array.from({ length: Math.min(500, n - out.length) }, () => {
        serial += 1;
        return parseNewDevice({
          mac: `0015be${serial.toString(16).padStart(6, '0')}`,
          vendor: 'yealink',
          model: 'T54W',
          site: site(serial),
          accounts: [{ server: 'sip.bench.example:5060', user: `u${serial}`, password: 'bench-full-pw' }],
        });
      });
      const res = await store.createDevices(tenant, batch, 'bench');
      if (res === 'unknown_tenant' || !res.ok)
        throw new Error(`cannot create devices: ${JSON.stringify(res)}`);
      for (const d of res.devices) {
        const dev = (await store.getDevice(tenant, d.mac))!;
        // papgate runs with SIP_BIND_TO_PROVISIONING_IP on (the default) and sipp sends from 127.0.0.1
        const password = restrictedSipPassword(dev.sipPassword, '127.0.0.1', true);
        // sipp reads a password starting with 0x as hex (AKA keys): such a device could not log in
        if (!password.startsWith('0x')) out.push({ mac: d.mac, pap: d.pap, password });
      }
    }
    return out;
  };
  const successful = async (list: Device[], tenant = 'bench') => {
    let n = 0;
    for (const d of list) if ((await store.getDevice(tenant, d.mac as never))?.state === 'successful') n += 1;
    return n;
  };
  return {
    store,
    url: redis.url,
    pid,
    devices,
    successful,
    close: async () => {
      await client.close().catch(() => undefined);
      await redis.stop();
    },
  };
}

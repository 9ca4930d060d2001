/**
 * Call capacity benchmark (`npm run bench:calls`, through bench/calls.sh, which starts
 * drachtio-server and FreeSWITCH with test/e2e/servers.sh and exports their E2E_* variables).
 * papgate (`node dist/src/main.js`, its own Redis) and the bare reference app (bench/calls-bare.ts)
 * run one after the other against the same servers in the same run; only one app is connected to
 * drachtio-server at a time. Everything on 127.0.0.1.
 *
 *   BENCH_REGISTER_RATES     REGISTER/s offered, one 10 s step each (500,1000,...,3000)
 *   BENCH_REGISTER_SECONDS   length of a step (10)
 *   BENCH_REGISTER_LIMIT     papgate's SIP_REGISTER_RATE_LIMIT in the overload step (1000)
 *   BENCH_IVR_CALLS          concurrent IVR calls per step (50,100,200,400)
 *   BENCH_IVR_RATE           new calls per second while a step ramps up (50)
 *   BENCH_IVR_DIGIT_GAP_MS   time between the PAP's digits, so that all calls overlap (2600)
 *   BENCH_IVR_LIMIT          papgate's IVR_MAX_CALLS in the overload step (100; offered twice that)
 *   BENCH_ONLY               register | ivr | overload (default: all)
 *   BENCH_LOG_LEVEL          papgate's LOG_LEVEL: info (default) or debug
 *   BENCH_PAPGATE_NODE_ARGS  extra node options for papgate, e.g. --cpu-prof --cpu-prof-dir=DIR
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
import { ivrScenario, registerScenario } from './calls-scenarios';

const env = process.env;
const REPO = path.resolve(__dirname, '../..');
const SIP = env.E2E_SIP ?? '127.0.0.1:5060';
const REALM = 'papgate-bench';
const BARE_PASSWORD = 'bench-password';
const TICK_MS = 1000 / 100; // /proc/<pid>/stat counts CPU time in clock ticks of 10 ms (USER_HZ)

const nums = (name: string, def: string) => (env[name] ?? def).split(',').map(Number);
const num = (name: string, def: number) => Number(env[name] ?? def);
const REGISTER_RATES = nums('BENCH_REGISTER_RATES', '500,1000,1500,2000,2500,3000');
const REGISTER_SECONDS = num('BENCH_REGISTER_SECONDS', 10);
const REGISTER_LIMIT = num('BENCH_REGISTER_LIMIT', 1000);
const IVR_CALLS = nums('BENCH_IVR_CALLS', '50,100,200,400');
const IVR_RATE = num('BENCH_IVR_RATE', 50);
const DIGIT_GAP_MS = num('BENCH_IVR_DIGIT_GAP_MS', 2600);
const IVR_LIMIT = num('BENCH_IVR_LIMIT', 100);
const ONLY = env.BENCH_ONLY ?? '';

for (const host of [SIP.split(':')[0], env.E2E_DRACHTIO_HOST, env.E2E_FREESWITCH_HOST]) {
  if (host !== undefined && !/^127\./.test(host)) throw new Error(`bench: ${host} is not loopback; refused`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU milliseconds (user + system) a process has used so far. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Device {
  mac: string;
  pap: string;
  password: string;
}

interface App {
  readonly name: 'papgate' | 'bare';
  readonly pids: number[];
  stop(): Promise<void>;
}

let tmp = '';

/** Every process this run started (apps, sipp): stopped when the run is interrupted. */
const children = new Set<ChildProcess>();
function track<T extends ChildProcess>(child: T): T {
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

function stopChild(child: ChildProcess): Promise<void> {
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
  // The listener servers.sh chose for this run (FreeSWITCH connects back only there), not 8085:
  // another run on the host may hold that.
  FREESWITCH_LISTEN_PORT: env.E2E_PAPGATE_LISTEN_PORT ?? '8085',
});

let run = 0;

/** papgate as it runs in production (dist/src/main.js), logging at info to a file. */
async function startPapgate(redisUrl: string, redisPid: number, extra: Record<string, string>): Promise<App> {
  run += 1;
  const logFile = path.join(tmp, `papgate-${run}.log`);
  const out = fs.openSync(logFile, 'w');
  // BENCH_PAPGATE_NODE_ARGS, e.g. `--cpu-prof --cpu-prof-dir=DIR`, profiles papgate under load
  const nodeArgs = (env.BENCH_PAPGATE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
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
        PROVISIONING_PORT: String(await freePort()),
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
  return { name: 'papgate', pids: [child.pid!, redisPid], stop: () => stopChild(child) };
}

async function startBare(): Promise<App> {
  const child = track(
    spawn(process.execPath, [path.join(REPO, 'dist/bench/calls-bare.js')], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        PATH: env.PATH,
        ...Object.fromEntries(Object.entries(serverEnv()).map(([k, v]) => [`BENCH_${k}`, v])),
        BENCH_BARE_REALM: REALM,
        BENCH_BARE_PASSWORD: BARE_PASSWORD,
      },
    }),
  );
  let ready = false;
  child.stdout!.on('data', (d: Buffer) => (ready ||= d.toString().includes('"ready":true')));
  await waitFor('bare app', child, () => ready).catch(async (err: Error) => {
    await stopChild(child);
    throw err;
  });
  await sleep(500);
  return { name: 'bare', pids: [child.pid!], stop: () => stopChild(child) };
}

interface SippRun {
  /** `-trace_logs` lines per outcome (REG, BYE, SHED, BADPAP) */
  outcomes: Record<string, number>;
  failed: number;
  /** rtd 1 (served), rtd 2 (shed) and rtd 3 (answer: authenticated INVITE to 200) in ms, sorted */
  served: number[];
  shed: number[];
  answer: number[];
  seconds: number;
}

/** Runs one sipp client to completion in its own folder. */
async function sipp(
  name: string,
  scenario: string,
  inf: string,
  args: string[],
  timeoutS: number,
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
          '*89',
          '-trace_stat',
          '-stf',
          path.join(dir, 'stat.csv'),
          '-trace_logs',
          '-log_file',
          path.join(dir, 'outcomes.log'),
          '-trace_rtt',
          '-rtt_freq',
          '1',
          '-timeout',
          `${timeoutS}s`,
          '-nostdin',
          ...args,
        ],
        { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
      ),
    );
    p.stderr.on('data', (d: Buffer) => fs.appendFileSync(path.join(dir, 'stderr'), d));
    p.on('close', resolve);
  });
  const seconds = (Date.now() - started) / 1000;
  const outcomes: Record<string, number> = {};
  const logPath = path.join(dir, 'outcomes.log');
  if (fs.existsSync(logPath))
    for (const line of fs.readFileSync(logPath, 'utf8').split('\n')) {
      const w = line.trim().split(' ')[0];
      if (w) outcomes[w] = (outcomes[w] ?? 0) + 1;
    }
  const stat = fs.readFileSync(path.join(dir, 'stat.csv'), 'utf8').trim().split('\n');
  const head = stat[0]!.split(';');
  const last = stat[stat.length - 1]!.split(';');
  const failed = Number(last[head.indexOf('FailedCall(C)')]);
  const served: number[] = [];
  const shed: number[] = [];
  const answer: number[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('_rtt.csv'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n').slice(1)) {
      const [, ms, rtd] = line.split(';');
      if (ms === undefined) continue;
      const which = rtd?.trim();
      (which === '2' ? shed : which === '3' ? answer : served).push(Number(ms));
    }
  }
  served.sort((a, b) => a - b);
  shed.sort((a, b) => a - b);
  answer.sort((a, b) => a - b);
  if (code !== 0 && failed === 0 && Object.keys(outcomes).length === 0)
    throw new Error(
      `sipp ${name} failed (exit ${code}): ${fs.readFileSync(path.join(dir, 'stderr'), 'utf8').slice(-2000)}`,
    );
  return { outcomes, failed, served, shed, answer, seconds };
}

/** The first two fields of an injection line (see calls-scenarios.ts). */
const auth = (mac: string, password: string) =>
  `${mac};[authentication username=${mac} password=${password}]`;

function csv(name: string, rows: string[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `SEQUENTIAL\n${rows.join('\n')}\n`);
  return file;
}

const fmt = (v: number | null, digits = 0) => (v === null || Number.isNaN(v) ? '-' : v.toFixed(digits));
const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? '-' : (a / b).toFixed(2);

async function main(): Promise<void> {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-bench-calls-'));
  console.log(`bench:calls: folder ${tmp} (sipp output, papgate logs); SIP ${SIP}; ${os.cpus().length} CPUs`);
  const silent = pino({ level: 'silent' });
  const redis = await startEmbeddedRedis({
    bin: env.REDIS_SERVER_BIN || 'redis-server',
    dir: path.join(tmp, 'redis'),
    persistent: false,
  });
  const client = await connectRedis(redis.url, silent);
  const redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
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
  await store.putTenant('bench', { name: 'Bench', language: 'en' }, 'bench');
  let serial = 0;
  const devices = async (n: number): Promise<Device[]> => {
    const out: Device[] = [];
    while (out.length < n) {
      const batch = Array.from({ length: Math.min(500, n - out.length) }, () => {
        serial += 1;
        return parseNewDevice({
          mac: `0015be${serial.toString(16).padStart(6, '0')}`,
          vendor: 'yealink',
          model: 'T54W',
          site: 'bench',
        });
      });
      const res = await store.createDevices('bench', batch, 'bench');
      if (res === 'unknown_tenant' || !res.ok)
        throw new Error(`cannot create devices: ${JSON.stringify(res)}`);
      for (const d of res.devices) {
        const dev = (await store.getDevice('bench', d.mac))!;
        // papgate runs with SIP_BIND_TO_PROVISIONING_IP on (the default) and sipp sends from 127.0.0.1
        const password = restrictedSipPassword(dev.sipPassword, '127.0.0.1', true);
        // sipp reads a password starting with 0x as hex (AKA keys): such a device could not log in
        if (!password.startsWith('0x')) out.push({ mac: d.mac, pap: d.pap, password });
      }
    }
    return out;
  };
  const successful = async (list: Device[]) => {
    let n = 0;
    for (const d of list)
      if ((await store.getDevice('bench', d.mac as never))?.state === 'successful') n += 1;
    return n;
  };

  const apps = {
    papgate: (extra: Record<string, string> = {}) => startPapgate(redis.url, redisPid, extra),
    bare: () => startBare(),
  };

  try {
    // ---- REGISTER ------------------------------------------------------------------------------
    if (ONLY === '' || ONLY === 'register') {
      const regDevices = await devices(2000);
      const papCsv = csv(
        'register-papgate.csv',
        regDevices.map((d) => auth(d.mac, d.password)),
      );
      const bareCsv = csv(
        'register-bare.csv',
        regDevices.map((d) => auth(d.mac, BARE_PASSWORD)),
      );
      type Step = {
        ok: number;
        failed: number;
        cpu: number | null;
        node: number | null;
        redis: number | null;
        p99: number | null;
      };
      const steps: Record<string, Map<number, Step>> = { papgate: new Map(), bare: new Map() };
      for (const name of ['papgate', 'bare'] as const) {
        // capacity, not shedding, is measured here: papgate's own limit is out of the way
        const app =
          name === 'papgate' ? await apps.papgate({ SIP_REGISTER_RATE_LIMIT: '1000000' }) : await apps.bare();
        const inf = name === 'papgate' ? papCsv : bareCsv;
        try {
          await sipp(`register-${name}-warmup`, registerScenario(), inf, ['-r', '300', '-m', '900'], 30); // JIT
          for (const rate of REGISTER_RATES) {
            const before = app.pids.map(cpuMs);
            const r = await sipp(
              `register-${name}-${rate}`,
              registerScenario(),
              inf,
              ['-r', String(rate), '-m', String(rate * REGISTER_SECONDS), '-l', String(rate * 10)],
              REGISTER_SECONDS + 40,
            );
            const used = app.pids.map((pid, i) => cpuMs(pid) - before[i]!);
            const ok = r.outcomes.REG ?? 0;
            const per = (ms: number | undefined) => (ok > 0 && ms !== undefined ? ms / ok : null);
            steps[name]!.set(rate, {
              ok,
              failed: rate * REGISTER_SECONDS - ok,
              cpu: per(used.reduce((a, b) => a + b, 0)),
              node: per(used[0]),
              redis: per(used[1]),
              p99: percentile(r.served, 99),
            });
            await sleep(2000);
          }
        } finally {
          await app.stop();
        }
      }
      const best = (name: string) =>
        Math.max(0, ...[...steps[name]!].filter(([, s]) => s.failed === 0).map(([rate]) => rate));
      console.log(
        `\nREGISTER with digest (401 then 200), ${REGISTER_SECONDS} s per step; CPU ms per REGISTER (papgate: node + its Redis)`,
      );
      console.log(
        'offered/s | papgate: 200  failed  CPU (node+redis)        p99 ms | bare: 200  failed  CPU    p99 ms | CPU ratio',
      );
      for (const rate of REGISTER_RATES) {
        const p = steps.papgate!.get(rate)!;
        const b = steps.bare!.get(rate)!;
        console.log(
          `${String(rate).padStart(9)} | ${String(p.ok).padStart(12)} ${String(p.failed).padStart(7)} ${fmt(p.cpu, 3).padStart(5)} (${fmt(p.node, 3)}+${fmt(p.redis, 3)}) ${fmt(p.p99).padStart(9)} | ${String(b.ok).padStart(9)} ${String(b.failed).padStart(7)} ${fmt(b.cpu, 3).padStart(5)} ${fmt(b.p99).padStart(9)} | ${ratio(p.cpu, b.cpu).padStart(9)}`,
        );
      }
      const pb = best('papgate');
      const bb = best('bare');
      console.log(`highest rate with 0 failed: papgate ${pb}/s, bare ${bb}/s (ratio ${ratio(pb, bb)})`);
      const at = Math.min(pb, bb);
      if (at > 0)
        console.log(
          `CPU per REGISTER at ${at}/s: papgate ${fmt(steps.papgate!.get(at)!.cpu, 3)} ms, bare ${fmt(steps.bare!.get(at)!.cpu, 3)} ms (ratio ${ratio(steps.papgate!.get(at)!.cpu, steps.bare!.get(at)!.cpu)})`,
        );
    }

    // ---- IVR -----------------------------------------------------------------------------------
    const ivrRun = async (
      name: string,
      app: App,
      list: Device[],
      n: number,
      creds: (d: Device) => string,
    ) => {
      const inf = csv(
        `${name}.csv`,
        list.map((d) => `${auth(d.mac, creds(d))};${[...d.pap].join(';')}`),
      );
      const waitMs = 30000 + 8 * DIGIT_GAP_MS;
      const before = app.pids.map(cpuMs);
      const r = await sipp(
        name,
        ivrScenario(tmp, DIGIT_GAP_MS, waitMs),
        inf,
        [
          '-r',
          String(IVR_RATE),
          '-m',
          String(n),
          '-l',
          String(n),
          '-mi',
          '127.0.0.1',
          '-mp',
          String(await freePort()),
        ],
        Math.ceil(n / IVR_RATE + waitMs / 1000 + 30),
      );
      const cpu = app.pids.map(cpuMs).reduce((s, v, i) => s + v - before[i]!, 0);
      return { r, cpu };
    };
    if (ONLY === '' || ONLY === 'ivr') {
      console.log(
        `\nIVR: N calls at ${IVR_RATE}/s, each device its own PAP by RFC 2833 (digits ${DIGIT_GAP_MS} ms apart) and #`,
      );
      console.log(
        'calls app       BYE  shed(503)  failed  successful  INVITE->BYE p50 s  p99 s  answer p50 ms  p99 ms  CPU s',
      );
      for (const n of IVR_CALLS) {
        for (const name of ['papgate', 'bare'] as const) {
          const list = await devices(n);
          const app = name === 'papgate' ? await apps.papgate() : await apps.bare();
          let res;
          try {
            res = await ivrRun(`ivr-${name}-${n}`, app, list, n, (d) =>
              name === 'papgate' ? d.password : BARE_PASSWORD,
            );
          } finally {
            await app.stop();
          }
          const { r, cpu } = res;
          const ok = name === 'papgate' ? String(await successful(list)) : '-';
          console.log(
            `${String(n).padStart(5)} ${name.padEnd(8)} ${String(r.outcomes.BYE ?? 0).padStart(4)} ${String(r.outcomes.SHED ?? 0).padStart(10)} ${String(r.failed).padStart(7)} ${ok.padStart(11)} ${fmt((percentile(r.served, 50) ?? NaN) / 1000, 1).padStart(18)} ${fmt((percentile(r.served, 99) ?? NaN) / 1000, 1).padStart(6)} ${fmt(percentile(r.answer, 50)).padStart(14)} ${fmt(percentile(r.answer, 99)).padStart(7)} ${fmt(cpu / 1000, 1).padStart(6)}`,
          );
          await sleep(3000);
        }
      }
    }

    // ---- overload ------------------------------------------------------------------------------
    if (ONLY === '' || ONLY === 'overload') {
      const regDevices = await devices(2000);
      const inf = csv(
        'overload-register.csv',
        regDevices.map((d) => auth(d.mac, d.password)),
      );
      const offered = 2 * REGISTER_LIMIT;
      const app = await apps.papgate({ SIP_REGISTER_RATE_LIMIT: String(REGISTER_LIMIT) });
      try {
        const r = await sipp(
          'overload-register',
          registerScenario(),
          inf,
          ['-r', String(offered), '-m', String(offered * REGISTER_SECONDS), '-l', String(offered * 10)],
          REGISTER_SECONDS + 40,
        );
        const ok = r.outcomes.REG ?? 0;
        console.log(
          `\noverload: REGISTER offered at ${offered}/s, twice SIP_REGISTER_RATE_LIMIT=${REGISTER_LIMIT}, ${REGISTER_SECONDS} s`,
        );
        console.log(
          `  served ${ok} (${fmt(ok / REGISTER_SECONDS)}/s, p50 ${fmt(percentile(r.served, 50))} ms, p99 ${fmt(percentile(r.served, 99))} ms); shed with 503 ${r.outcomes.SHED ?? 0} (p50 ${fmt(percentile(r.shed, 50))} ms, p99 ${fmt(percentile(r.shed, 99))} ms); failed ${r.failed}`,
        );
      } finally {
        await app.stop();
      }
      const n = 2 * IVR_LIMIT;
      const list = await devices(n);
      const ivr = await apps.papgate({ IVR_MAX_CALLS: String(IVR_LIMIT) });
      let res;
      try {
        res = await ivrRun('overload-ivr', ivr, list, n, (d) => d.password);
      } finally {
        await ivr.stop();
      }
      const { r } = res;
      console.log(`overload: ${n} concurrent IVR calls, twice IVR_MAX_CALLS=${IVR_LIMIT}`);
      console.log(
        `  served ${r.outcomes.BYE ?? 0} (successful ${await successful(list)}, p50 ${fmt((percentile(r.served, 50) ?? NaN) / 1000, 1)} s); shed with 503 ${r.outcomes.SHED ?? 0} (p50 ${fmt(percentile(r.shed, 50))} ms, p99 ${fmt(percentile(r.shed, 99))} ms); failed ${r.failed}`,
      );
    }
  } finally {
    await client.close().catch(() => undefined);
    await redis.stop();
  }
}

void main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:calls: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);

/**
 * "Monday morning" benchmark (`npm run bench:storm`, through bench/storm.sh): on one node, at the
 * same time, N phones rebooting after a power cut, a share of them authenticating by PAP, and
 * emergency calls at a steady rate, for each N of BENCH_STORM_PHONES. Per N and app:
 *
 * - every phone is a seeded device; (1 - BENCH_STORM_PAP_SHARE) of them belong to a tenant whose
 *   permanent whitelist holds 127.0.0.1 and took their first full file before the storm (they
 *   fetch with their credential, as an authenticated phone does); the others are `needed`, each on
 *   a site of its own (a PAP success lets in its own site's new phones from that address: one
 *   shared site would hand every later phone its full file without a PAP);
 * - the phones reboot over BENCH_STORM_SPREAD_SECONDS in random order: each fetches its file over
 *   HTTP (Yealink User-Agent), REGISTERs its restricted account 1 s later (one sipp stream at the
 *   same rate), and a PAP phone calls `*89` 2 s later and enters its PAP (one sipp stream), then
 *   fetches again once the calls are over and must get its full file;
 * - emergency calls (112) from the same phones at BENCH_STORM_EMERGENCY_RATE per second the whole
 *   time, answered by a sipp UAS standing for EMERGENCY_ROUTE;
 * - a phone whose fetch, REGISTER or call was refused (503, a timeout) tries that again after the
 *   Retry-After, in rounds, until BENCH_STORM_WINDOW_SECONDS after the storm began.
 *
 * The bare run plays the same phones against nginx (bench/storm.sh; the same bytes as papgate's
 * minimal and full files) and the bare app (bench/calls-bare.ts); emergency routing has no bare
 * counterpart (the bare app answers every INVITE with its IVR).
 *
 *   BENCH_STORM_PHONES           N, one step each (500,1000,2000,4000)
 *   BENCH_STORM_PAP_SHARE        share of the phones authenticating by PAP (0.1)
 *   BENCH_STORM_SPREAD_SECONDS   the window the phones reboot in (10)
 *   BENCH_STORM_EMERGENCY_RATE   emergency calls per second (2)
 *   BENCH_STORM_WINDOW_SECONDS   how long refused phones keep trying (120)
 *   BENCH_STORM_RETRY_SECONDS    papgate's SIP_OVERLOAD_RETRY_AFTER_SECONDS, the phones' wait (10)
 *   BENCH_STORM_DIGIT_GAP_MS     time between the PAP's digits (800)
 *   BENCH_STORM_BARE             0: papgate only
 * and those of bench/sip-bench.ts (BENCH_LOG_LEVEL, BENCH_PAPGATE_NODE_ARGS).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { freePort } from '../src/store/embedded';
import { request } from '../test/support/http';
import { emergencyScenario, ivrScenario, registerScenario } from './calls-scenarios';
import { auth, BARE_PASSWORD, benchFolder, benchStore, cpuMs, csv, type App, type Device } from './sip-bench';
import { fmt, num, nums, percentile, SIP, sipp, sleep, type SippRun } from './sip-bench';
import { emergencyRoute, startBare, startPapgate } from './sip-bench';

const env = process.env;
const PHONES = nums('BENCH_STORM_PHONES', '500,1000,2000,4000');
const PAP_SHARE = num('BENCH_STORM_PAP_SHARE', 0.1);
const SPREAD_S = num('BENCH_STORM_SPREAD_SECONDS', 10);
const EMERGENCY_RATE = num('BENCH_STORM_EMERGENCY_RATE', 2);
const WINDOW_S = num('BENCH_STORM_WINDOW_SECONDS', 120);
const RETRY_S = num('BENCH_STORM_RETRY_SECONDS', 10);
const DIGIT_GAP_MS = num('BENCH_STORM_DIGIT_GAP_MS', 800);
const WITH_BARE = env.BENCH_STORM_BARE !== '0';
/** nginx of bench/storm.sh: its root (where the files are written) and its port */
const NGINX_ROOT = env.BENCH_NGINX_ROOT ?? '';
const NGINX_PORT = Number(env.BENCH_NGINX_PORT ?? 0);

const WL_TENANT = 'storm-wl';
const PAP_TENANT = 'storm-pap';
/** the full file's account password (bench/sip-bench.ts seeds it); the minimal file's text */
const FULL_MARK = 'bench-full-pw';
const MINIMAL_MARK = 'Dial *89 to authenticate';
const USER_AGENT = 'Yealink SIP-T54W 96.86.0.70';
/** a call: 1.5 s, the prompt, seven digits, "successful", BYE */
const CALL_S = 1.5 + (7 * DIGIT_GAP_MS) / 1000 + 8;

type Kind = 'full' | 'minimal';

interface Phone extends Device {
  readonly needsPap: boolean;
  /** the URL path of its fetch (its credential's path once it has one) */
  url: string;
  /** the file its last answered fetch brought */
  last: Kind | null;
  fetched: boolean;
  registered: boolean;
  called: boolean;
  /** ms after the storm began when it was registered with the file its state calls for */
  doneAt: number | null;
}

interface Fetch {
  status: number;
  body: string;
  retryAfter: number | null;
}

/**
 * One phone's GET, on a connection of its own, as a phone makes it; no answer within 10 s, or
 * none at all: status 0.
 */
async function get(port: number, url: string): Promise<Fetch> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 10000)));
  const r = await Promise.race([
    request(port, url, { headers: { 'user-agent': USER_AGENT } }).catch(() => null),
    late,
  ]).finally(() => clearTimeout(timer));
  if (r === null) return { status: 0, body: '', retryAfter: null };
  const retryAfter = r.headers['retry-after'];
  return { status: r.status, body: r.body, retryAfter: retryAfter ? Number(retryAfter) : null };
}

const kindOf = (body: string): Kind | null =>
  body.includes(FULL_MARK) ? 'full' : body.includes(MINIMAL_MARK) ? 'minimal' : null;

/** Runs `f` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, f: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

interface Step {
  phones: number;
  app: App['name'];
  filesServed: number;
  filesRefused: number;
  /** of the refused: no answer within 10 s, or the connection failed */
  filesUnanswered: number;
  registerServed: number;
  registerRefused: number;
  ivrCompleted: number;
  ivrFailed: number;
  emergencyOffered: number;
  emergencyProxied: number;
  emergencyP99: number | null;
  ok: number;
  lastOkS: number | null;
  rounds: number;
  cpuS: number;
}

async function main(): Promise<void> {
  const tmp = benchFolder('papgate-bench-storm-');
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `bench:storm: folder ${tmp}; SIP ${SIP}; ${os.cpus().length} CPUs; load ${load()}; ${new Date().toISOString()}`,
  );
  console.log(
    `phones reboot over ${SPREAD_S} s, ${PAP_SHARE * 100} % by PAP, emergency calls ${EMERGENCY_RATE}/s, refused phones retry for ${WINDOW_S} s (Retry-After ${RETRY_S} s)`,
  );
  const bench = await benchStore();
  await bench.store.putTenant(WL_TENANT, { name: WL_TENANT, language: 'en' }, 'bench');
  await bench.store.addWhitelist(WL_TENANT, parseWhitelistEntry('127.0.0.1'), 'bench');
  const route = await emergencyRoute(tmp);
  const steps: Step[] = [];
  try {
    for (const n of PHONES) {
      const nPap = Math.round(n * PAP_SHARE);
      const wl = await bench.devices(n - nPap, WL_TENANT);
      const pap = await bench.devices(nPap, PAP_TENANT, (serial) => `site-${serial}`);
      const papgate = await startPapgate(bench.url, bench.pid, {
        EMERGENCY_ROUTE: `sip:127.0.0.1:${route.port}`,
        SIP_OVERLOAD_RETRY_AFTER_SECONDS: String(RETRY_S),
      });
      const base = papgate.provisioningPort;
      const phones = (): Phone[] =>
        [
          ...wl.map((d) => ({ ...d, needsPap: false, url: `/${d.mac}.cfg` })),
          ...pap.map((d) => ({ ...d, needsPap: true, url: `/${d.mac}.cfg` })),
        ].map((p) => ({ ...p, last: null, fetched: false, registered: false, called: false, doneAt: null }));
      try {
        // The whitelisted phones took their first full file before the power cut: their credential.
        const primed = phones();
        await pool(
          primed.filter((p) => !p.needsPap),
          16,
          async (p) => {
            const r = await get(base, p.url);
            const credential = /\/d\/([A-Za-z0-9_-]+)\//.exec(r.body)?.[1];
            if (r.status !== 200 || !credential) throw new Error(`priming ${p.mac}: ${r.status}`);
            p.url = `/d/${credential}/${p.mac}.cfg`;
          },
        );
        // nginx serves the same bytes (a phone's full and minimal files differ only in their secrets)
        if (NGINX_ROOT !== '') {
          const full = primed.find((p) => !p.needsPap);
          if (full) fs.writeFileSync(path.join(NGINX_ROOT, 'full.cfg'), (await get(base, full.url)).body);
          if (pap.length > 0)
            fs.writeFileSync(
              path.join(NGINX_ROOT, 'minimal.cfg'),
              (await get(base, `/${pap[0]!.mac}.cfg`)).body,
            );
        }
        steps.push(await storm(n, papgate, base, primed, route.port));
      } finally {
        await papgate.stop();
      }
      if (WITH_BARE && NGINX_PORT !== 0) {
        const bare = await startBare();
        try {
          const list = phones().map((p) => ({
            ...p,
            password: BARE_PASSWORD,
            url: p.needsPap ? '/minimal.cfg' : '/full.cfg',
          }));
          steps.push(await storm(n, bare, NGINX_PORT, list, null));
        } finally {
          await bare.stop();
        }
      }
      await sleep(3000);
    }
  } finally {
    await route.stop();
    await bench.close();
  }
  report(steps);
}

/** One step: the phones of `list` reboot against `app` (files from port `base`) until all are done or the window ends. */
async function storm(
  n: number,
  app: App,
  base: number,
  list: Phone[],
  routePort: number | null,
): Promise<Step> {
  const step: Step = {
    phones: n,
    app: app.name,
    filesServed: 0,
    filesRefused: 0,
    filesUnanswered: 0,
    registerServed: 0,
    registerRefused: 0,
    ivrCompleted: 0,
    ivrFailed: 0,
    emergencyOffered: 0,
    emergencyProxied: 0,
    emergencyP99: null,
    ok: 0,
    lastOkS: null,
    rounds: 0,
    cpuS: 0,
  };
  const tag = `${app.name}-${n}`;
  const before = app.pids.map(cpuMs);
  const began = Date.now();
  const emergencyTimes: number[] = [];
  const fullAfterPap = app.name === 'bare' ? '/full.cfg' : null;
  const fetch = async (p: Phone): Promise<number | null> => {
    const r = await get(base, p.url);
    const kind = r.status === 200 ? kindOf(r.body) : null;
    if (kind === null) {
      step.filesRefused += 1;
      if (r.status === 0) step.filesUnanswered += 1;
      return r.retryAfter ?? RETRY_S;
    }
    step.filesServed += 1;
    p.last = kind;
    p.fetched = true;
    return null;
  };
  const done = (p: Phone) => p.registered && p.last === 'full' && (!p.needsPap || p.called);
  let todo = shuffle([...list]);
  while (todo.length > 0) {
    step.rounds += 1;
    const round = `${tag}-${step.rounds}`;
    const fetching = todo.filter((p) => !p.fetched);
    const registering = todo.filter((p) => !p.registered);
    const calling = todo.filter((p) => p.needsPap && !p.called);
    const rate = (count: number) => String(Math.max(1, Math.ceil(count / SPREAD_S)));
    let wait = 0;
    const fetches = (async () => {
      const t0 = Date.now();
      await Promise.all(
        fetching.map(async (p, i) => {
          await sleep(t0 + (i * SPREAD_S * 1000) / fetching.length - Date.now());
          wait = Math.max(wait, (await fetch(p)) ?? 0);
        }),
      );
    })();
    const sip = async (
      what: string,
      phones: Phone[],
      delayS: number,
      run: (inf: string) => Promise<SippRun>,
      row: (p: Phone) => string,
    ) => {
      if (phones.length === 0) return null;
      await sleep(delayS * 1000);
      return run(csv(`${round}-${what}.csv`, phones.map(row)));
    };
    const lengthS = SPREAD_S + (calling.length > 0 ? CALL_S + 10 : 5);
    const byMac = (r: SippRun | null, what: string) =>
      new Set((r?.lines ?? []).filter((l) => l.startsWith(`${what} `)).map((l) => l.split(' ')[1]));
    /** a phone is done when the last of its parts ends (each part's end, for all its phones) */
    const stamp = (phones: Phone[]) => {
      const at = Date.now() - began;
      for (const p of phones) if (done(p)) p.doneAt ??= at;
    };
    const registers = sip(
      'register',
      registering,
      1,
      (inf) =>
        sipp(
          `${round}-register`,
          registerScenario(),
          inf,
          [
            '-r',
            rate(registering.length),
            '-m',
            String(registering.length),
            '-l',
            String(registering.length),
          ],
          SPREAD_S + 40,
        ),
      (p) => auth(p.mac, p.password),
    ).then((reg) => {
      const registered = byMac(reg, 'REG');
      for (const p of registering) if (registered.has(p.mac)) p.registered = true;
      step.registerServed += registered.size;
      step.registerRefused += registering.length - registered.size;
      stamp(registering);
    });
    const calls = sip(
      'ivr',
      calling,
      2,
      async (inf) =>
        sipp(
          `${round}-ivr`,
          ivrScenario(path.dirname(inf), DIGIT_GAP_MS, 30000),
          inf,
          [
            '-r',
            rate(calling.length),
            '-m',
            String(calling.length),
            '-l',
            String(calling.length),
            '-mi',
            '127.0.0.1',
            '-mp',
            String(await freePort()),
          ],
          SPREAD_S + CALL_S + 60,
        ),
      (p) => `${auth(p.mac, p.password)};${[...p.pap].join(';')}`,
    ).then(async (ivr) => {
      const completed = byMac(ivr, 'BYE');
      step.ivrCompleted += completed.size;
      step.ivrFailed += calling.length - completed.size;
      // After its PAP the phone is told to fetch again (check-sync) and must get its full file.
      const again = calling.filter((p) => completed.has(p.mac));
      for (const p of again) {
        p.called = true;
        if (fullAfterPap !== null) p.url = fullAfterPap;
      }
      await pool(again, 16, async (p) => {
        wait = Math.max(wait, (await fetch(p)) ?? 0);
      });
      stamp(again);
    });
    const emergencies =
      routePort === null
        ? null
        : sip(
            'emergency',
            [...list.filter((p) => !p.needsPap).slice(0, 25), ...list.filter((p) => p.needsPap).slice(0, 25)],
            0,
            (inf) => {
              const count = Math.max(1, Math.round(EMERGENCY_RATE * lengthS));
              step.emergencyOffered += count;
              return sipp(
                `${round}-emergency`,
                emergencyScenario(500),
                inf,
                ['-r', String(EMERGENCY_RATE), '-m', String(count), '-l', String(count)],
                lengthS + 40,
                '112',
              );
            },
            (p) => auth(p.mac, p.password),
          ).then((emergency) => {
            step.emergencyProxied += emergency?.outcomes.CALL ?? 0;
            emergencyTimes.push(...(emergency?.answer ?? []));
          });
    await Promise.all([fetches.then(() => stamp(fetching)), registers, calls, emergencies]);
    for (const p of todo) {
      // its fetch after the PAP was refused: it asks again (the others' refused fetches left `fetched` off)
      if (!done(p) && p.called && p.last !== 'full') p.fetched = false;
    }
    todo = todo.filter((p) => !done(p));
    if (todo.length === 0) break;
    const retry = todo.some((p) => !p.registered || (p.needsPap && !p.called))
      ? Math.max(wait, RETRY_S)
      : wait;
    if (Date.now() - began + retry * 1000 + SPREAD_S * 1000 > WINDOW_S * 1000) break;
    await sleep(retry * 1000);
  }
  emergencyTimes.sort((a, b) => a - b);
  step.emergencyP99 = percentile(emergencyTimes, 99);
  const ok = list.filter((p) => p.doneAt !== null && p.doneAt <= WINDOW_S * 1000);
  step.ok = ok.length;
  step.lastOkS = ok.length === 0 ? null : Math.max(...ok.map((p) => p.doneAt!)) / 1000;
  step.cpuS = app.pids.map(cpuMs).reduce((s, v, i) => s + v - before[i]!, 0) / 1000;
  console.log(
    `  ${tag}: ${step.rounds} round(s), ${step.ok}/${n} phones done (last after ${fmt(step.lastOkS, 1)} s); load ${os.loadavg()[0]!.toFixed(2)}`,
  );
  return step;
}

function report(steps: Step[]): void {
  console.log(
    `\nN phones, ${PAP_SHARE * 100} % by PAP, rebooting over ${SPREAD_S} s; refused = 503 or no answer (each retried after Retry-After)`,
  );
  console.log(
    '    N app     files served/refused (no answer)  REGISTER served/refused  IVR completed/failed  emergency proxied/offered  p99 ms  ready in window (last s)  CPU s',
  );
  for (const s of steps)
    console.log(
      `${String(s.phones).padStart(5)} ${s.app.padEnd(7)} ${`${s.filesServed}/${s.filesRefused} (${s.filesUnanswered})`.padStart(32)} ${`${s.registerServed}/${s.registerRefused}`.padStart(24)} ${`${s.ivrCompleted}/${s.ivrFailed}`.padStart(21)} ${(s.app === 'bare' ? '-' : `${s.emergencyProxied}/${s.emergencyOffered}`).padStart(26)} ${fmt(s.emergencyP99).padStart(7)} ${`${s.ok}/${s.phones} (${fmt(s.lastOkS, 1)})`.padStart(25)} ${fmt(s.cpuS, 1).padStart(6)}`,
    );
  const first = (app: string, refused: (s: Step) => boolean) =>
    steps.find((s) => s.app === app && refused(s))?.phones ?? '-';
  for (const app of ['papgate', 'bare'])
    if (steps.some((s) => s.app === app))
      console.log(
        `${app}: first refusal at N = files ${first(app, (s) => s.filesRefused > 0)}, REGISTER ${first(app, (s) => s.registerRefused > 0)}, IVR ${first(app, (s) => s.ivrFailed > 0)}, emergency ${app === 'bare' ? '-' : first(app, (s) => s.emergencyProxied < s.emergencyOffered)}, phones not ready ${first(app, (s) => s.ok < s.phones)}`,
      );
}

void main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:storm: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);

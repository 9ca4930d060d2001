/**
 * Call capacity benchmark (`npm run bench:calls`, through bench/calls.sh, which starts
 * drachtio-server and FreeSWITCH with test/e2e/servers.sh and exports their E2E_* variables).
 * papgate (`node dist/src/main.js`, its own Redis) and the bare reference app (bench/calls-bare.ts;
 * in the register step also as the floor, with the one Redis script per REGISTER the rules ask for)
 * run one after the other against the same servers in the same run; only one app is connected to
 * drachtio-server at a time. Everything on 127.0.0.1.
 *
 *   BENCH_REGISTER_RATES     REGISTER/s offered, one 10 s step each (500,1000,...,3000)
 *   BENCH_REGISTER_SECONDS   length of a step (10)
 *   BENCH_OVERLOAD_RATE      the bare app's sustained REGISTER/s; the overload step offers twice that
 *                            to papgate with its defaults (default: the register step's, else a probe)
 *   BENCH_OVERLOAD_PROBE     REGISTER/s offered to the bare app to measure that rate (3000)
 *   BENCH_EMERGENCY_RATE     emergency calls per second during the overload step (2)
 *   BENCH_IVR_CALLS          concurrent IVR calls per step (50,100,200,400)
 *   BENCH_IVR_RATE           new calls per second while a step ramps up (50)
 *   BENCH_IVR_DIGIT_GAP_MS   time between the PAP's digits, so that all calls overlap (2600)
 *   BENCH_IVR_LIMIT          papgate's IVR_MAX_CALLS in the overload step (100; offered twice that)
 *   BENCH_ONLY               register | ivr | overload | tls (default: all)
 *   BENCH_TLS_REGISTER_RATES REGISTER/s of the TLS and UDP rows of one node client (500,1000)
 *   BENCH_TLS_CALLS          concurrent IVR calls of those rows (200)
 *   BENCH_TLS_CONNECTIONS    connections the client's phones share (20)
 *   BENCH_LOG_LEVEL          papgate's LOG_LEVEL: info (default) or debug
 *   BENCH_PAPGATE_NODE_ARGS  extra node options for papgate, e.g. --cpu-prof --cpu-prof-dir=DIR
 */
import os from 'node:os';
import { freePort } from '../src/store/embedded';
import { emergencyScenario, ivrScenario, registerScenario } from './calls-scenarios';
import { ivrCall, register, SipConnection, type Transport } from './sip-client';
import {
  auth,
  BARE_PASSWORD,
  benchFolder,
  benchStore,
  cpuMs,
  csv,
  drachtioPid,
  serverPids,
  emergencyRoute,
  type App,
  type Device,
  fmt,
  num,
  nums,
  percentile,
  ratio,
  SIP,
  sipp,
  sleep,
  startBare,
  startPapgate,
} from './sip-bench';

const env = process.env;

const REGISTER_RATES = nums('BENCH_REGISTER_RATES', '500,1000,1500,2000,2500,3000');
const REGISTER_SECONDS = num('BENCH_REGISTER_SECONDS', 10);
const OVERLOAD_RATE = num('BENCH_OVERLOAD_RATE', 0);
const OVERLOAD_PROBE = num('BENCH_OVERLOAD_PROBE', 3000);
const EMERGENCY_RATE = num('BENCH_EMERGENCY_RATE', 2);
const IVR_CALLS = nums('BENCH_IVR_CALLS', '50,100,200,400');
const IVR_RATE = num('BENCH_IVR_RATE', 50);
const DIGIT_GAP_MS = num('BENCH_IVR_DIGIT_GAP_MS', 2600);
const IVR_LIMIT = num('BENCH_IVR_LIMIT', 100);
const ONLY = env.BENCH_ONLY ?? '';
const TLS_REGISTER_RATES = nums('BENCH_TLS_REGISTER_RATES', '500,1000');
const TLS_CALLS = num('BENCH_TLS_CALLS', 200);
const TLS_CONNECTIONS = num('BENCH_TLS_CONNECTIONS', 20);

async function main(): Promise<void> {
  const tmp = benchFolder('papgate-bench-calls-');
  console.log(`bench:calls: folder ${tmp} (sipp output, papgate logs); SIP ${SIP}; ${os.cpus().length} CPUs`);
  const bench = await benchStore();
  const devices = (n: number) => bench.devices(n);
  const successful = (list: Device[]) => bench.successful(list);

  const apps = {
    papgate: (extra: Record<string, string> = {}) => startPapgate(bench.url, bench.pid, extra),
    bare: () => startBare(),
    floor: () => startBare({ url: bench.url, pid: bench.pid }),
  };

  // the bare app's sustained REGISTER/s, which the overload step offers twice to papgate
  let bareRate = OVERLOAD_RATE;
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
      const steps: Record<string, Map<number, Step>> = {
        papgate: new Map(),
        floor: new Map(),
        bare: new Map(),
      };
      for (const name of ['papgate', 'floor', 'bare'] as const) {
        // out of the box: papgate sheds only when it is behind (docs/calls.md "Overload")
        const app = await apps[name]();
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
        `\nREGISTER with digest (401 then 200), ${REGISTER_SECONDS} s per step; CPU ms per REGISTER (node + its Redis);` +
          '\nfloor: the bare app plus the one Redis script per REGISTER the rules ask for',
      );
      console.log(
        'offered/s | papgate: 200  failed  CPU (node+redis)        p99 ms | floor: 200  failed  CPU (node+redis)        p99 ms | bare: 200  failed  CPU    p99 ms | papgate/bare  papgate/floor  floor/bare',
      );
      const cols = (x: Step, width: number) =>
        `${String(x.ok).padStart(width)} ${String(x.failed).padStart(7)} ${fmt(x.cpu, 3).padStart(5)} (${fmt(x.node, 3)}+${fmt(x.redis, 3)}) ${fmt(x.p99).padStart(9)}`;
      for (const rate of REGISTER_RATES) {
        const [p, f, b] = (['papgate', 'floor', 'bare'] as const).map((n) => steps[n]!.get(rate)!) as [
          Step,
          Step,
          Step,
        ];
        console.log(
          `${String(rate).padStart(9)} | ${cols(p, 12)} | ${cols(f, 10)} | ${String(b.ok).padStart(9)} ${String(b.failed).padStart(7)} ${fmt(b.cpu, 3).padStart(5)} ${fmt(b.p99).padStart(9)} | ${ratio(p.cpu, b.cpu).padStart(12)} ${ratio(p.cpu, f.cpu).padStart(14)} ${ratio(f.cpu, b.cpu).padStart(11)}`,
        );
      }
      const pb = best('papgate');
      const bb = best('bare');
      if (bareRate === 0) bareRate = bb;
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

    // ---- TLS + SRTP beside plain UDP + RTP, one client for both ----------------------------------
    if ((ONLY === '' || ONLY === 'tls') && env.E2E_SIP_TLS) {
      const targets: Record<Transport, string> = { udp: SIP, tls: env.E2E_SIP_TLS };
      const servers = serverPids();
      const cpu = (pids: number[]) => pids.map(cpuMs);
      const used = (pids: number[], before: number[]) =>
        pids.reduce((s, pid, i) => s + cpuMs(pid) - before[i]!, 0);
      const connections = (t: Transport) =>
        Promise.all(
          Array.from({ length: TLS_CONNECTIONS }, () =>
            SipConnection.open(t, targets[t], env.E2E_TLS_CA ?? ''),
          ),
        );
      console.log(
        `\nTLS + SRTP beside UDP + RTP, one node client for both (${TLS_CONNECTIONS} connections); CPU of papgate + its Redis, drachtio-server, FreeSWITCH`,
      );
      console.log(
        `REGISTER, ${REGISTER_SECONDS} s per rate:` +
          '\noffered/s row    200  failed  p50 ms  p99 ms  CPU ms per REGISTER: papgate+redis  drachtio',
      );
      const regDevices = await devices(2000);
      for (const rate of TLS_REGISTER_RATES) {
        const reg: Partial<Record<Transport, { papgate: number; drachtio: number }>> = {};
        for (const t of ['udp', 'tls'] as const) {
          const app = await apps.papgate();
          const conns = await connections(t);
          try {
            let k = 0;
            const one = async () => {
              const d = regDevices[k++ % regDevices.length]!;
              const c = conns[k % conns.length]!;
              const started = performance.now();
              const ok = await register(c, d.mac, d.password);
              return ok ? performance.now() - started : null;
            };
            await Promise.all(Array.from({ length: 300 }, one)); // JIT, connections warm
            const before = [cpu(app.pids), cpu(servers.drachtio)];
            const total = rate * REGISTER_SECONDS;
            const runs: Promise<number | null>[] = [];
            const start = performance.now();
            while (runs.length < total) {
              const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
              while (runs.length < due) runs.push(one());
              await sleep(5);
            }
            const times = await Promise.all(runs);
            const ok = times.filter((x): x is number => x !== null).sort((a, b) => a - b);
            const per = {
              papgate: used(app.pids, before[0]!) / ok.length,
              drachtio: used(servers.drachtio, before[1]!) / ok.length,
            };
            reg[t] = per;
            console.log(
              `${String(rate).padStart(9)} ${t.padEnd(4)} ${String(ok.length).padStart(6)} ${String(total - ok.length).padStart(7)} ${fmt(percentile(ok, 50), 1).padStart(7)} ${fmt(percentile(ok, 99), 1).padStart(7)} ${fmt(per.papgate, 3).padStart(33)} ${fmt(per.drachtio, 3).padStart(9)}`,
            );
          } finally {
            for (const c of conns) c.stop();
            await app.stop();
          }
          await sleep(2000);
        }
        console.log(
          `${String(rate).padStart(9)} TLS/UDP: papgate+redis ${ratio(reg.tls?.papgate ?? null, reg.udp?.papgate ?? null)}, drachtio-server ${ratio(reg.tls?.drachtio ?? null, reg.udp?.drachtio ?? null)}`,
        );
      }
      console.log(
        `\nIVR: ${TLS_CALLS} calls at ${IVR_RATE}/s, the PAP as RFC 2833 (digits ${DIGIT_GAP_MS} ms apart) and #; SRTP over TLS, RTP over UDP:` +
          '\nrow  BYE  successful  answer p50 ms  p99 ms  CPU s: papgate+redis  drachtio  FreeSWITCH',
      );
      const ivr: Partial<Record<Transport, number[]>> = {};
      const batch = async (t: Transport, conns: SipConnection[], list: Device[]) => {
        const calls: Promise<{ outcome: string; answerMs: number | null }>[] = [];
        for (const [i, d] of list.entries()) {
          calls.push(
            ivrCall(conns[i % conns.length]!, d.mac, d.password, d.pap, {
              srtp: t === 'tls',
              gapMs: DIGIT_GAP_MS,
              byeWithinMs: 30_000 + 8 * DIGIT_GAP_MS,
            }),
          );
          await sleep(1000 / IVR_RATE);
        }
        return Promise.all(calls);
      };
      for (const t of ['udp', 'tls'] as const) {
        const warm = await devices(20);
        const list = await devices(TLS_CALLS);
        const app = await apps.papgate();
        const conns = await connections(t);
        try {
          // papgate's JIT, FreeSWITCH's first sessions and prompt files: not what the row compares
          await batch(t, conns, warm);
          const before = [cpu(app.pids), cpu(servers.drachtio), cpu(servers.freeswitch)];
          const results = await batch(t, conns, list);
          const spent = [
            used(app.pids, before[0]!),
            used(servers.drachtio, before[1]!),
            used(servers.freeswitch, before[2]!),
          ];
          ivr[t] = spent;
          const answers = results
            .map((r) => r.answerMs)
            .filter((x): x is number => x !== null)
            .sort((a, b) => a - b);
          console.log(
            `${t.padEnd(4)} ${String(results.filter((r) => r.outcome === 'bye').length).padStart(4)} ${String(await successful(list)).padStart(11)} ${fmt(percentile(answers, 50)).padStart(14)} ${fmt(percentile(answers, 99)).padStart(7)} ${fmt(spent[0]! / 1000, 1).padStart(21)} ${fmt(spent[1]! / 1000, 1).padStart(9)} ${fmt(spent[2]! / 1000, 1).padStart(11)}`,
          );
        } finally {
          for (const c of conns) c.stop();
          await app.stop();
        }
        await sleep(3000);
      }
      const r = (i: number) => ratio(ivr.tls?.[i] ?? null, ivr.udp?.[i] ?? null);
      console.log(`TLS+SRTP/UDP+RTP: papgate+redis ${r(0)}, drachtio-server ${r(1)}, FreeSWITCH ${r(2)}`);
    }

    // ---- overload ------------------------------------------------------------------------------
    if (ONLY === '' || ONLY === 'overload') {
      const regDevices = await devices(2000);
      const inf = csv(
        'overload-register.csv',
        regDevices.map((d) => auth(d.mac, d.password)),
      );
      if (bareRate === 0) {
        const bare = await apps.bare();
        try {
          const probe = await sipp(
            'overload-bare-probe',
            registerScenario(),
            csv(
              'overload-bare.csv',
              regDevices.map((d) => auth(d.mac, BARE_PASSWORD)),
            ),
            [
              '-r',
              String(OVERLOAD_PROBE),
              '-m',
              String(OVERLOAD_PROBE * REGISTER_SECONDS),
              '-l',
              String(OVERLOAD_PROBE * 10),
            ],
            REGISTER_SECONDS + 40,
          );
          bareRate = Math.round((probe.outcomes.REG ?? 0) / Math.max(REGISTER_SECONDS, probe.span));
          console.log(
            `\noverload: the bare app served ${bareRate} REGISTER/s of ${OVERLOAD_PROBE}/s offered (failed ${probe.failed}, ${fmt(probe.span, 1)} s; load average ${os.loadavg()[0]!.toFixed(1)})`,
          );
        } finally {
          await bare.stop();
        }
        await sleep(2000);
      }
      const offered = 2 * bareRate;
      // Emergency calls of phones that never registered, at a steady rate during the storm, to a
      // route on loopback that answers at once.
      const route = await emergencyRoute(tmp);
      const callers = await devices(50);
      const emergencies = EMERGENCY_RATE * REGISTER_SECONDS;
      const app = await apps.papgate({ EMERGENCY_ROUTE: `sip:127.0.0.1:${route.port}` });
      try {
        // drachtio-server's share: where the time goes when papgate's is low
        const pids = [...app.pids, ...drachtioPid()];
        const before = pids.map(cpuMs);
        const [r, e] = await Promise.all([
          sipp(
            'overload-register',
            registerScenario(),
            inf,
            ['-r', String(offered), '-m', String(offered * REGISTER_SECONDS), '-l', String(offered * 10)],
            REGISTER_SECONDS + 40,
          ),
          sipp(
            'overload-emergency',
            emergencyScenario(500),
            csv(
              'overload-emergency.csv',
              callers.map((d) => auth(d.mac, d.password)),
            ),
            ['-r', String(EMERGENCY_RATE), '-m', String(emergencies), '-l', String(emergencies)],
            REGISTER_SECONDS + 40,
            '112',
          ),
        ]);
        const used = pids.map((pid, i) => (cpuMs(pid) - before[i]!) / 1000);
        const ok = r.outcomes.REG ?? 0;
        console.log(
          `\noverload: REGISTER offered at ${offered}/s, twice the bare app's ${bareRate}/s, to papgate with its defaults, ${REGISTER_SECONDS} s; load average ${os.loadavg()[0]!.toFixed(1)}`,
        );
        console.log(
          `  served ${ok} (${fmt(ok / Math.max(REGISTER_SECONDS, r.span))}/s, p50 ${fmt(percentile(r.served, 50))} ms, p99 ${fmt(percentile(r.served, 99))} ms); shed with 503 ${r.outcomes.SHED ?? 0} (p50 ${fmt(percentile(r.shed, 50))} ms, p99 ${fmt(percentile(r.shed, 99))} ms); failed ${r.failed}; ${fmt(r.span, 1)} s; CPU s node ${fmt(used[0]!, 1)}, redis ${fmt(used[1]!, 1)}, drachtio-server ${fmt(used[2] ?? null, 1)}`,
        );
        console.log(
          `  emergency calls at ${EMERGENCY_RATE}/s: ${emergencies} placed, ${e.outcomes.CALL ?? 0} answered by the route, shed ${e.outcomes.SHED ?? 0}, failed ${e.failed}; authenticated INVITE to the route's 200 p50 ${fmt(percentile(e.answer, 50))} ms, p99 ${fmt(percentile(e.answer, 99))} ms`,
        );
      } finally {
        await app.stop();
        await route.stop();
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
    await bench.close();
  }
}

void main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:calls: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);

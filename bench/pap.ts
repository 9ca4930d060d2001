/**
 * The PAP check as the IVR makes it (Store.attemptPap with a caller source), without HTTP:
 * BENCH_CONNECTIONS calls in flight for BENCH_DURATION against the Redis of bench/server.ts
 * (REDIS_URL), wrong PAPs spread over its bench-pap devices. Prints one JSON line:
 * {"requests", "rps", "p50", "p99" (ms), "outcomes"}.
 */
import pino from 'pino';
import { loadConfig } from '../src/config';
import { connectRedis } from '../src/store/connect';
import { Store } from '../src/store/store';
import { BENCH_ENV, PAP_DEVICES, papDeviceMac } from './pap-devices';

function seconds(s: string): number {
  const m = /^([0-9]+)s?$/.exec(s);
  if (!m) throw new Error(`BENCH_DURATION: expected seconds like 10s, got "${s}"`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is required');
  const duration = seconds(process.env.BENCH_DURATION ?? '10s') * 1000;
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
  const config = loadConfig({
    PROVISIONING_BASE_URL: 'http://127.0.0.1:8081',
    SIP_REGISTRAR: '127.0.0.1:5060',
    ...BENCH_ENV,
  });
  const client = await connectRedis(url, pino({ level: 'silent' }));
  const store = new Store(client, { auth: config.auth, eventsMaxLen: config.eventsMaxLen });
  const macs = Array.from({ length: PAP_DEVICES }, (_, i) => papDeviceMac(i));
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let next = 0;
  const start = performance.now();
  const end = start + duration;
  const worker = async (w: number) => {
    while (performance.now() < end) {
      const mac = macs[next++ % macs.length]!;
      const t = performance.now();
      const r = await store.attemptPap(mac, '000000', null, `ivr:bench-${w}`, 'ivr', {
        source: 'sip:127.0.0.1',
      });
      latencies.push(performance.now() - t);
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  process.stdout.write(
    `${JSON.stringify({
      requests: latencies.length,
      rps: Math.round(latencies.length / elapsed),
      p50: at(0.5),
      p99: at(0.99),
      outcomes,
    })}\n`,
  );
  await client.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench pap: ${(err as Error).message}\n`);
  process.exit(1);
});

/**
 * The floor app of the provisioning benchmark (bench/provisioning.sh, docs/benchmarks.md): a bare
 * `node:http` server that does, per request, only what no process serving a full configuration can
 * skip: it runs the one script papgate's full path runs (provision.lua: read the device, extend the
 * whitelist entry, note the answer), through the same Redis client, with the keys and arguments
 * papgate sent for the same request (bench/server.ts captures them), and answers the bytes papgate
 * answered, from memory. No routing, no parsing, no decision, no rendering: what papgate spends
 * beyond this is its own.
 * Env: REDIS_URL; BENCH_FLOOR, a JSON file of FloorTarget. Prints {"port":...} when ready.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { connectRedis } from '../src/store/connect';
import { scripts } from '../src/store/scripts';

/** One request papgate answered with a full configuration, as the floor app replays it. */
export interface FloorTarget {
  readonly path: string;
  readonly keys: string[];
  readonly args: string[];
  /** Where `args` holds the request's time (ms): the floor app puts its own there. */
  readonly nowIndex: number;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

async function main(): Promise<void> {
  const url = process.env.REDIS_URL;
  const spec = process.env.BENCH_FLOOR;
  if (!url || !spec) throw new Error('REDIS_URL and BENCH_FLOOR are needed');
  const targets = new Map<string, FloorTarget & { bytes: Buffer }>();
  for (const t of JSON.parse(fs.readFileSync(spec, 'utf8')) as FloorTarget[])
    targets.set(t.path, { ...t, bytes: Buffer.from(t.body) });
  const redis = await connectRedis(url, pino({ level: 'silent' }));

  const server = http.createServer((req, res) => {
    const t = targets.get(req.url ?? '');
    if (t === undefined) {
      res.writeHead(404).end();
      return;
    }
    const args = t.args.slice();
    args[t.nowIndex] = String(Date.now());
    scripts.provision.run(redis, t.keys, args).then(
      (r) => {
        // The device is served only as papgate served it: anything else is a broken benchmark.
        if (!Array.isArray(r) || r[0] !== 'full') {
          res.writeHead(500).end(`provision.lua answered ${JSON.stringify(r)}`);
          return;
        }
        res.writeHead(t.status, t.headers).end(t.bytes);
      },
      (err: unknown) => res.writeHead(503).end((err as Error).message),
    );
  });
  server.keepAliveTimeout = 5_000;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void redis.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench floor: ${(err as Error).message}\n`);
  process.exit(1);
});

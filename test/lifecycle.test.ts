/**
 * The service as `npm start` runs it, under SIGTERM and during a Redis outage: requests in flight
 * finish, late ones get the documented 503, shutdown is bounded, and an outage is logged once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectRedis } from '../src/store/connect';
import { freePort, startEmbeddedRedis } from '../src/store/embedded';
import { request } from './support/http';
import { seedDevice, silentLog, TestRedis } from './support/redis';
import {
  exited,
  killServices,
  startService,
  storeReady,
  until,
  type RunningService,
} from './support/service';

const TOKEN = 'lifecycle-test-token-0123456789';
const MAC = '001565aabbcc';
const UA = 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc';
const GET = `GET /${MAC}.cfg HTTP/1.1\r\nHost: p\r\nUser-Agent: ${UA}\r\n\r\n`;

async function ports(): Promise<{ admin: number; prov: number }> {
  return { admin: await freePort(), prov: await freePort() };
}

function env(redisUrl: string, p: { admin: number; prov: number }, extra: Record<string, string> = {}) {
  return {
    REDIS_URL: redisUrl,
    ADMIN_TOKEN: TOKEN,
    ADMIN_PORT: String(p.admin),
    PROVISIONING_HOST: '127.0.0.1',
    PROVISIONING_PORT: String(p.prov),
    ...extra,
  };
}

const listening = (svc: RunningService) =>
  until('the service to listen', () =>
    svc.lines().some((l) => l.msg === 'provisioning server listening') ? true : undefined,
  );

/**
 * Listening and connected to its store (/readyz): a test that pauses Redis before the connection is
 * up (a busy CI host) gets 503s of a store not there yet, not the requests in flight it looks at.
 */
const ready = async (svc: RunningService, adminPort: number) => {
  await listening(svc);
  await storeReady(adminPort);
};

/** One connection carrying the requests written to it, one after the other; resolves on close. */
function connection(port: number): { write: (s: string) => void; closed: Promise<string> } {
  const s = net.connect({ host: '127.0.0.1', port });
  let reply = '';
  s.on('data', (d) => (reply += d.toString()));
  return {
    write: (data) => s.write(data),
    closed: new Promise((resolve) => s.on('close', () => resolve(reply))),
  };
}

describe('service lifecycle: SIGTERM', () => {
  const r = new TestRedis();
  before(async () => {
    await r.start();
    const store = r.store();
    await seedDevice(store, MAC);
  });
  after(async () => {
    killServices();
    await r.stop();
  });

  const pause = async (ms: number) => {
    const c = await connectRedis(r.server.url, silentLog);
    await c.sendCommand(['CLIENT', 'PAUSE', String(ms), 'ALL']);
    c.destroy();
  };

  it('lets provisioning requests in flight finish, and answers a later request on the same connection 503', async () => {
    const p = await ports();
    const svc = startService(
      env(r.server.url, p, { SHUTDOWN_GRACE_SECONDS: '10', STORE_TIMEOUT_MS: '10000' }),
    );
    await ready(svc, p.admin);
    await pause(1500);
    const inFlight = Array.from({ length: 5 }, () => connection(p.prov));
    for (const c of inFlight) c.write(GET);
    await new Promise((resolve) => setTimeout(resolve, 300));
    svc.child.kill('SIGTERM');
    await until('shutdown to begin', () =>
      svc.lines().some((l) => String(l.msg).startsWith('shutting down')) ? true : undefined,
    );
    // A request that arrives once shutdown has begun, behind one still in flight.
    inFlight[0]!.write(GET);
    const replies = await Promise.all(inFlight.map((c) => c.closed));
    for (const reply of replies)
      assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/, `in-flight request cut: "${reply}"`);
    assert.match(replies[0]!, /HTTP\/1\.1 503 Service Unavailable\r\n(.*\r\n)*retry-after: 5\r\n/i);
    assert.equal(await exited(svc.child), 0);
  });

  it('ends within the grace period when a request cannot finish', async () => {
    const p = await ports();
    const svc = startService(
      env(r.server.url, p, { SHUTDOWN_GRACE_SECONDS: '1', STORE_TIMEOUT_MS: '30000' }),
    );
    await ready(svc, p.admin);
    await pause(8000);
    const stuck = connection(p.prov);
    stuck.write(GET);
    await new Promise((resolve) => setTimeout(resolve, 300));
    svc.child.kill('SIGTERM');
    // Bounded by the grace (1 s), not by the pause (8 s): the mocha timeout is below the pause.
    assert.equal(await exited(svc.child), 0);
    assert.equal(await stuck.closed, '', JSON.stringify(svc.lines()));
  }).timeout(6000);
});

describe('service lifecycle: a Redis outage', () => {
  after(() => killServices());

  it('logs the outage once when it starts and once when it ends, not per refused request', async () => {
    const redisPort = await freePort();
    const p = await ports();
    const svc = startService(
      env(`redis://127.0.0.1:${redisPort}`, p, { STORE_OUTAGE_LOG_INTERVAL_SECONDS: '600' }),
    );
    await listening(svc);
    for (let i = 0; i < 200; i++) {
      const res = await request(p.prov, `/${MAC}.cfg`, { headers: { 'user-agent': UA } });
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '5');
    }
    const admin = await request(p.admin, '/api/v1/tenants/acme', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(admin.status, 503);
    // The store comes back on the port the service was given.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-outage-'));
    const redis = await startEmbeddedRedis({ bin: 'redis-server', dir, persistent: false, port: redisPort });
    try {
      await until('the service to use Redis again', async () => {
        const res = await request(p.admin, '/api/v1/tenants/acme', {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return res.status === 404 ? true : undefined;
      });
      // each connection (the phones', the admin API's) logs its own outage
      const redisLines = (connection: string) =>
        svc.lines().filter((l) => /redis/i.test(String(l.msg)) && l.redis === connection);
      for (const c of ['phones', 'admin'])
        assert.deepEqual(
          redisLines(c).map((l) => l.msg),
          ['redis unavailable: refusing requests until it is back', 'redis available again'],
          JSON.stringify(svc.lines()),
        );
      assert.ok(Number(redisLines('phones')[1]!.failures) >= 200, JSON.stringify(redisLines('phones')[1]));
      assert.ok(Number(redisLines('admin')[1]!.failures) >= 1, JSON.stringify(redisLines('admin')[1]));
    } finally {
      svc.child.kill('SIGTERM');
      await exited(svc.child);
      await redis.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('service lifecycle: Redis loading its data at start', () => {
  after(() => killServices());

  it('logs the loading at info, not as an outage (no error line), and serves once it is loaded', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-loading-'));
    const port = await freePort();
    // A data file that takes seconds to read (key-load-delay: µs per key), as a large store does.
    const first = await startEmbeddedRedis({ bin: 'redis-server', dir, persistent: false, port });
    const c = await connectRedis(first.url, silentLog);
    for (let i = 0; i < 20; i++) {
      const args = ['MSET'];
      for (let k = 0; k < 1000; k++) args.push(`filler:${i}:${k}`, 'x');
      await c.sendCommand(args);
    }
    await c.sendCommand(['SAVE']);
    await c.quit();
    await first.stop();
    const loading = await startEmbeddedRedis({
      bin: 'redis-server',
      dir,
      persistent: false,
      port,
      extraArgs: ['--key-load-delay', '200', '--loading-process-events-interval-bytes', '1024'],
    });
    const p = await ports();
    const svc = startService(env(loading.url, p));
    try {
      await listening(svc);
      await until(
        'the service to answer from the loaded store',
        async () => {
          const res = await request(p.admin, '/api/v1/tenants/acme', {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          return res.status === 404 ? true : undefined;
        },
        60_000,
      );
      const redisLines = svc.lines().filter((l) => /redis/i.test(String(l.msg)) && l.redis !== undefined);
      assert.ok(
        redisLines.some((l) => /^redis loading its data/.test(String(l.msg)) && l.level === 30),
        `the loading was seen and logged at info: ${JSON.stringify(redisLines)}`,
      );
      assert.deepEqual(
        svc.lines().filter((l) => Number(l.level) >= 50),
        [],
        'no error-level line for a store that is loading',
      );
    } finally {
      svc.child.kill('SIGTERM');
      await exited(svc.child);
      await loading.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

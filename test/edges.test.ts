/**
 * Both HTTP edges as an attacker and an outage would try them: the admin token on every route
 * whatever the path encoding, half-sent requests, CONNECT, and a Redis that is loading its data
 * or not answering.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import { ClientOfflineError, ErrorReply } from 'redis';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { createProvisioningServer } from '../src/provisioning/server';
import { connectRedis, OutageLog, type RedisClient } from '../src/store/connect';
import { freePort } from '../src/store/embedded';
import { Store } from '../src/store/store';
import { request } from './support/http';
import { snapshot, writingBodies } from './support/sweep';
import { FAST_POLICY, seedDevice, silentLog, TestRedis } from './support/redis';

const TOKEN = 'edge-test-admin-token-0123456789';
const MAC = '001565aabbcc';
const UA = 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc';
const CONFIG = loadConfig({
  ADMIN_TOKEN: TOKEN,
  HTTP_HEADERS_TIMEOUT_SECONDS: '1',
  HTTP_REQUEST_TIMEOUT_SECONDS: '1',
  PROVISIONING_MISS_LIMIT: '1000',
});

/** Writes raw bytes and resolves with whatever comes back once the server closes (or `waitMs`). */
function raw(port: number, data: string, waitMs = 10_000): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve({ reply, closed: false });
    }, waitMs);
    s.on('data', (d) => (reply += d.toString()));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(t);
      resolve({ reply, closed: true });
    });
    s.write(data);
  });
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

describe('edges: admin token bound to every API route', () => {
  const r = new TestRedis();
  let app: FastifyInstance;
  let port = 0;
  before(async () => {
    await r.start();
    app = createAdminServer({ config: CONFIG, store: r.store(), log: silentLog, adminToken: TOKEN });
    port = await listen(app);
    const store = r.store();
    await seedDevice(store, MAC);
  });
  after(async () => {
    await app.close();
    await r.stop();
  });

  const BODIES = writingBodies(MAC);

  /** The ways a path can be spelled that a router may still match. */
  function spellings(p: string): string[] {
    const segs = p.split('/').slice(1);
    const out = new Set<string>([p, `${p}?`, `${p}?x=1`, p.replace('/api/', '//api/')]);
    segs.forEach((seg, i) => {
      const at = (s: string) => `/${[...segs.slice(0, i), s, ...segs.slice(i + 1)].join('/')}`;
      const c = /[A-Za-z]/.exec(seg);
      if (c) {
        const hex = c[0].charCodeAt(0).toString(16);
        out.add(at(seg.replace(c[0], `%${hex}`)));
        out.add(at(seg.replace(c[0], `%${hex.toUpperCase()}`)));
      }
      out.add(at(`${seg};x=1`));
      out.add(at(`./${seg}`));
      out.add(`/${[...segs.slice(0, i), '', ...segs.slice(i)].join('/')}`);
    });
    return [...out];
  }

  it('answers 401 or 404 to every route of /openapi.json, however the path is spelled, and writes nothing', async () => {
    const doc = JSON.parse((await request(port, '/openapi.json')).body) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const before = await snapshot(r.client);
    let tried = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      if (!template.startsWith('/api/')) continue; // the document itself is public
      const p = template
        .replace('{tenant}', 'acme')
        .replace('{mac}', MAC)
        .replace('{entry}', '198.51.100.7')
        .replace('{site}', 'HQ');
      for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
        const b = BODIES[`${method} ${template}`];
        for (const spelled of spellings(p)) {
          const res = await request(port, spelled, {
            method,
            ...(b ? { headers: { 'content-type': b.type }, body: b.body } : {}),
          });
          tried++;
          assert.ok(
            res.status === 401 || res.status === 404,
            `${method} ${spelled} without a token answered ${res.status}: ${res.body.slice(0, 200)}`,
          );
        }
      }
    }
    assert.ok(tried > 200, `only ${tried} requests tried`);
    assert.equal(await snapshot(r.client), before, 'a refused request wrote to Redis');
  });

  it('refuses event ids Redis cannot take as a range end with 400, not 500', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (const before of [
      '0-0',
      '18446744073709551616-0',
      '0-18446744073709551616',
      '99999999999999999999999-1',
    ]) {
      const res = await request(port, `/api/v1/tenants/acme/events?before=${before}`, { headers: auth });
      assert.equal(res.status, 400, `before=${before}: ${res.status} ${res.body}`);
      assert.equal(JSON.parse(res.body).field, 'before');
    }
    const ok = await request(
      port,
      '/api/v1/tenants/acme/events?before=18446744073709551615-18446744073709551615',
      {
        headers: auth,
      },
    );
    assert.equal(ok.status, 200);
  });
  it('refuses, without writing, a CSV cell with text after its closing quote and a HEAD of the export', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const before = await snapshot(r.client);
    const csv = await request(port, '/api/v1/tenants/acme/devices.csv', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: 'vendor,type,mac,site\r\nyealink,"T54W"x,001565000003,HQ\r\n',
    });
    assert.equal(csv.status, 400, csv.body);
    assert.match(JSON.stringify(JSON.parse(csv.body).rows), /text after the closing quote/);
    const head = await request(port, '/api/v1/tenants/acme/devices.csv', { method: 'HEAD', headers: auth });
    assert.equal(head.status, 404);
    assert.equal(await snapshot(r.client), before);
  });
});

describe('edges: slow and odd clients', () => {
  const r = new TestRedis();
  let admin: FastifyInstance;
  let prov: FastifyInstance;
  const ports = { admin: 0, prov: 0 };
  before(async () => {
    await r.start();
    admin = createAdminServer({ config: CONFIG, store: r.store(), log: silentLog, adminToken: TOKEN });
    prov = createProvisioningServer({ config: CONFIG, store: r.store(), log: silentLog });
    ports.admin = await listen(admin);
    ports.prov = await listen(prov);
  });
  after(async () => {
    await Promise.all([admin.close(), prov.close()]);
    await r.stop();
  });

  for (const edge of ['admin', 'prov'] as const) {
    it(`${edge}: closes a connection whose headers never finish (HTTP_HEADERS_TIMEOUT_SECONDS)`, async () => {
      const { closed, reply } = await raw(ports[edge], 'GET /x HTTP/1.1\r\nHost: a\r\nX-Slow: ');
      assert.ok(closed, 'the half-sent request was still open after 10 s');
      assert.match(reply, /^(HTTP\/1\.1 408|$)/);
    });

    it(`${edge}: answers CONNECT with 405 in its own error format`, async () => {
      const { reply } = await raw(
        ports[edge],
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      );
      assert.match(reply, /^HTTP\/1\.1 405 /);
      assert.match(reply, edge === 'admin' ? /"error":"method_not_allowed"/ : /Method Not Allowed$/);
    });

    it(`${edge}: closes a CONNECT whose client goes on sending (found by the fuzz suite, seed 393768492)`, async () => {
      const { reply, closed } = await raw(
        ports[edge],
        `CONNECT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 614352\r\n\r\n${'x'.repeat(300_000)}`,
      );
      assert.match(reply, /^HTTP\/1\.1 405 /);
      assert.ok(closed, 'the tunnelled socket was still open after 10 s');
    });
  }

  it('admin: closes a request whose body never arrives in full (HTTP_REQUEST_TIMEOUT_SECONDS)', async () => {
    const { closed, reply } = await raw(
      ports.admin,
      `PUT /api/v1/tenants/slow HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name"',
    );
    assert.ok(closed, 'the request with a short body was still open after 10 s');
    assert.match(reply, /^(HTTP\/1\.1 408|$)/);
    assert.equal(await r.client.exists('t:{slow}:info'), 0);
  });
});

/** A redis-server the test restarts itself, so that it is still loading while requests arrive. */
class LoadingRedis {
  port = 0;
  dir = '';
  child: ChildProcess | null = null;

  async start(extra: string[] = []): Promise<void> {
    this.dir ||= fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-loading-'));
    this.port ||= await freePort();
    // key-load-delay (µs per key) makes loading last long enough to be seen.
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir, '--save', ''];
    this.child = spawn('redis-server', [...args, ...extra], { stdio: 'ignore' });
    for (;;) {
      const { reply } = await raw(this.port, 'PING\r\n', 200).catch(() => ({ reply: '' }));
      if (reply !== '') return;
    }
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    await new Promise((resolve) => {
      c.once('exit', resolve);
      c.kill('SIGTERM');
    });
  }
}

describe('edges: Redis loading its data or not answering', () => {
  const redis = new LoadingRedis();
  let client: RedisClient;
  let admin: FastifyInstance;
  let prov: FastifyInstance;
  const ports = { admin: 0, prov: 0 };
  const logLines: string[] = [];

  before(async () => {
    await redis.start();
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          logLines.push(chunk.toString());
          cb();
        },
      }),
    );
    client = await connectRedis(`redis://127.0.0.1:${redis.port}`, log, {
      commandTimeoutMs: 300,
      outageLogIntervalMs: 60_000,
    });
    const store = new Store(client, { auth: FAST_POLICY, eventsMaxLen: 1000 });
    admin = createAdminServer({ config: CONFIG, store, log: silentLog, adminToken: TOKEN });
    prov = createProvisioningServer({ config: CONFIG, store, log: silentLog });
    ports.admin = await listen(admin);
    ports.prov = await listen(prov);
    await seedDevice(store, MAC);
  });
  after(async () => {
    await Promise.all([admin.close(), prov.close()]);
    client.destroy();
    await redis.stop();
    fs.rmSync(redis.dir, { recursive: true, force: true });
  });

  const asks = {
    admin: () =>
      request(ports.admin, '/api/v1/tenants/acme', { headers: { authorization: `Bearer ${TOKEN}` } }),
    prov: () => request(ports.prov, `/${MAC}.cfg`, { headers: { 'user-agent': UA } }),
  };

  const assert503 = (
    edge: string,
    res: { status: number; headers: Record<string, unknown>; body: string },
  ) => {
    assert.equal(res.status, 503, `${edge}: ${res.status} ${res.body.slice(0, 200)}`);
    assert.ok(Number(res.headers['retry-after']) > 0, `${edge}: no Retry-After`);
    if (edge === 'admin') assert.equal(JSON.parse(res.body).error, 'store_unavailable');
  };

  // First: the outage log of this client has written nothing yet, so its first line is not rate-limited.
  it('answers 503 when Redis does not answer within the store timeout (CLIENT PAUSE), and logs the outage once', async () => {
    const other = await connectRedis(`redis://127.0.0.1:${redis.port}`, silentLog);
    await other.sendCommand(['CLIENT', 'PAUSE', '4000', 'ALL']);
    try {
      for (let i = 0; i < 3; i++) {
        assert503('admin', await asks.admin());
        assert503('prov', await asks.prov());
      }
    } finally {
      await other.sendCommand(['CLIENT', 'UNPAUSE']).catch(() => undefined);
      other.destroy();
    }
    assert.equal((await asks.admin()).status, 200);
    const outage = logLines.filter((l) => /redis (unavailable|still unavailable|available again)/.test(l));
    assert.equal(outage.length, 2, outage.join(''));
    assert.match(outage[0]!, /"failures":1\b/);
    // At least one failed command per refused request (provisioning reads two at once).
    assert.match(outage[1]!, /available again/);
    assert.ok(JSON.parse(outage[1]!).failures >= 6, outage[1]);
  });

  it('answers 503 with Retry-After on both edges while Redis answers LOADING, then serves again', async () => {
    // Enough keys that loading them one by one, slowed down, spans many requests.
    for (let i = 0; i < 20; i++) {
      const args = ['MSET'];
      for (let k = 0; k < 1000; k++) args.push(`filler:${i}:${k}`, 'x');
      await client.sendCommand(args);
    }
    await client.sendCommand(['SAVE']);
    await redis.stop();
    await redis.start(['--key-load-delay', '200', '--loading-process-events-interval-bytes', '1024']);
    while (!client.isReady) await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(client.ping(), /^LOADING|LOADING/);
    const seen = { admin: [] as number[], prov: [] as number[] };
    for (;;) {
      const a = await asks.admin();
      const p = await asks.prov();
      seen.admin.push(a.status);
      seen.prov.push(p.status);
      if (a.status === 200 && p.status === 200) break;
      if (a.status !== 200) assert503('admin', a);
      if (p.status !== 200) assert503('prov', p);
    }
    assert.ok(
      seen.admin.includes(503) && seen.prov.includes(503),
      `never saw LOADING: ${JSON.stringify(seen)}`,
    );
  });
});

describe('store outage log', () => {
  it('writes one line at the start, at most one per interval while it lasts, and one at the end', () => {
    const lines: { level: number; msg: string; failures: number }[] = [];
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          lines.push(JSON.parse(chunk.toString()));
          cb();
        },
      }),
    );
    let t = 0;
    const o = new OutageLog(log, 10_000, () => t);
    for (; t < 25_000; t += 10) o.failed(new Error('ECONNREFUSED'));
    o.recovered();
    o.recovered();
    assert.deepEqual(
      lines.map((l) => [l.msg.split(':')[0], l.failures]),
      [
        ['redis unavailable', 1],
        ['redis still unavailable', 1001],
        ['redis still unavailable', 2001],
        ['redis available again', 2500],
      ],
    );
    // A store flapping right after that: no line until the interval has passed.
    t += 10;
    o.failed(new Error('LOADING'));
    o.recovered();
    assert.equal(lines.length, 4);
  });
  it('logs a store loading its data at info, an outage after it at error at once, and nothing for a start', () => {
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    let t = 0;
    const o = new OutageLog(log, 10_000, () => t);
    // Commands sent while the first connection is still being made: not an outage.
    o.failed(new ClientOfflineError());
    assert.equal(lines.length, 0);
    for (; t < 100; t += 10) o.failed(new ErrorReply('LOADING Redis is loading the dataset in memory'));
    o.failed(new Error('ECONNREFUSED'));
    o.recovered();
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [
        [30, 'redis loading its data: refusing requests until it is done'],
        [50, 'redis unavailable: refusing requests until it is back'],
        [30, 'redis available again'],
      ],
    );
  });
});

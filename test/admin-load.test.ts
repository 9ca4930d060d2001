/**
 * One tenant's token reading its whole tenant, many times at once, must not delay other tenants'
 * phones: the service process as `npm start` runs it (main.js, its embedded redis-server), a tenant
 * of 10,000 devices, 24 device lists at once with its token, while provisioning GETs of another
 * tenant's device are timed (the shape of csv-bomb.test.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectRedis, UNIX_URL_PREFIX } from '../src/store/connect';
import { freePort, isRedisServerIn } from '../src/store/embedded';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { parseNewDevice } from '../src/domain/device';
import { KeptAlivePhone, request } from './support/http';
import { silentLog, TestRedis } from './support/redis';
import { killServices, startService, storeReady, until, type RunningService } from './support/service';

const TOKEN = 'admin-load-operator-token';
const DEVICES = 10_000;
const LISTS = 24;
const PHONE = '001565aabbcc';

describe('admin load: a tenant reading its 10,000 devices 24 times at once', function () {
  this.timeout(180_000);
  let dataDir = '';
  let service: RunningService;
  let adminPort = 0;
  let provPort = 0;
  let tenantToken = '';

  const admin = async (method: string, route: string, body?: string, type = 'application/json') => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': type }) },
      body,
    });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${route}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-admin-load-'));
    [adminPort, provPort] = [await freePort(), await freePort()];
    service = startService({
      DATA_DIR: dataDir,
      ADMIN_TOKEN: TOKEN,
      ADMIN_PORT: String(adminPort),
      PROVISIONING_PORT: String(provPort),
    });
    await until('provisioning listening', () =>
      service.lines().find((l) => l.msg === 'provisioning server listening'),
    );
    await storeReady(adminPort);
    await admin('PUT', '/tenants/big', '{}');
    await admin('PUT', '/tenants/other', '{}');
    await admin(
      'POST',
      '/tenants/other/devices',
      JSON.stringify({ mac: PHONE, vendor: 'yealink', model: 'T54W', site: 'HQ' }),
    );
    const rows = Array.from(
      { length: DEVICES },
      (_, i) => `yealink,T54W,02fd${i.toString(16).padStart(8, '0')},Site ${i % 40}`,
    );
    await admin('POST', '/tenants/big/devices.csv', `vendor,type,mac,site\n${rows.join('\n')}\n`, 'text/csv');
    tenantToken = String((await admin('POST', '/tenants/big/tokens', '{"name":"drill"}')).token);
  });
  after(() => {
    killServices();
    const redisDir = path.join(dataDir, 'redis');
    for (const pid of fs
      .readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number))
      if (isRedisServerIn(pid, redisDir)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const phone = new KeptAlivePhone();
  after(() => phone.destroy());

  const list = async () => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1/tenants/big/devices?limit=1`, {
      headers: { authorization: `Bearer ${tenantToken}` },
    });
    const body = (await res.json()) as { total?: number; devices?: unknown[]; error?: string };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
  };

  // How long provisioning answers take meanwhile is printed, not asserted (a timer in a test fails
  // on a busy machine, not on a stall): the benchmarks measure speed. What is asserted is that the
  // phone was answered again and again while the reads ran, by its own connection to the store.
  it("keeps answering other tenants' provisioning and the store available", async () => {
    const t0 = performance.now();
    const {
      result: lists,
      statuses,
      worstMs: worst,
    } = await phone.during(provPort, `/${PHONE}.cfg`, () => Promise.all(Array.from({ length: LISTS }, list)));
    const listMs = performance.now() - t0;
    const byStatus = lists.reduce<Record<number, number>>(
      (n, l) => ((n[l.status] = (n[l.status] ?? 0) + 1), n),
      {},
    );
    console.log(
      `      ${LISTS} lists in ${Math.round(listMs)} ms (${JSON.stringify(byStatus)}); ` +
        `${statuses.length} provisioning GETs, the slowest ${Math.round(worst)} ms`,
    );
    const unavailable = service.lines().filter((l) => String(l.msg).startsWith('redis unavailable'));
    assert.deepEqual(unavailable, [], 'no store outage logged');
    assert.ok(statuses.length > 1, `provisioning was timed ${statuses.length} time(s)`);
    assert.deepEqual(new Set(statuses), new Set([200]), `provisioning answered ${statuses}`);
    for (const l of lists) {
      if (l.status === 200) {
        assert.equal(l.body.total, DEVICES);
        assert.equal(l.body.devices?.length, 1);
      } else {
        // the tenant's own reads beyond its share wait, then are told when to come back
        assert.equal(l.status, 429, JSON.stringify(l.body));
        assert.ok(Number(l.retryAfter) >= 1);
      }
    }
    assert.ok(byStatus[200]! >= 1, 'some lists were answered');
  });

  it('talks to Redis over two connections: one for the phones, one for the admin API', async () => {
    const { socket } = service
      .lines()
      .find((l) => String(l.msg).startsWith('started embedded redis-server'))!;
    const redis = await connectRedis(`${UNIX_URL_PREFIX}${String(socket)}`, silentLog);
    try {
      const self = await redis.clientId();
      const others = (await redis.clientList()).filter((c) => c.id !== self);
      assert.equal(others.length, 2, JSON.stringify(others));
    } finally {
      await redis.close();
    }
  });
});

describe('admin load: reads of one tenant beyond its share', () => {
  const redis = new TestRedis();
  let app: FastifyInstance;
  let port = 0;

  before(async function () {
    this.timeout(60_000);
    await redis.start();
    const store = redis.store();
    for (const [tenant, n] of [
      ['big', 2000],
      ['small', 1],
    ] as const) {
      await store.putTenant(tenant, { name: tenant, language: null }, 'test');
      const macs = Array.from(
        { length: n },
        (_, i) => `02fd${tenant === 'big' ? '00' : '01'}${i.toString(16).padStart(6, '0')}`,
      );
      const res = await store.createDevices(
        tenant,
        macs.map((mac) => parseNewDevice({ mac, vendor: 'yealink', model: 'T54W', site: 'HQ' })),
        'test',
      );
      assert.ok(res !== 'unknown_tenant' && res.ok);
    }
    // one read at a time, and no waiting: a second read of the tenant is refused at once
    const config = loadConfig({ ADMIN_TOKEN: TOKEN, TENANT_READS: '1', TENANT_READ_WAIT_MS: '0' });
    app = createAdminServer({ config, store, log: silentLog, adminToken: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    await app.close();
    await redis.stop();
  });

  const get = (route: string) =>
    request(port, `/api/v1/tenants/${route}`, { headers: { authorization: `Bearer ${TOKEN}` } });

  it('answers 429 tenant_busy with Retry-After; other tenants are not held up', async () => {
    const answers = await Promise.all([
      ...Array.from({ length: 3 }, () => get('big/devices?limit=1')),
      get('big/devices.csv'),
      get('big/events?mac=02fd00000001'),
      get('small/devices'),
    ]);
    const small = answers.pop()!;
    assert.equal(small.status, 200);
    // which of them arrives first is up to the network stack
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.includes(200), `a read of the tenant runs: ${statuses}`);
    assert.ok(statuses.includes(429), `reads beyond its share are refused: ${statuses}`);
    for (const a of answers.filter((x) => x.status !== 200)) {
      assert.equal(a.status, 429, a.body);
      assert.equal(JSON.parse(a.body).error, 'tenant_busy');
      assert.equal(a.headers['retry-after'], '1');
    }
    // the shares were given back
    assert.equal((await get('big/devices?limit=1')).status, 200);
    assert.equal((await get('big/devices.csv')).status, 200);
  });
});

describe('admin load: additions of one tenant beyond its share', () => {
  const redis = new TestRedis();
  let app: FastifyInstance;
  let port = 0;

  before(async function () {
    this.timeout(60_000);
    await redis.start();
    const store = redis.store();
    for (const tenant of ['big', 'small'])
      await store.putTenant(tenant, { name: tenant, language: null }, 'test');
    // one addition of a tenant at a time, and no waiting: one more is refused at once
    const config = loadConfig({ ADMIN_TOKEN: TOKEN, TENANT_ADDITIONS: '1', TENANT_ADDITION_WAIT_MS: '0' });
    app = createAdminServer({ config, store, log: silentLog, adminToken: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  after(async () => {
    await app.close();
    await redis.stop();
  });

  const post = (route: string, body: string, type = 'application/json') =>
    request(port, `/api/v1/tenants/${route}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
      body,
    });
  const csv = (batch: number, rows: number) =>
    [
      'vendor,type,mac,site',
      ...Array.from(
        { length: rows },
        (_, i) => `yealink,T54W,02fd${batch.toString(16).padStart(2, '0')}${i.toString(16).padStart(6, '0')}`,
      ).map((row) => `${row},HQ`),
    ].join('\n');
  const device = (mac: string) => JSON.stringify({ mac, vendor: 'yealink', model: 'T54W', site: 'HQ' });

  it('answers 429 tenant_busy with Retry-After; other tenants are not held up behind them', async () => {
    const answers = await Promise.all([
      ...[1, 2, 3].map((batch) => post('big/devices.csv', csv(batch, 2000), 'text/csv')),
      post('big/devices', device('02fd0a000001')),
      post('small/devices', device('02fd0b000001')),
    ]);
    const small = answers.pop()!;
    assert.equal(small.status, 201, small.body);
    const statuses = answers.map((a) => a.status);
    assert.ok(statuses.includes(201), `an addition of the tenant runs: ${statuses}`);
    assert.ok(statuses.includes(429), `additions beyond its share are refused: ${statuses}`);
    for (const a of answers.filter((x) => x.status === 429)) {
      assert.equal(JSON.parse(a.body).error, 'tenant_busy');
      assert.match(JSON.parse(a.body).message, /too many device additions of this tenant at once/);
      assert.equal(a.headers['retry-after'], '1');
    }
    // a refused import added nothing, and the share was given back
    const listed = await request(port, '/api/v1/tenants/big/devices?limit=1', {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const ran = answers.filter((a) => a.status !== 429);
    const imported = ran.reduce((n, a) => n + (JSON.parse(a.body).created ?? 1), 0);
    assert.equal(JSON.parse(listed.body).total, imported);
    assert.equal((await post('big/devices.csv', csv(9, 10), 'text/csv')).status, 201);
  });
});

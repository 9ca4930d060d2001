/**
 * A tenant token used as a MAC oracle: adding other tenants' MACs (one by one or 10,000 per CSV)
 * and reading which are "already registered". Bounded per tenant across papgate processes,
 * audited in the prober's tenant, logged and counted; the operator is not limited.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { parseNewDevice } from '../src/domain/device';
import { Metrics } from '../src/lib/metrics';
import type { Store } from '../src/store/store';
import { capturedLog, TestRedis } from './support/redis';

const TOKEN = 'mac-probe-operator-token';
/** The i-th MAC of tenant beta's 2,000 devices. */
const betaMac = (i: number) => `001565b${i.toString(16).padStart(5, '0')}`;
const freeMac = (i: number) => `001565f${i.toString(16).padStart(5, '0')}`;
const csv = (macs: string[]) =>
  ['vendor,type,mac,site', ...macs.map((m) => `yealink,T54W,${m},HQ`)].join('\n');

describe('MAC probing with a tenant token', function () {
  this.timeout(60_000);
  const r = new TestRedis();
  let store: Store;
  /** Two papgate processes' admin servers on one Redis. */
  const servers: {
    app: FastifyInstance;
    port: number;
    metrics: Metrics;
    logs: ReturnType<typeof capturedLog>;
  }[] = [];
  let acmeToken = '';

  before(async () => {
    await r.start();
    store = r.store();
    const config = loadConfig({
      ADMIN_TOKEN: TOKEN,
      MAC_PROBE_LIMIT: '100',
      MAC_PROBE_WINDOW_SECONDS: '600',
    });
    for (let i = 0; i < 2; i++) {
      const metrics = new Metrics();
      const logs = capturedLog();
      const app = createAdminServer({ config, store, log: logs.log, adminToken: TOKEN, metrics });
      await app.listen({ host: '127.0.0.1', port: 0 });
      servers.push({ app, port: (app.server.address() as AddressInfo).port, metrics, logs });
    }
  });
  after(async () => {
    for (const s of servers) await s.app.close();
    await r.stop();
  });
  beforeEach(async () => {
    await r.flush();
    for (const t of ['acme', 'beta']) await store.putTenant(t, { name: t, language: null }, 'test');
    const beta = Array.from({ length: 2000 }, (_, i) =>
      parseNewDevice({ mac: betaMac(i), vendor: 'yealink', model: 'T54W', site: 'Berlin' }),
    );
    const made = await store.createDevices('beta', beta, 'test');
    assert.ok(made !== 'unknown_tenant' && made.ok);
    acmeToken = (await call('POST', '/tenants/acme/tokens', { name: 'acme-it' }, TOKEN)).json.token as string;
    for (const s of servers) s.logs.lines.length = 0;
  });

  async function call(method: string, path: string, body?: unknown, token = acmeToken, server = 0) {
    const res = await fetch(`http://127.0.0.1:${servers[server]!.port}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined
          ? {}
          : { 'content-type': typeof body === 'string' ? 'text/csv' : 'application/json' }),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: JSON.parse(text) as Record<string, unknown>,
    };
  }
  /** POST .../devices of one yealink with `mac` into acme. */
  const addOne = (mac: string, token = acmeToken, server = 0) =>
    call(
      'POST',
      '/tenants/acme/devices',
      { mac, vendor: 'yealink', model: 'T54W', site: 'HQ' },
      token,
      server,
    );
  const acmeEvents = async () =>
    (await call('GET', '/tenants/acme/events?count=1000', undefined, TOKEN)).json.events as Record<
      string,
      string
    >[];
  const metric = async (server: number, answer: string) =>
    Number(
      new RegExp(`papgate_mac_probe_requests_total\\{answer="${answer}"\\} ([0-9]+)`).exec(
        (await servers[server]!.metrics.expose()).body,
      )?.[1],
    );

  it('10,000 MACs in one CSV, 2,000 of them taken: 429, no MAC named, audited, logged, counted', async () => {
    const macs = [
      ...Array.from({ length: 8000 }, (_, i) => freeMac(i)),
      ...Array.from({ length: 2000 }, (_, i) => betaMac(i)),
    ];
    const res = await call('POST', '/tenants/acme/devices.csv', csv(macs));
    assert.equal(res.status, 429, res.text.slice(0, 300));
    assert.equal(res.json.error, 'mac_probe_limited');
    assert.match(String(res.json.message), /ask your provider/);
    assert.equal(res.headers.get('retry-after'), '600');
    assert.ok(!/001565b/.test(res.text), 'the answer names MACs of the other tenant');
    // nothing written: acme has no device, no MAC of the file is claimed
    assert.equal((await call('GET', '/tenants/acme/devices')).json.total, 0);
    assert.equal(await store.tenantOfMac(freeMac(0) as never), null);
    assert.equal(await store.tenantOfMac(betaMac(0) as never), 'beta');

    const [limited] = (await acmeEvents()).filter((e) => e.type === 'mac_probe_limited');
    assert.equal(limited?.actor, 'token:acme-it@127.0.0.1');
    assert.equal(limited?.count, '2000');
    assert.equal(limited?.limit, '100');
    assert.equal(await metric(0, 'limited'), 1);
    const [line] = servers[0]!.logs.lines.filter((l) => l.msg.startsWith('MAC probe limit reached'));
    assert.deepEqual(
      { tenant: line?.tenant, macs: line?.macs, owners: line?.owners, level: line?.level },
      { tenant: 'acme', macs: 2000, owners: ['beta'], level: 40 },
    );

    // Until the window ends every addition of acme is refused, on every papgate process, whatever
    // it names: a refusal must not tell a free MAC from a taken one.
    for (const server of [0, 1]) {
      const free = await addOne(freeMac(9999), acmeToken, server);
      assert.equal(free.status, 429);
      const taken = await call('POST', '/tenants/acme/devices.csv', csv([betaMac(7)]), acmeToken, server);
      assert.equal(taken.status, 429);
      assert.ok(Number(taken.headers.get('retry-after')) > 590);
    }
    assert.equal(await metric(1, 'limited'), 2);
    // refusals at the gate are neither audited nor logged again
    assert.equal((await acmeEvents()).filter((e) => e.type!.startsWith('mac_')).length, 1);
    assert.equal(servers[1]!.logs.count('MAC probe'), 0);

    // The operator is not limited, and is told where the MAC is.
    const op = await addOne(betaMac(7), TOKEN);
    assert.equal(op.status, 409);
    assert.equal(op.json.error, 'mac_registered_elsewhere');
    assert.match(String(op.json.message), /MAC registered in tenant "beta"/);
    assert.equal((await addOne(freeMac(1), TOKEN)).status, 201);
  });

  it('a phone bought used: told to ask the provider; 100 such MACs per window across processes, then 429', async () => {
    const one = await addOne(betaMac(0));
    assert.equal(one.status, 409);
    assert.equal(one.json.error, 'mac_registered_elsewhere');
    assert.match(
      String(one.json.message),
      /^001565b00000: MAC registered to another customer of this service: if the phone is yours .* ask your provider to release it$/,
    );
    assert.ok(!one.text.includes('beta'), 'the other tenant is named to a tenant token');
    const [ev] = (await acmeEvents()).filter((e) => e.type === 'mac_registered_elsewhere');
    assert.deepEqual([ev?.count, ev?.macs, ev?.actor], ['1', betaMac(0), 'token:acme-it@127.0.0.1']);
    assert.equal(await metric(0, 'listed'), 1);
    assert.equal(servers[0]!.logs.count('device addition named MACs of other tenants'), 1);
    // a MAC of its own tenant is no probe
    await addOne(freeMac(0));
    const own = await addOne(freeMac(0));
    assert.deepEqual([own.status, own.json.error], [409, 'duplicate_mac']);

    // 98 more through the other process: listed (99 so far), then one too many, with the rest of a file
    const listed = await call(
      'POST',
      '/tenants/acme/devices.csv',
      csv(Array.from({ length: 98 }, (_, i) => betaMac(i + 1))),
      acmeToken,
      1,
    );
    assert.equal(listed.status, 409);
    assert.equal(listed.json.badRows, 98);
    assert.equal((listed.json.rows as unknown[]).length, 98);
    const over = await call(
      'POST',
      '/tenants/acme/devices.csv',
      csv([freeMac(5), betaMac(200), betaMac(201)]),
    );
    assert.equal(over.status, 429);
    assert.equal((await addOne(freeMac(6), acmeToken, 1)).status, 429);
    const types = (await acmeEvents()).map((e) => e.type);
    assert.equal(types.filter((t) => t === 'mac_registered_elsewhere').length, 2);
    assert.equal(types.filter((t) => t === 'mac_probe_limited').length, 1);
  });
});

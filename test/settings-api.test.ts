import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { parseNewDevice } from '../src/domain/device';
import type { NotifyResult } from '../src/domain/outcomes';
import { request } from './support/http';
import { silentLog, TestRedis } from './support/redis';

const TOKEN = 'settings-test-admin-token-0123456789';

/**
 * The settings routes over real HTTP on a real Redis: layers edited per family, an item refused
 * with the field that names it, a check-sync of the devices concerned when the admin asks.
 */
describe('settings: admin API', () => {
  const redis = new TestRedis();
  let app: FastifyInstance;
  let noSip: FastifyInstance;
  let bounded: FastifyInstance;
  const ports = { sip: 0, none: 0, bounded: 0 };
  /** The check-syncs the API asked the SIP side for (the NOTIFY itself is the e2e suite's). */
  const asked: string[] = [];
  const start = async (
    checkSync?: (t: string, mac: string) => Promise<NotifyResult>,
    env: Record<string, string> = {},
  ) => {
    const a = createAdminServer({
      config: loadConfig({ ADMIN_TOKEN: TOKEN, ...env }),
      store: redis.store(),
      log: silentLog,
      adminToken: TOKEN,
      ...(checkSync ? { checkSync } : {}),
    });
    await a.listen({ host: '127.0.0.1', port: 0 });
    return a;
  };
  before(async () => {
    await redis.start();
    app = await start(async (t, mac) => {
      asked.push(`${t}/${mac}`);
      return mac.endsWith('3') ? 'not_registered' : 'sent';
    });
    noSip = await start();
    bounded = await start(undefined, { SETTINGS_TENANT_MAX_BYTES: String(64 * 1024) });
    ports.bounded = (bounded.server.address() as AddressInfo).port;
    ports.sip = (app.server.address() as AddressInfo).port;
    ports.none = (noSip.server.address() as AddressInfo).port;
  });
  after(async () => {
    await app.close();
    await noSip.close();
    await bounded.close();
    await redis.stop();
  });
  beforeEach(async () => {
    await redis.flush();
    asked.length = 0;
    const store = redis.store();
    await store.putTenant('acme', { name: 'Acme', language: null }, 'test');
    const devices = [
      ['001565000001', 'yealink', 'HQ'],
      ['001565000002', 'yealink', 'Branch'],
      ['001565000003', 'yealink', 'HQ'],
      ['000413000004', 'snom', 'HQ'],
    ].map(([mac, vendor, site]) =>
      parseNewDevice({ mac, vendor, model: vendor === 'snom' ? 'D785' : 'T54W', site }),
    );
    const r = await store.createDevices('acme', devices, 'test');
    assert.ok(r !== 'unknown_tenant' && r.ok);
  });

  const call = async (method: string, path: string, body?: unknown, port = ports.sip) => {
    const r = await request(port, `/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: r.status, json: JSON.parse(r.body || 'null') as Record<string, unknown> };
  };

  it("edits a tenant's, a site's and a device's layer, and reads them back", async () => {
    const tenant = {
      items: { yealink: [{ name: 'lang.gui', value: 'German' }] },
      common: { timeZone: 'Europe/Berlin', ntpServer: 'pool.ntp.org' },
    };
    assert.deepEqual((await call('PUT', '/tenants/acme/settings', tenant)).json, {
      items: tenant.items,
      common: { timeZone: 'Europe/Berlin', ntpServer: 'pool.ntp.org' },
    });
    // A field left out stays; null clears; an empty list removes the family.
    await call('PUT', '/tenants/acme/settings', {
      items: { snom: [{ name: 'language', value: 'Deutsch' }] },
      common: { ntpServer: null },
    });
    assert.deepEqual((await call('GET', '/tenants/acme/settings')).json, {
      items: { ...tenant.items, snom: [{ name: 'language', value: 'Deutsch' }] },
      common: { timeZone: 'Europe/Berlin' },
    });
    // The tenant record's time zone is the common setting's.
    assert.equal((await call('GET', '/tenants/acme')).json.timeZone, 'Europe/Berlin');
    await call('PUT', '/tenants/acme/settings', { items: { snom: [] } });
    assert.deepEqual(Object.keys((await call('GET', '/tenants/acme/settings')).json.items as object), [
      'yealink',
    ]);

    const site = {
      items: { yealink: [{ name: 'lang.gui', value: 'French' }] },
      common: { phoneLanguage: 'fr' },
    };
    assert.equal((await call('PUT', '/tenants/acme/sites/Paris%20Office/settings', site)).status, 200);
    assert.deepEqual((await call('GET', '/tenants/acme/sites/Paris%20Office/settings')).json, site);
    const device = { items: { yealink: [{ name: 'linekey.1.type', value: '15' }] } };
    assert.deepEqual((await call('PUT', '/tenants/acme/devices/00:15:65:00:00:01/settings', device)).json, {
      ...device,
      common: {},
    });
    assert.deepEqual((await call('GET', '/tenants/acme/devices/001565000001/settings')).json, {
      ...device,
      common: {},
    });
  });

  it('refuses a wrong item with the field that names it, and changes nothing', async () => {
    const before = (await call('GET', '/tenants/acme/settings')).json;
    const cases: [unknown, string, RegExp][] = [
      [
        {
          items: {
            yealink: [
              { name: 'a.b', value: 'ok' },
              { name: 'c.d', value: 'x\ny = 1' },
            ],
          },
        },
        'items.yealink.1.value',
        /control characters/,
      ],
      [{ items: { snom: [{ name: 'language', value: '</setting>' }] } }, 'items.snom.0.value', /<, > or "/],
      [{ items: { poly: [{ name: 'lcl.ml.lang', value: 'a"b' }] } }, 'items.poly.0.value', /must hold/],
      [
        { items: { yealink: [{ name: 'STATIC.AUTO_PROVISION.SERVER.URL', value: 'http://evil/' }] } },
        'items.yealink.0.name',
        /papgate's own/,
      ],
      [
        { items: { yealink: [{ name: 'account.1.password ', value: 'x' }] } },
        'items.yealink.0.name',
        /is not a Yealink key/,
      ],
      [{ items: { patton: [{ name: 'x', value: 'y' }] } }, 'items.patton', /takes no settings/],
      [
        { items: { yealink: Array.from({ length: 501 }, (_, i) => ({ name: `a.b${i}`, value: '1' })) } },
        'items.yealink',
        /more than 500/,
      ],
      [
        { items: { yealink: [{ name: 'a.b', value: 'x'.repeat(1025) }] } },
        'items.yealink.0.value',
        /at most 1024/,
      ],
      [{ common: { timeZone: 'Nowhere/City' } }, 'common.timeZone', /IANA/],
      [{ checkSync: 'yes' }, 'checkSync', /true or false/],
      [{ item: {} }, 'item', /unknown field/],
    ];
    for (const [body, field, message] of cases) {
      const r = await call('PUT', '/tenants/acme/settings', body);
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(r.json.field, field);
      assert.match(String(r.json.message), message);
    }
    const d = await call('PUT', '/tenants/acme/devices/001565000001/settings', {
      common: { timeZone: 'UTC' },
    });
    assert.deepEqual([d.status, d.json.field], [400, 'common']);
    assert.equal(
      (await call('PUT', '/tenants/acme/devices/001565000009/settings', { items: {} })).status,
      404,
    );
    assert.equal((await call('PUT', '/tenants/nobody/settings', { items: {} })).status, 404);
    assert.deepEqual((await call('GET', '/tenants/acme/settings')).json, before);
    assert.deepEqual(asked, []);
  });

  it('asks for a check-sync of the devices concerned only when the admin does', async () => {
    const yealinkItem = { items: { yealink: [{ name: 'lang.gui', value: 'German' }] } };
    assert.equal(
      (await call('PUT', '/tenants/acme/sites/HQ/settings', yealinkItem)).json.checkSync,
      undefined,
    );
    assert.deepEqual(asked, []);
    // The site's Yealink phones; not the snom of the site, not the Yealink of another site.
    const r = await call('PUT', '/tenants/acme/sites/HQ/settings', { ...yealinkItem, checkSync: true });
    assert.deepEqual(r.json.checkSync, { sent: 1, not_registered: 1 });
    assert.deepEqual(asked.sort(), ['acme/001565000001', 'acme/001565000003']);
    // A common setting concerns every device of the layer.
    asked.length = 0;
    await call('PUT', '/tenants/acme/settings', { common: { timeZone: 'Europe/Paris' }, checkSync: true });
    assert.equal(asked.length, 4);
    asked.length = 0;
    await call('PUT', '/tenants/acme/devices/000413000004/settings', {
      items: { snom: [] },
      checkSync: true,
    });
    assert.deepEqual(asked, ['acme/000413000004']);
    // Without the SIP side the change is saved and the answer says no check-sync went out.
    const off = await call('PUT', '/tenants/acme/settings', { ...yealinkItem, checkSync: true }, ports.none);
    assert.equal(off.status, 200);
    assert.equal(off.json.checkSync, null);
  });

  it("bounds a tenant's settings in total: site layers past SETTINGS_TENANT_MAX_BYTES are refused, 413", async () => {
    // Under the per-family bound (32 768 characters), 26 000 bytes and more stored per layer.
    const layer = {
      items: { yealink: Array.from({ length: 26 }, (_, i) => ({ name: `a.b${i}`, value: 'x'.repeat(990) })) },
    };
    const put = (path: string, body: unknown) => call('PUT', path, body, ports.bounded);
    assert.equal((await put('/tenants/acme/sites/S1/settings', layer)).status, 200);
    assert.equal((await put('/tenants/acme/sites/S2/settings', layer)).status, 200);
    // The same layer again changes no size: still taken.
    assert.equal((await put('/tenants/acme/sites/S2/settings', layer)).status, 200);
    for (const path of [
      '/tenants/acme/sites/S3/settings',
      '/tenants/acme/settings',
      '/tenants/acme/devices/001565000001/settings',
    ]) {
      const refused = await put(path, layer);
      assert.equal(refused.status, 413, path);
      assert.equal(refused.json.error, 'settings_too_large');
      assert.match(String(refused.json.message), /more than the 65536 this service keeps for one tenant/);
      assert.deepEqual((await call('GET', path)).json.items, {}, `${path}: nothing written`);
    }
    // Another tenant has a bound of its own.
    await redis.store().putTenant('other', { name: 'Other', language: null }, 'test');
    assert.equal((await put('/tenants/other/sites/S1/settings', layer)).status, 200);
    // Removing a layer always passes, and makes room.
    assert.equal((await put('/tenants/acme/sites/S1/settings', { items: { yealink: [] } })).status, 200);
    assert.equal((await put('/tenants/acme/sites/S3/settings', layer)).status, 200);
  });
});

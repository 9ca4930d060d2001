import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Mac } from '../src/domain/mac';
import { parseLayerChange } from '../src/domain/setting-layers';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { FileSettingsSource } from '../src/provisioning/settings';
import { moduleFor } from '../src/provisioning/vendors';
import { Settings, type LayerScope } from '../src/store/settings';
import { credentialIn, ProvisioningFixture, request } from './support/http';
import { pkiDir, TestCa } from './support/pki';
import { silentLog } from './support/redis';
import { connectRedis } from '../src/store/connect';

const MAC = '001565aabbcc' as Mac;
const FILE = `/${MAC}.cfg`;
const defaults = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-settings-')), 'default.json');
fs.writeFileSync(
  defaults,
  JSON.stringify({
    yealink: [
      { name: 'lang.gui', value: 'English' },
      { name: 'a.b', value: 'operator' },
    ],
  }),
);

/**
 * Settings layers on a real Redis, served over real HTTP: operator default, tenant, site and device
 * items in the full file, a change at the next fetch on every process, nothing in the minimal file.
 */
describe('settings layers: stored, audited and served', () => {
  const f = new ProvisioningFixture({ SETTINGS_DEFAULT_FILE: defaults });
  let settings: Settings;
  before(async () => {
    await f.start();
    settings = new Settings(f.store.redis, { eventsMaxLen: 1000 });
  });
  after(() => f.stop());
  beforeEach(async () => {
    await f.redis.flush();
    f.clock = Date.now();
  });

  const put = (at: LayerScope, body: Record<string, unknown>, tenant = 'acme') =>
    settings.put(tenant, at, parseLayerChange(body, at.scope !== 'device'), 'test', 1024 * 1024);
  const full = async (port = f.port) => {
    const r = await request(port, FILE, { from: '127.0.0.3' });
    assert.equal(r.status, 200);
    return r.body;
  };
  const settingLines = (body: string) =>
    body.split('\n').filter((l) => /^(?:lang\.gui|a\.b|c\.d|e\.f) = /i.test(l));

  it('renders the layers in order into the full file, a later item replacing an earlier one', async () => {
    await f.device('yealink', 'T54W', MAC, { site: 'HQ' });
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.3'), 'test');
    assert.equal(
      await put(
        { scope: 'tenant' },
        {
          items: {
            yealink: [
              { name: 'a.b', value: 'tenant' },
              { name: 'c.d', value: 'tenant' },
            ],
          },
        },
      ),
      1,
    );
    await put({ scope: 'site', site: 'HQ' }, { items: { yealink: [{ name: 'A.B', value: 'site' }] } });
    await put(
      { scope: 'site', site: 'Elsewhere' },
      { items: { yealink: [{ name: 'c.d', value: 'other site' }] } },
    );
    await put({ scope: 'device', mac: MAC }, { items: { yealink: [{ name: 'e.f', value: 'device' }] } });
    assert.deepEqual(settingLines(await full()), [
      'lang.gui = English',
      'A.B = site',
      'c.d = tenant',
      'e.f = device',
    ]);
  });

  it('a change reaches the next fetch on this process and on another, the one-script way too', async () => {
    await f.device('yealink', 'T54W', MAC);
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.3'), 'test');
    await put({ scope: 'device', mac: MAC }, { items: { yealink: [{ name: 'e.f', value: 'one' }] } });
    const first = await full();
    assert.ok(settingLines(first).includes('e.f = one'));
    const credential = credentialIn(first)!;
    // The device now holds its credential: asked with it, it is decided by provision.lua.
    const byCredential = (port = f.port) => request(port, `/d/${credential}${FILE}`, { from: '127.0.0.9' });
    assert.ok(settingLines((await byCredential()).body).includes('e.f = one'));
    await f.withOtherProcess(async (other) => {
      assert.ok(settingLines((await byCredential(other)).body).includes('e.f = one'));
      await put({ scope: 'device', mac: MAC }, { items: { yealink: [{ name: 'e.f', value: 'two' }] } });
      assert.ok(settingLines((await byCredential()).body).includes('e.f = two'));
      assert.ok(settingLines((await byCredential(other)).body).includes('e.f = two'));
      // The site's layer emptied, the tenant's item shows; the tenant's emptied, it goes. (Set
      // first: emptying an empty layer changes no version, and the versions after a flush repeat
      // those of the test before, whose files the process keeps.)
      await put({ scope: 'site', site: 'HQ' }, { items: { yealink: [{ name: 'c.d', value: 'site' }] } });
      await put({ scope: 'site', site: 'HQ' }, { items: { yealink: [] } });
      await put({ scope: 'tenant' }, { items: { yealink: [{ name: 'c.d', value: 'tenant' }] } });
      assert.ok(settingLines((await byCredential(other)).body).includes('c.d = tenant'));
      await put({ scope: 'tenant' }, { items: { yealink: [] } });
      assert.ok(!settingLines((await byCredential()).body).includes('c.d = tenant'));
    });
  });

  it('the minimal file carries none of them', async () => {
    await f.device('yealink', 'T54W', MAC);
    await put(
      { scope: 'tenant' },
      { items: { yealink: [{ name: 'c.d', value: 'tenant' }] }, common: { timeZone: 'Europe/Berlin' } },
    );
    await put({ scope: 'device', mac: MAC }, { items: { yealink: [{ name: 'e.f', value: 'device' }] } });
    const minimal = await request(f.port, FILE, { from: '127.0.0.2' });
    assert.equal(minimal.status, 200);
    assert.match(minimal.body, /papgate minimal configuration/);
    assert.deepEqual(settingLines(minimal.body), []);
  });

  it('audits what changed (names, never values), keeps the layers apart and refuses unknown targets', async () => {
    await f.device('yealink', 'T54W', MAC);
    await put(
      { scope: 'device', mac: MAC },
      {
        items: {
          yealink: [
            { name: 'e.f', value: 'secret-1' },
            { name: 'g.h', value: 'x' },
          ],
        },
      },
    );
    await put({ scope: 'device', mac: MAC }, { items: { yealink: [{ name: 'e.f', value: 'secret-2' }] } });
    await put(
      { scope: 'site', site: 'HQ' },
      { common: { ntpServer: 'ntp.example.net', timeZone: 'Europe/Berlin' } },
    );
    await put({ scope: 'site', site: 'HQ' }, { common: { timeZone: null } });
    const events = (await f.store.events('acme', 20)).filter((e) => e.type === 'settings_changed');
    const [cleared, site2, site1, second, first] = events as unknown as Record<string, string>[];
    assert.deepEqual(
      [first!.scope, first!.name, first!.part, first!.set, first!.removed, first!.actor],
      ['device', MAC, 'yealink', 'e.f g.h', '', 'test'],
    );
    assert.deepEqual([second!.set, second!.removed], ['e.f', 'g.h']);
    assert.ok(!JSON.stringify(events).includes('secret-'));
    assert.deepEqual(
      [site1!.part, site1!.after, site2!.part, site2!.after],
      ['ntpServer', 'ntp.example.net', 'timeZone', 'Europe/Berlin'],
    );
    assert.deepEqual([cleared!.part, cleared!.before, cleared!.after], ['timeZone', 'Europe/Berlin', '']);
    assert.deepEqual(await settings.get('acme', { scope: 'site', site: 'HQ' }), {
      items: {},
      common: { ntpServer: 'ntp.example.net' },
    });
    assert.deepEqual(await settings.get('acme', { scope: 'device', mac: MAC }), {
      items: { yealink: [{ name: 'e.f', value: 'secret-2' }] },
      common: {},
    });
    assert.equal(
      await put({ scope: 'device', mac: '001565000000' }, { items: { yealink: [] } }),
      'no_device',
    );
    assert.equal(await put({ scope: 'tenant' }, { items: { yealink: [] } }, 'nobody'), 'no_tenant');
    // A device created again with the MAC starts without the deleted one's items.
    assert.ok(await f.store.deleteDevice('acme', MAC, 'test'));
    await f.device('yealink', 'T54W', MAC);
    assert.deepEqual(await settings.get('acme', { scope: 'device', mac: MAC }), { items: {}, common: {} });
  });

  it('common settings: the site over the tenant, mapped by the family, only the marked ones in the minimal file', async () => {
    await f.device('yealink', 'T54W', MAC, { site: 'HQ' });
    await put(
      { scope: 'tenant' },
      { common: { timeZone: 'Europe/Berlin', ntpServer: 'ntp.tenant.example', phoneLanguage: 'de' } },
    );
    await put({ scope: 'site', site: 'HQ' }, { common: { ntpServer: 'ntp.site.example' } });
    // The family's mapping (commonItems) is another part's; this one shows what it is handed.
    const module = {
      ...moduleFor('yealink'),
      commonItems: (c: Record<string, string>) => Object.entries(c).map(([name, value]) => ({ name, value })),
    };
    const state = await f.store.provisioningState(MAC, '127.0.0.1', '127.0.0.1/32');
    const device = state.device!;
    const source = (minimal: string) =>
      new FileSettingsSource(
        { ...f.config, minimalSettings: minimal ? [minimal as 'timeZone'] : [] },
        settings,
        100,
      );
    const fullItems = (await source('').full(module, device, state.tenantSettings)).items;
    assert.deepEqual(fullItems.slice(0, 3), [
      { name: 'timeZone', value: 'Europe/Berlin' },
      { name: 'ntpServer', value: 'ntp.site.example' },
      { name: 'phoneLanguage', value: 'de' },
    ]);
    assert.deepEqual((await source('').minimal(module, device, state.tenantSettings)).items, []);
    assert.deepEqual((await source('timeZone').minimal(module, device, state.tenantSettings)).items, [
      { name: 'timeZone', value: 'Europe/Berlin' },
    ]);
  });

  it("a process running across New Year renders the new year's rules, not the kept ones of the old year", async () => {
    await f.device('yealink', 'T54W', MAC, { site: 'HQ' });
    await put({ scope: 'tenant' }, { common: { timeZone: 'Europe/Berlin' } });
    // The year the module is handed (the zones' rules are read for it) stands for the rules.
    const module = {
      ...moduleFor('yealink'),
      commonItems: (_c: unknown, _m: string, year: number) => [{ name: 'year', value: String(year) }],
    };
    const state = await f.store.provisioningState(MAC, '127.0.0.1', '127.0.0.1/32');
    let clock = Date.parse('2026-12-31T23:59:59Z');
    const source = new FileSettingsSource(
      { ...f.config, minimalSettings: ['timeZone'] },
      settings,
      100,
      () => clock,
    );
    const before = await source.full(module, state.device!, state.tenantSettings);
    const minimalBefore = await source.minimal(module, state.device!, state.tenantSettings);
    assert.deepEqual(before.items[0], { name: 'year', value: '2026' });
    assert.deepEqual(minimalBefore.items, [{ name: 'year', value: '2026' }]);
    assert.equal((await source.full(module, state.device!, state.tenantSettings)).key, before.key);
    clock = Date.parse('2027-01-01T00:00:01Z');
    const after = await source.full(module, state.device!, state.tenantSettings);
    assert.deepEqual(after.items[0], { name: 'year', value: '2027' });
    // The body cache keys the bodies by this key: another year, another body.
    assert.notEqual(after.key, before.key);
    assert.deepEqual((await source.minimal(module, state.device!, state.tenantSettings)).items, [
      { name: 'year', value: '2027' },
    ]);
  });
});

/**
 * Account 1 over TLS (SIP_TLS_REGISTRAR) on a real Redis over real HTTP: the minimal file asks for
 * it, the CA is served beside the files, the full file writes the factory transport and SRTP back
 * unless a layer sets them.
 */
describe('settings layers: what a TLS minimal file changed, in the full file', () => {
  const ca = new TestCa(pkiDir(), 'sip-ca');
  const f = new ProvisioningFixture({
    SIP_TLS_REGISTRAR: '127.0.0.1:15061',
    SIP_TLS_EMERGENCY_SRTP: '1',
    SIP_TLS_CA_FILE: ca.file,
  });
  let settings: Settings;
  before(async () => {
    await f.start();
    settings = new Settings(f.store.redis, { eventsMaxLen: 1000 });
  });
  after(() => f.stop());

  it('serves the CA at /sip-ca.pem, to anyone, and nothing under a credential path', async () => {
    const r = await request(f.port, '/sip-ca.pem', { from: '127.0.0.7' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-pem-file');
    assert.equal(r.body.trim(), ca.pem.trim());
    assert.equal(
      (await request(f.port, `/d/${'a'.repeat(32)}/sip-ca.pem`, { from: '127.0.0.7' })).status,
      404,
    );
  });

  it('serves the CA from memory while Redis does not answer, where a device file gets 503', async () => {
    await f.device('yealink', 'T54W', '001565aabbd2', { site: 'HQ' });
    const other = await connectRedis(f.redis.server.url, silentLog);
    await other.sendCommand(['CLIENT', 'PAUSE', '4000', 'ALL']);
    try {
      const r = await request(f.port, '/sip-ca.pem', { from: '127.0.0.7' });
      assert.equal(r.status, 200);
      assert.equal(r.body.trim(), ca.pem.trim());
      assert.equal((await request(f.port, '/001565aabbd2.cfg', { from: '127.0.0.7' })).status, 503);
    } finally {
      await other.sendCommand(['CLIENT', 'UNPAUSE']).catch(() => undefined);
      other.destroy();
    }
  });

  it('minimal: TLS with SRTP mandatory; full: transport and SRTP back at the factory values, a layer choosing its own', async () => {
    await f.device('yealink', 'T54W', MAC, { site: 'HQ' });
    const minimal = await request(f.port, FILE, { from: '127.0.0.5' });
    assert.equal(minimal.status, 200);
    for (const line of [
      'account.1.sip_server.1.port = 15061',
      'account.1.sip_server.1.transport_type = 2',
      'account.1.srtp_encryption = 2',
      `static.trusted_certificates.url = ${f.config.provisioningBaseUrl}/sip-ca.pem`,
    ])
      assert.ok(minimal.body.split('\n').includes(line), line);
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.3'), 'test');
    const lines = (body: string) => body.split('\n').filter((l) => /transport|srtp/.test(l));
    const full = await request(f.port, FILE, { from: '127.0.0.3' });
    assert.equal(full.status, 200);
    assert.deepEqual(lines(full.body), [
      'account.1.sip_server.1.transport_type = 0',
      'account.1.transport = 0',
      'account.1.srtp_encryption = 0',
    ]);
    await settings.put(
      'acme',
      { scope: 'tenant' },
      parseLayerChange(
        {
          items: {
            yealink: [
              { name: 'account.1.srtp_encryption', value: '1' },
              { name: 'account.1.sip_server.1.transport_type', value: '2' },
            ],
          },
        },
        true,
      ),
      'test',
      1024 * 1024,
    );
    const chosen = await request(f.port, `/d/${credentialIn(full.body)!}${FILE}`, { from: '127.0.0.3' });
    assert.equal(chosen.status, 200);
    // the older firmware's name of the same choice takes the layer's value, not the factory's
    // (attacker review: V8x firmware may read it too)
    assert.deepEqual(lines(chosen.body).sort(), [
      'account.1.sip_server.1.transport_type = 2',
      'account.1.srtp_encryption = 1',
      'account.1.transport = 2',
    ]);
  });

  it("the names of one choice take the most specific layer's value: a DECT system's device layer over its tenant's (final attacker look, A3)", async () => {
    const dect = '001565aabbd1';
    await f.device('yealink', 'W80DM', dect, { site: 'HQ' });
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.4'), 'test');
    const layer = (scope: LayerScope, name: string, value: string) =>
      settings.put(
        'acme',
        scope,
        parseLayerChange({ items: { yealink: [{ name, value }] } }, scope.scope !== 'device'),
        'test',
        1024 * 1024,
      );
    await layer({ scope: 'tenant' }, 'account.1.transport', '0');
    await layer({ scope: 'device', mac: dect }, 'account.1.sip_server.1.transport_type', '2');
    const full = await request(f.port, `/${dect}.cfg`, { from: '127.0.0.4' });
    assert.equal(full.status, 200);
    assert.deepEqual(
      full.body
        .split('\n')
        .filter((l) => /transport/.test(l))
        .sort(),
      [
        'account.1.sip_server.1.transport_type = 2',
        'account.1.transport = 2',
        'template.1.sip_server.1.transport_type = 2',
      ],
    );
  });
});

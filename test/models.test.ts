/**
 * Models validated against what papgate knows (src/domain/models.ts): spellings read as the
 * canonical name, unknown models refused with the closest known ones unless EXTRA_MODELS declares
 * them, and devices stored with an unknown model kept working.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config';
import { parseNewDevice, VENDORS, type Device, type NewDevice } from '../src/domain/device';
import { parseMac } from '../src/domain/mac';
import { KNOWN_MODELS, knownModel, modelKey, YEALINK_ACCOUNTS } from '../src/domain/models';
import { configFileName } from '../src/provisioning/files';
import { deviceScope } from '../src/provisioning/scope';
import { TemplateSet } from '../src/provisioning/templates';
import { moduleFor } from '../src/provisioning/vendors';
import { yealink } from '../src/provisioning/vendors/yealink';
import { startAdmin } from './support/admin';
import { ACCOUNT } from './support/http';
import { TestRedis } from './support/redis';

const TOKEN = 'test-admin-token-models-0123456789';

describe('models: the lists', () => {
  it('every known model is its own canonical name, and no two of a vendor read alike', () => {
    for (const vendor of VENDORS) {
      const keys = new Map<string, string>();
      for (const model of KNOWN_MODELS[vendor]) {
        assert.equal(knownModel(vendor, model), model, `${vendor} ${model}`);
        const key = modelKey(vendor, model);
        assert.equal(keys.get(key), undefined, `${vendor}: ${model} reads as ${keys.get(key)}`);
        keys.set(key, model);
      }
    }
  });

  it('reads what an admin types as the canonical name', () => {
    for (const [vendor, typed, canonical] of [
      ['yealink', 'sip-t54w', 'T54W'],
      ['yealink', 'T54W', 'T54W'],
      ['yealink', 'Yealink T54W', 'T54W'],
      ['yealink', 'Yealink SIP VP-T49G', 'T49G'],
      ['yealink', 't19p e2', 'T19P_E2'],
      ['snom', 'snom D785', 'D785'],
      ['poly', 'Polycom VVX 450', 'VVX450'],
      ['poly', 'SoundPoint IP 650', 'SPIP650'],
      ['gigaset', 'Gigaset N510', 'N510 IP PRO'],
      ['gigaset', 'n720 dm pro', 'N720 DM PRO'],
      ['panasonic', 'UT136', 'KX-UT136'],
      ['patton', 'SmartNode 4112', 'SN4112'],
      ['linksys', 'SPA-2102', 'SPA2102'],
      ['spectralink', 'Versity 9640', 'Versity 9640'],
    ] as const)
      assert.equal(knownModel(vendor, typed), canonical, `${vendor} ${typed}`);
  });

  it("Yealink's account counts are the list's: every model with a count gets it, in any spelling", () => {
    for (const [count, models] of YEALINK_ACCOUNTS)
      for (const model of models.split(' ')) {
        assert.ok(KNOWN_MODELS.yealink.includes(model), model);
        const slots = count ?? 16;
        assert.equal(yealink.accountSlots(model), slots, model);
        assert.equal(yealink.accountSlots(`Yealink SIP-${model}`), slots, `Yealink SIP-${model}`);
      }
  });

  it('every known model renders a full and a minimal file (real templates)', () => {
    const config = loadConfig({ PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081' });
    const templates = TemplateSet.load();
    for (const vendor of VENDORS) {
      const module = moduleFor(vendor);
      for (const model of KNOWN_MODELS[vendor]) {
        const d = {
          ...parseNewDevice({ mac: '001565000001', vendor, model, site: 'HQ', accounts: [ACCOUNT] }),
          sipPassword: 'restricted-pw',
          tenant: 'acme',
        };
        const name = configFileName(module, d);
        const fm = name === null ? null : module.matchFile(name);
        assert.ok(fm && fm.role === 'config', `${vendor} ${model}: ${name} is its configuration`);
        const render = (what: Parameters<typeof deviceScope>[2]) =>
          templates.render(
            module.family,
            fm.template,
            module.overrides(d),
            deviceScope(config, d, what, []),
            module.escape,
          );
        const full = render({ kind: 'full', credential: 'c'.repeat(32) });
        assert.ok(full.includes(ACCOUNT.user), `${vendor} ${model}: the full file has the account`);
        const minimal = render({ kind: 'minimal', display: 'needed', ip: '198.51.100.7' });
        assert.ok(
          minimal.includes('001565000001'),
          `${vendor} ${model}: the minimal file has the restricted account`,
        );
        assert.ok(
          !minimal.includes(ACCOUNT.password),
          `${vendor} ${model}: the minimal file has no account password`,
        );
      }
    }
  });

  it('EXTRA_MODELS is checked at start-up; a refused model stays refused', () => {
    assert.deepEqual(loadConfig({ EXTRA_MODELS: 'yealink:T99Z, snom:D999' }).extraModels, {
      yealink: ['T99Z'],
      snom: ['D999'],
    });
    for (const [value, message] of [
      ['nokia:3310', /EXTRA_MODELS.*vendor must be one of/],
      ['T99Z', /EXTRA_MODELS.*not vendor:model/],
      ['yealink: ', /EXTRA_MODELS.*not vendor:model/],
      ['yealink:' + 'T'.repeat(65), /EXTRA_MODELS.*1-64 characters/],
      ['snom:M700', /EXTRA_MODELS.*model M700 of snom is not supported/],
      ['yealink:T\u202e99', /EXTRA_MODELS/],
    ] as const)
      assert.throws(() => loadConfig({ EXTRA_MODELS: value }), message, value);
  });
});

describe('models: the admin API', () => {
  const r = new TestRedis();
  let plain: FastifyInstance;
  let extra: FastifyInstance;
  let base = '';
  let extraBase = '';

  const call = async (
    method: string,
    url: string,
    body?: unknown,
    at = base,
    // Answers are checked field by field; a schema type per route would add nothing.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; json: any }> => {
    const csv = typeof body === 'string';
    const res = await fetch(`${at}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'content-type': csv ? 'text/csv' : 'application/json' } : {}),
      },
      body: body === undefined ? undefined : csv ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const add = (model: string, mac = '001565000a01', at = base) =>
    call('POST', '/api/v1/tenants/acme/devices', { mac, vendor: 'yealink', model, site: 'HQ' }, at);
  const devices = async () => (await call('GET', '/api/v1/tenants/acme/devices')).json.devices as Device[];

  before(async () => {
    await r.start();
    let s = await startAdmin(r, TOKEN);
    plain = s.app;
    base = `http://127.0.0.1:${s.port}`;
    s = await startAdmin(r, TOKEN, { EXTRA_MODELS: 'yealink:T99Z' });
    extra = s.app;
    extraBase = `http://127.0.0.1:${s.port}`;
  });
  after(async () => {
    await plain.close();
    await extra.close();
    await r.stop();
  });
  beforeEach(async () => {
    await r.flush();
    assert.equal((await call('PUT', '/api/v1/tenants/acme', { name: 'Acme' })).status, 201);
  });

  it('refuses an unknown model (400, field model), naming the closest known ones, and adds nothing', async () => {
    const res = await add('T99Z');
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.field, 'model');
    assert.match(
      res.json.message,
      /^model T99Z of yealink is not known; closest: T\w+, T\w+, T\w+ .*EXTRA_MODELS/,
    );
    assert.match((await add('T54X')).json.message, /closest: (\w+, )?T54W,/);
    assert.deepEqual(await devices(), []);
  });

  it('stores what an admin types by its canonical name', async () => {
    for (const [i, typed] of ['sip-t54w', 'Yealink T54W', 'T54W'].entries()) {
      const res = await add(typed, `001565000a0${i}`);
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.equal(res.json.model, 'T54W', typed);
      assert.equal(res.json.modelKnown, true);
    }
  });

  it('accepts a model EXTRA_MODELS declares, as declared', async () => {
    const res = await add('t99z', '001565000a01', extraBase);
    assert.equal(res.status, 201, JSON.stringify(res.json));
    assert.deepEqual([res.json.model, res.json.modelKnown], ['T99Z', true]);
    // Declared for Yealink only.
    const snom = await call(
      'POST',
      '/api/v1/tenants/acme/devices',
      { mac: '000413000a01', vendor: 'snom', model: 'T99Z', site: 'HQ' },
      extraBase,
    );
    assert.equal(snom.status, 400);
  });

  it('CSV import: an unknown model is a row error beside its column, in the same round as the others', async () => {
    const res = await call(
      'POST',
      '/api/v1/tenants/acme/devices.csv',
      [
        'vendor,type,mac,site',
        'yealink,T99Z,001565000b01,HQ',
        'yealink,T54W,001565000b02,',
        'yealink,sip-t46u,001565000b03,HQ',
      ].join('\n'),
    );
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.deepEqual(
      res.json.rows.map((row: { line: number; column: string }) => [row.line, row.column]),
      [
        [2, 'type'],
        [3, 'site'],
      ],
    );
    assert.match(res.json.rows[0].reason, /model T99Z of yealink is not known; closest:/);
    assert.deepEqual(await devices(), []);
    const ok = await call(
      'POST',
      '/api/v1/tenants/acme/devices.csv',
      'vendor,type,mac,site\nyealink,sip-t46u,001565000b03,HQ',
    );
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.deepEqual(
      (await devices()).map((d) => d.model),
      ['T46U'],
    );
  });

  it('edit: an unknown model is refused, a known one stored by its canonical name', async () => {
    assert.equal((await add('T54W')).status, 201);
    const dev = '/api/v1/tenants/acme/devices/001565000a01';
    const bad = await call('PATCH', dev, { model: 'T99Z' });
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.equal(bad.json.field, 'model');
    assert.match(bad.json.message, /not known; closest:/);
    const good = await call('PATCH', dev, { model: 'yealink sip-t57w' });
    assert.equal(good.status, 200, JSON.stringify(good.json));
    assert.equal(good.json.model, 'T57W');
  });

  it('a device stored with an unknown model keeps working: shown as unknown, still editable', async () => {
    const stored: NewDevice = {
      mac: parseMac('001565000c01'),
      vendor: 'yealink',
      model: 'T99Z',
      site: 'HQ',
      language: null,
      accounts: [ACCOUNT],
    };
    const created = await r.store().createDevices('acme', [stored], 'test');
    assert.ok(created !== 'unknown_tenant' && created.ok);
    const dev = '/api/v1/tenants/acme/devices/001565000c01';
    const read = await call('GET', dev);
    assert.deepEqual([read.json.model, read.json.modelKnown], ['T99Z', false]);
    // The console's edit form sends the model back as it is.
    const edited = await call('PATCH', dev, { site: 'Annex', model: 'T99Z' });
    assert.equal(edited.status, 200, JSON.stringify(edited.json));
    assert.deepEqual([edited.json.site, edited.json.model, edited.json.modelKnown], ['Annex', 'T99Z', false]);
    // Declared now: known.
    assert.equal((await call('GET', dev, undefined, extraBase)).json.modelKnown, true);
    assert.equal((await call('PATCH', dev, { model: 'T98Z' })).status, 400);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { VENDORS, type Vendor } from '../src/domain/device';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { parseLayerChange } from '../src/domain/setting-layers';
import { effectiveFile, MASK } from '../src/provisioning/effective';
import { configFileName } from '../src/provisioning/files';
import { compile } from '../src/provisioning/render';
import { freePort } from '../src/store/embedded';
import { commonScope, deviceScope } from '../src/provisioning/scope';
import {
  loadTemplates,
  MATCH_VARS,
  OWNED,
  PROBE_MODELS,
  scopeNames,
} from '../src/provisioning/template-check';
import { moduleFor } from '../src/provisioning/vendors';
import { yealink } from '../src/provisioning/vendors/yealink';
import { ACCOUNT, credentialIn, ProvisioningFixture, request } from './support/http';
import { fileSettingsFor, silentLog, TestRedis } from './support/redis';
import { Settings } from '../src/store/settings';
import { exited, killServices, startService, until } from './support/service';

const CONFIG = loadConfig({});

/** A folder of the operator's templates: `files` maps `<family>/[<folder>/]<file>` to its text. */
function folder(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-templates-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** The message loading `files` as the operator's folder fails with (and the folder). */
function refusal(files: Record<string, string>): { message: string; dir: string } {
  const dir = folder(files);
  try {
    loadTemplates(loadConfig({ PROVISIONING_TEMPLATES_DIR: dir }));
  } catch (err) {
    return { message: (err as Error).message, dir };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.fail('the templates were accepted');
}

describe("templates: the operator's folder, checked at start-up", () => {
  // Also when a test timed out, so that no service it started is left running.
  afterEach(() => killServices());

  it("papgate's own templates pass the check", () => {
    const set = loadTemplates(CONFIG);
    assert.ok([...set.files('papgate')].some((f) => f.path === 'yealink/device.cfg'));
    assert.deepEqual([...set.files('operator')], []);
  });

  it('names the line of a tag in the file, standalone lines counted', () => {
    for (const [source, line, message] of [
      ['a\n{{#accounts}}\nb = {{n}}\n{{/accounts}}\nc = {{nope\n', 5, /malformed tag/],
      ['a\n{{#accounts}}\n\n{{/vacant}}\n', 4, /unexpected \{\{\/vacant\}\}/],
      ['a\n\n{{^full}}\nx\n', 3, /unclosed \{\{\^full\}\}/],
      ['{{! c}}\n{{#a}}\n{{/a}}\n{{}}\n', 4, /empty tag/],
    ] as const) {
      assert.throws(
        () => compile('t', source),
        (e: Error) => {
          assert.match(e.message, new RegExp(`^template t line ${line}: `));
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });

  it('refuses an unknown variable, naming the file and line', () => {
    const { message, dir } = refusal({
      'yealink/hotline.cfg':
        '# mine\n{{#accounts}}\naccount.{{n}}.x = {{n}}\n{{/accounts}}\nfoo = {{timezone}}\n',
    });
    assert.equal(message, `template ${dir}/yealink/hotline.cfg line 5: unknown variable "timezone"`);
  });

  it("refuses a list element's name outside its list, and takes it inside, a partial's too", () => {
    let r = refusal({
      'yealink/model-T54W/device.cfg':
        '{{>papgate:device.cfg}}\n{{#accounts}}\n{{>keys.cfg}}\n{{/accounts}}\n{{>keys.cfg}}\n',
      'yealink/keys.cfg': 'linekey.{{n}}.line = {{n}}\n',
    });
    assert.equal(r.message, `template ${r.dir}/yealink/keys.cfg line 1: unknown variable "n"`);
    r = refusal({
      'yealink/hotline.cfg': '{{>papgate:hotline.cfg}}\n{{#full}}\nx = {{password}}\n{{/full}}\n',
    });
    assert.equal(r.message, `template ${r.dir}/yealink/hotline.cfg line 3: unknown variable "password"`);
    // A common file has no device: nothing of one's is in its scope.
    r = refusal({ 'yealink/common.cfg': '{{>papgate:common.cfg}}\nx = {{httpPassword}}\n' });
    assert.equal(r.message, `template ${r.dir}/yealink/common.cfg line 2: unknown variable "httpPassword"`);
    const dir = folder({
      'yealink/model-T54W/device.cfg':
        '{{>papgate:device.cfg}}\n{{#accounts}}\n{{>keys.cfg}}\n{{/accounts}}\n',
      'yealink/keys.cfg': 'linekey.{{n}}.line = {{n}}\n',
    });
    try {
      loadTemplates(loadConfig({ PROVISIONING_TEMPLATES_DIR: dir }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown section, which would render as nothing', () => {
    const { message, dir } = refusal({
      'snom/model-D785/settings.xml': '{{>papgate:settings.xml}}\n\n{{#fulll}}x{{/fulll}}\n',
    });
    assert.equal(message, `template ${dir}/snom/model-D785/settings.xml line 3: unknown section "fulll"`);
  });

  it('refuses an unclosed section, naming the line it opens on', () => {
    const { message, dir } = refusal({
      'yealink/hotline.cfg': 'a = 1\n{{#full}}\nfeatures.x = 1\n',
    });
    assert.equal(message, `template ${dir}/yealink/hotline.cfg line 2: unclosed {{#full}}`);
  });

  it('refuses a missing partial, and a file that includes itself', () => {
    let r = refusal({ 'yealink/hotline.cfg': '# mine\n\n{{>my-keys.cfg}}\n' });
    assert.equal(r.message, `template ${r.dir}/yealink/hotline.cfg line 3: unknown partial "my-keys.cfg"`);
    r = refusal({ 'yealink/hotline.cfg': '{{>hotline.cfg}}\n' });
    assert.equal(
      r.message,
      `template ${r.dir}/yealink/hotline.cfg line 1: partial "hotline.cfg" includes itself`,
    );
    r = refusal({ 'poly/phone.cfg': '{{>papgate:nothing.cfg}}\n' });
    assert.match(r.message, /poly\/phone\.cfg line 1: unknown partial "papgate:nothing\.cfg"/);
  });

  it("refuses a full file that leaves out papgate's provisioning URL, credentials or accounts", () => {
    const { message, dir } = refusal({
      'yealink/device.cfg':
        '{{#accounts}}\naccount.{{n}}.user_name = {{user}}\naccount.{{n}}.password = {{password}}\n{{/accounts}}\n',
    });
    assert.match(
      message,
      new RegExp(
        `^template ${dir}/yealink/device\\.cfg: leaves out what papgate's yealink/device\\.cfg writes`,
      ),
    );
    for (const n of ['provisioningUrl', 'httpPassword', 'vacant', 'authUser'])
      assert.match(message, new RegExp(n));
  });

  it('refuses a folder or file that no device reaches', () => {
    assert.match(refusal({ 'yealnk/device.cfg': 'x\n' }).message, /not a template: the layout is/);
    assert.match(
      refusal({ 'yealink/dect2/device.cfg': '{{>papgate:device.cfg}}\n' }).message,
      /unknown folder "dect2"/,
    );
    assert.match(
      refusal({ 'yealink/device.cgf': 'x\n' }).message,
      /"device\.cgf" is no file of papgate's yealink templates/,
    );
    assert.match(
      refusal({ 'yealink/model-T54W/common.cfg': '{{>papgate:common.cfg}}\n' }).message,
      /a model's folder is for its device file \(yealink's: device\.cfg\)/,
    );
    assert.match(
      refusal({
        'yealink/model-T54W/device.cfg': '{{>papgate:device.cfg}}\n',
        'yealink/model-t54w/device.cfg': '{{>papgate:device.cfg}}\n',
      }).message,
      /a model's folder is there twice, in another case/,
    );
  });

  it('stops the real start-up with exit code 2, the file and the line, before anything listens', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-main-'));
    const dir = folder({ 'grandstream/cfg.xml': '{{>papgate:cfg.xml}}\n<P64>{{timeZone}}</P64>\n' });
    try {
      // An unreachable store: were the check not there, no redis-server of its own would be left behind.
      const s = startService({
        DATA_DIR: dataDir,
        PROVISIONING_TEMPLATES_DIR: dir,
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        ADMIN_PORT: '0',
        PROVISIONING_PORT: '0',
      });
      assert.equal(await exited(s.child), 2);
      assert.equal(
        s.stderr(),
        `papgate: template error: template ${dir}/grandstream/cfg.xml line 2: unknown variable "timeZone"\n`,
      );
      assert.deepEqual(fs.readdirSync(dataDir), [], 'it started: the admin token was written');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('starts with a good folder and says so in its log, naming the files', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-main-'));
    const dir = folder({
      'yealink/model-T54W/device.cfg': '{{>papgate:device.cfg}}\nlocal_time.time_zone = +1\n',
    });
    try {
      const [adminPort, provPort, deadPort] = [await freePort(), await freePort(), await freePort()];
      const s = startService({
        DATA_DIR: dataDir,
        PROVISIONING_TEMPLATES_DIR: dir,
        // No store needed to start: the service listens and answers 503 without one.
        REDIS_URL: `redis://127.0.0.1:${deadPort}`,
        ADMIN_TOKEN: 'x'.repeat(20),
        ADMIN_PORT: String(adminPort),
        PROVISIONING_PORT: String(provPort),
      });
      const line = await until('templates logged', () =>
        s.lines().find((l) => /operator templates/.test(String(l.msg))),
      );
      assert.deepEqual(line.files, ['yealink/model-T54W/device.cfg']);
      assert.equal(line.dir, dir);
      await until('provisioning listening', () =>
        s.lines().find((l) => l.msg === 'provisioning server listening'),
      );
      s.child.kill('SIGTERM');
      assert.equal(await exited(s.child), 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('knows the names from the scopes: every list filled for the probe models, the owned and match names among them', () => {
    const names = scopeNames(CONFIG);
    for (const n of OWNED)
      assert.ok(names.device.has(n) || [...names.lists.values()].some((l) => l.has(n)), n);
    const yealinkCommon = yealink.matchFile('y000000000028.cfg');
    assert.equal(yealinkCommon?.role, 'common');
    assert.deepEqual(Object.keys(yealinkCommon.role === 'common' ? yealinkCommon.vars : {}), MATCH_VARS);
    const lists = new Set<string>();
    const filled = new Set<string>();
    const account = { ...ACCOUNT };
    for (const vendor of VENDORS)
      for (const model of PROBE_MODELS) {
        const full = deviceScope(
          CONFIG,
          { mac: '001565aabbcc' as never, model, vendor, accounts: [account, account], sipPassword: 'x' },
          { kind: 'full', credential: 'c' },
          [{ name: 'probe', value: 'probe' }],
        );
        for (const [k, v] of Object.entries({ ...full, ...commonScope(CONFIG, {}) }))
          if (Array.isArray(v)) {
            lists.add(k);
            if (v.length) filled.add(k);
          }
      }
    assert.deepEqual(
      [...lists].filter((l) => !filled.has(l)),
      [],
    );
  });

  it('names a configuration file for a device of every vendor', () => {
    for (const vendor of VENDORS) {
      const module = moduleFor(vendor);
      const file = configFileName(module, { mac: '001565aabbcc' as never, model: 'X1' });
      assert.ok(file, vendor);
      assert.equal(module.matchFile(file)?.role, 'config', `${vendor}: ${file}`);
    }
  });
});

describe("templates: the operator's files served", () => {
  const T46G = '001565000046';
  const T54W = '001565000054';
  const dir = folder({
    'yealink/model-t46g/device.cfg':
      '{{>papgate:device.cfg}}\n## operator: T46G\nlocal_time.time_zone = +1\n',
    'yealink/hotline.cfg': '{{>papgate:hotline.cfg}}\n## operator: hot line\n',
  });
  const f = new ProvisioningFixture({ PROVISIONING_TEMPLATES_DIR: dir });
  before(() => f.start());
  after(async () => {
    await f.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (mac: string, model: string) =>
    request(f.port, `/${mac}.cfg`, {
      from: '127.0.0.2',
      headers: { 'user-agent': `Yealink SIP-${model} 28.83.0.50 ${mac}` },
    });

  it("serves a model folder's file to that model's full file only, and never to a minimal file", async () => {
    await f.device('yealink', 'T46G', T46G);
    await f.device('yealink', 'T54W', T54W);
    // Not yet authenticated: papgate's minimal file, whatever the operator's folder holds.
    const minimal = await get(T46G, 'T46G');
    assert.equal(minimal.status, 200);
    assert.match(minimal.body, /Dial \*89 to authenticate/);
    assert.ok(!minimal.body.includes('## operator'), minimal.body);
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.0/30'), 'test');
    const t46g = await get(T46G, 'T46G');
    assert.match(t46g.body, /^#!version:1\.0\.0\.1\n## papgate full configuration for 001565000046\n/);
    assert.match(t46g.body, /\n## operator: T46G\nlocal_time\.time_zone = \+1\n$/);
    assert.ok(t46g.body.includes(`account.1.password = ${ACCOUNT.password}`));
    assert.ok(credentialIn(t46g.body), 'the credential is in the URL');
    assert.match(t46g.body, /## operator: hot line/);
    const t54w = await get(T54W, 'T54W');
    assert.match(t54w.body, /## papgate full configuration for 001565000054\n/);
    assert.ok(!t54w.body.includes('T46G') && !t54w.body.includes('local_time'), t54w.body);
    assert.match(t54w.body, /## operator: hot line/, 'the family-wide replacement applies to every model');
  });
});

describe('templates: the effective full file in the admin API', () => {
  const TOKEN = 'effective-file-admin-token-0123456789';
  const MAC = '001565aabbcc';
  const dir = folder({ 'yealink/model-T54W/device.cfg': '{{>papgate:device.cfg}}\n## operator T54W\n' });
  const f = new ProvisioningFixture({ PROVISIONING_TEMPLATES_DIR: dir });
  let admin: FastifyInstance;
  let port = 0;
  const call = async (bearer: string, url: string, method = 'GET', body?: unknown) => {
    const res = await request(port, url, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { ...res, json: JSON.parse(res.body) as Record<string, unknown> };
  };

  before(async () => {
    await f.start();
    const templates = loadTemplates(f.config);
    admin = createAdminServer({
      config: f.config,
      store: f.redis.store(),
      log: silentLog,
      adminToken: TOKEN,
      effectiveFile: (device) =>
        effectiveFile(f.config, templates, fileSettingsFor(f.config, f.redis.client), device),
    });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    port = (admin.server.address() as AddressInfo).port;
  });
  after(async () => {
    await admin.close();
    await f.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('renders what the device would get, every secret masked, its sources named, nothing changed', async () => {
    const d = await f.device('yealink', 'T54W', MAC);
    // The phone takes its full file once, so the device holds a credential.
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.0/30'), 'test');
    const served = await request(f.port, `/${MAC}.cfg`, {
      from: '127.0.0.2',
      headers: { 'user-agent': 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc' },
    });
    const credential = credentialIn(served.body)!;
    assert.ok(credential);
    const before = await f.store.findDevice(d.mac);
    const events = (await f.store.events('acme', 100)).length;

    const tenantToken = (await call(TOKEN, '/api/v1/tenants/acme/tokens', 'POST', { name: 'Acme IT' })).json
      .token as string;
    for (const bearer of [TOKEN, tenantToken]) {
      const res = await call(bearer, `/api/v1/tenants/acme/devices/${MAC}/effective-file`);
      assert.equal(res.status, 200, res.body);
      const body = res.json.body as string;
      assert.equal(res.json.file, `${MAC}.cfg`);
      assert.equal(res.json.contentType, 'text/plain; charset=utf-8');
      assert.deepEqual(res.json.sources, [
        { origin: 'operator', path: 'yealink/model-T54W/device.cfg' },
        { origin: 'papgate', path: 'yealink/device.cfg' },
        { origin: 'papgate', path: 'yealink/sip-templates.cfg' },
        { origin: 'papgate', path: 'yealink/hotline.cfg' },
        { origin: 'papgate', path: 'yealink/handsets.cfg' },
      ]);
      // The same file as served, but for the masks.
      assert.equal(body, served.body.replaceAll(credential, MASK).replaceAll(ACCOUNT.password, MASK));
      assert.match(body, /\n## operator T54W\n$/);
      assert.ok(body.includes(`account.1.password = ${MASK}`));
      assert.ok(body.includes(`static.auto_provision.server.url = http://prov.papgate.test:8081/d/${MASK}/`));
      assert.ok(body.includes(`static.auto_provision.server.password = ${MASK}`));
      for (const secret of [credential, ACCOUNT.password, d.sipPassword, d.pap])
        assert.ok(!res.body.includes(secret), `the answer holds ${secret}`);
    }
    assert.deepEqual(await f.store.findDevice(d.mac), before, 'the device record changed');
    // Only the token's creation and use are new in the trail, no event of the file.
    const after = await f.store.events('acme', 100);
    assert.ok(!after.some((e) => /file/.test(e.type)), JSON.stringify(after.slice(0, after.length - events)));

    const other = await call(TOKEN, '/api/v1/tenants/acme/devices/001565000001/effective-file');
    assert.equal(other.status, 404);
    assert.equal(other.json.error, 'unknown_device');
  });

  it("refuses another tenant's token", async () => {
    await f.store.putTenant('beta', { name: 'beta', language: null }, 'test');
    const token = (await call(TOKEN, '/api/v1/tenants/beta/tokens', 'POST', { name: 'Beta IT' })).json
      .token as string;
    const res = await call(token, `/api/v1/tenants/acme/devices/${MAC}/effective-file`);
    assert.equal(res.status, 403);
  });
});

describe('templates: the effective file of every vendor', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(() => r.stop());

  it('masks every secret for every vendor and model folder, and a setting that holds one', async () => {
    const templates = loadTemplates(CONFIG);
    await r.store().putTenant('acme', { name: 'acme', language: null }, 'test');
    const settings = new Settings(r.client, { eventsMaxLen: 100 });
    const change = {
      items: { yealink: [{ name: 'security.user_password', value: 'admin:hunter2-item' }] },
      common: {},
    };
    assert.equal(
      typeof (await settings.put('acme', { scope: 'tenant' }, change, 'test', 1024 * 1024)),
      'number',
    );
    const models: Partial<Record<Vendor, string[]>> = {
      yealink: ['T54W', 'W60B', 'W80DM'],
      gigaset: ['N510', 'N720'],
    };
    for (const vendor of VENDORS)
      for (const model of models[vendor] ?? ['X1']) {
        const device = {
          tenant: 'acme',
          site: '',
          mac: '001565aabbcc' as never,
          vendor,
          model,
          language: null,
          accounts: [ACCOUNT],
          sipPassword: 'restricted-secret-0123',
        };
        const e = await effectiveFile(CONFIG, templates, fileSettingsFor(CONFIG, r.client), device);
        assert.ok(e, `${vendor} ${model}`);
        assert.ok(e.body.includes(MASK), `${vendor} ${model}: nothing masked`);
        for (const secret of [ACCOUNT.password, 'restricted-secret-0123', 'hunter2-item'])
          assert.ok(!e.body.includes(secret), `${vendor} ${model} holds ${secret}`);
        assert.ok(e.sources.every((s) => s.origin === 'papgate'));
        // The tenant's setting is in the file, masked (a file without it would prove nothing).
        if (vendor === 'yealink') assert.match(e.body, /^security\.user_password = \*{8}$/m);
      }
  });
});

describe('templates: secrets of the vendors masked in the effective file, whatever put them there', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(() => r.stop());

  const S = {
    tenant: 'tenant-secret-1',
    dflt: 'default-secret-2',
    tpl: 'template-secret-3',
    url: 'url-secret-4',
  };
  /** Per family: a tenant item and an operator default item holding a secret, a non-secret item, an
   * operator template line with a secret literal (after papgate's own file), a URL with a credential. */
  const cases: Record<
    string,
    {
      vendor: Vendor;
      model: string;
      file: string;
      tenant: [string, string][];
      dflt: [string, string];
      line: string;
    }
  > = {
    yealink: {
      vendor: 'yealink',
      model: 'T54W',
      file: 'device.cfg',
      tenant: [
        ['phone_setting.phone_lock.unlock_pin', S.tenant],
        ['remote_phonebook.data.1.url', `https://bob:${S.url}@dir.example/pb.xml`],
        ['lang.gui', 'visible-yealink'],
      ],
      dflt: ['static.security.user_password', `admin:${S.dflt}`],
      line: `static.security.user_password = admin:${S.tpl}`,
    },
    snom: {
      vendor: 'snom',
      model: 'D785',
      file: 'settings.xml',
      tenant: [
        ['admin_mode_pin', S.tenant],
        ['dkey_directory', `url https://bob:${S.url}@dir.example/pb.xml`],
        ['language', 'visible-snom'],
      ],
      dflt: ['http_pass', S.dflt],
      line: `<admin_mode_password perm="R">${S.tpl}</admin_mode_password>`,
    },
    poly: {
      vendor: 'poly',
      model: 'VVX450',
      file: 'phone.cfg',
      tenant: [
        ['device.auth.localAdminPassword', S.tenant],
        ['dir.corp.address', `https://bob:${S.url}@dir.example/`],
        ['lcl.ml.lang', 'visible-poly'],
      ],
      dflt: ['device.auth.localUserPassword', S.dflt],
      line: `<x device.auth.localAdminPassword="${S.tpl}"/>`,
    },
    cisco: {
      vendor: 'cisco',
      model: 'SPA112',
      file: 'profile.xml',
      tenant: [
        ['Admin_Passwd', S.tenant],
        ['Upgrade_Rule', `https://bob:${S.url}@fw.example/f.bin`],
        ['Time_Zone', 'visible-cisco'],
      ],
      dflt: ['User_Password', S.dflt],
      line: `<Admin_Passwd>${S.tpl}</Admin_Passwd>`,
    },
    gigaset: {
      vendor: 'gigaset',
      model: 'N510 IP PRO',
      file: 'provider.xml',
      tenant: [
        ['BS_CUSTOM.aucKdsPin[%]', '0x47,0x11'],
        ['BS_XML_Netdirs.astNetdirProvider[0].aucServerURL[%]', `"https://bob:${S.url}@dir.example/"`],
        ['BS_IP_Data1.aucS_TIMESERVER', '"visible-gigaset"'],
      ],
      dflt: ['BS_CUSTOM.WebUIPassword', `"${S.dflt}"`],
      line: `<SYMB_ITEM ID="BS_CUSTOM.WebUIPassword" class="symb_item" value='"${S.tpl}"'/>`,
    },
    grandstream: {
      vendor: 'grandstream',
      model: 'GXP2170',
      file: 'cfg.xml',
      tenant: [
        ['P1359', S.tenant],
        ['P331', `https://bob:${S.url}@dir.example/`],
        ['P1362', 'visible-grandstream'],
      ],
      dflt: ['P002', S.dflt],
      line: `<P196>${S.tpl}</P196>`,
    },
    panasonic: {
      vendor: 'panasonic',
      model: 'KX-UT133',
      file: 'config.cfg',
      tenant: [
        ['ADMIN_PASS', S.tenant],
        ['XMLAPP_LDAP_URL', `https://bob:${S.url}@dir.example/`],
        ['DEFAULT_LANGUAGE', 'visible-panasonic'],
      ],
      dflt: ['USER_PASS', S.dflt],
      line: `ADMIN_PASS="${S.tpl}"`,
    },
  };

  it('masks secrets of the default file, a tenant layer, an operator template and URLs; keeps the rest', async () => {
    const dir = folder({
      ...Object.fromEntries(
        Object.entries(cases).map(([family, c]) => [
          `${family}/${c.file}`,
          `{{>papgate:${c.file}}}\n${c.line}\n`,
        ]),
      ),
      'patton/startup.cfg': `{{>papgate:startup.cfg}}\nsnmp community password ${S.tpl}\n`,
    });
    const defaults = path.join(dir, 'settings.json');
    fs.writeFileSync(
      defaults,
      JSON.stringify(
        Object.fromEntries(
          Object.entries(cases).map(([f, c]) => [f, [{ name: c.dflt[0], value: c.dflt[1] }]]),
        ),
      ),
    );
    try {
      const config = loadConfig({ PROVISIONING_TEMPLATES_DIR: dir, SETTINGS_DEFAULT_FILE: defaults });
      const templates = loadTemplates(config);
      await r.store().putTenant('acme', { name: 'acme', language: null }, 'test');
      const items = Object.fromEntries(
        Object.entries(cases).map(([f, c]) => [f, c.tenant.map(([name, value]) => ({ name, value }))]),
      );
      const put = await new Settings(r.client, { eventsMaxLen: 100 }).put(
        'acme',
        { scope: 'tenant' },
        parseLayerChange({ items }, true),
        'test',
        1024 * 1024,
      );
      assert.equal(typeof put, 'number', JSON.stringify(put));
      for (const c of [...Object.values(cases), { vendor: 'patton' as Vendor, model: 'SN4112' }]) {
        const device = {
          tenant: 'acme',
          site: '',
          mac: '001565aabbcd' as never,
          vendor: c.vendor,
          model: c.model,
          language: null,
          accounts: [ACCOUNT],
          sipPassword: 'restricted-secret-0123',
        };
        const e = await effectiveFile(config, templates, fileSettingsFor(config, r.client), device);
        assert.ok(e, c.vendor);
        assert.ok(
          e.sources.some((s) => s.origin !== 'papgate'),
          `${c.vendor}: the operator's template is used`,
        );
        assert.ok(e.body.includes(MASK), c.vendor);
        for (const secret of [...Object.values(S), '0x47,0x11'])
          assert.ok(!e.body.includes(secret), `${c.vendor} shows ${secret}:\n${e.body}`);
        if (c.vendor !== 'patton') {
          assert.ok(e.body.includes(`visible-${c.vendor}`), `${c.vendor}: a non-secret item is shown`);
          assert.ok(
            e.body.includes('dir.example') || e.body.includes('fw.example'),
            `${c.vendor}: the URL stays`,
          );
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

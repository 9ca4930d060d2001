/**
 * The operator review of the CLI and the API (issue 25): what an operator following the refusals
 * and the help must be able to do, through bin/papgate against a real admin server and Redis.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../src/lib/paths';
import { parseMac } from '../src/domain/mac';
import { startAdmin } from './support/admin';
import { TestRedis } from './support/redis';

const TOKEN = 'test-admin-token-operator-0123456789';
const MAC = '001565000c01';
const OTHER = '001565000c02';

describe('operator CLI and API', () => {
  const r = new TestRedis();
  let app: FastifyInstance;
  let base = '';
  let data = '';

  const call = async (
    method: string,
    url: string,
    body?: unknown,
    contentType = 'application/json',
    // Responses are checked field by field; a schema type per route would add nothing.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const events = async (type: string) =>
    ((await call('GET', '/api/v1/tenants/acme/events')).json.events as Record<string, string>[]).filter(
      (e) => e.type === type,
    );

  /** bin/papgate as an operator runs it, against this server unless `env` says otherwise. */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'papgate'),
        args,
        { env: { ...process.env, ADMIN_URL: base, ADMIN_TOKEN: TOKEN, DATA_DIR: data, ...env } },
        (e, out, err) => resolve({ code: e ? (e.code as number) : 0, out, err }),
      );
    });
  const file = (name: string, text: string) => {
    const f = path.join(data, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const add = (mac: string, site = 'HQ') =>
    call('POST', '/api/v1/tenants/acme/devices', { mac, vendor: 'yealink', model: 'T54W', site });

  before(async () => {
    await r.start();
    const s = await startAdmin(r, TOKEN);
    app = s.app;
    base = `http://127.0.0.1:${s.port}`;
    data = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-operator-'));
  });
  after(async () => {
    await app.close();
    await r.stop();
    fs.rmSync(data, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await r.flush();
    assert.equal((await call('POST', '/api/v1/tenants', { id: 'acme', name: 'Acme' })).status, 201);
    const site = await call('PUT', '/api/v1/tenants/acme/sites/HQ', { emergencyCallerId: '+493012345678' });
    assert.equal(site.status, 201, JSON.stringify(site.json));
    assert.equal((await add(MAC)).status, 201);
  });

  it('--unknown-site accept works where the refusal says: add, edit and import', async () => {
    const moved = await cli(['edit', 'acme', MAC, '--site', 'Annex']);
    assert.equal(moved.code, 1, moved.err);
    const message = JSON.parse(moved.out).message as string;
    assert.match(message, /CLI option --unknown-site accept \(add, edit, import\)/);
    assert.match(message, /API query \?unknownSite=accept/);
    const accepted = await cli(['edit', 'acme', MAC, '--site', 'Annex', '--unknown-site', 'accept']);
    assert.equal(accepted.code, 0, accepted.err);
    assert.equal(JSON.parse(accepted.out).site, 'Annex');
    const csv = file('annex.csv', `vendor,type,mac,site\nyealink,T54W,${OTHER},Annex\n`);
    const imported = await cli(['import', 'acme', csv]);
    assert.equal(imported.code, 1);
    assert.match(JSON.parse(imported.out).rows[0].reason, /--unknown-site accept/);
    const importedAccepted = await cli(['import', 'acme', csv, '--unknown-site', 'accept']);
    assert.equal(importedAccepted.code, 0, importedAccepted.err);
    assert.equal(JSON.parse(importedAccepted.out).created, 1);
  });

  it('settings --item adds to and replaces within the family; --remove-item; --replace', async () => {
    const layer = ['settings', 'acme', '--site', 'HQ', '--family', 'yealink'];
    assert.equal((await cli([...layer, '--item', 'a.one=1', '--item', 'a.two=2'])).code, 0);
    const set = await cli([...layer, '--item', 'a.two=22', '--item', 'a.three=3']);
    assert.equal(set.code, 0, set.err);
    const items = () =>
      call('GET', '/api/v1/tenants/acme/sites/HQ/settings').then((x) =>
        (x.json.items.yealink ?? []).map((i: { name: string; value: string }) => `${i.name}=${i.value}`),
      );
    assert.deepEqual(await items(), ['a.one=1', 'a.two=22', 'a.three=3'], 'a.one stays');
    assert.equal((await cli([...layer, '--remove-item', 'a.one'])).code, 0);
    assert.deepEqual(await items(), ['a.two=22', 'a.three=3']);
    const missing = await cli([...layer, '--remove-item', 'a.nine']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--remove-item a\.nine: the layer has no item of that name/);
    assert.equal((await cli([...layer, '--replace', '--item', 'b.one=1'])).code, 0);
    assert.deepEqual(await items(), ['b.one=1']);
    const alone = await cli(layer);
    assert.equal(alone.code, 2, 'a family alone no longer empties it');
    assert.deepEqual(await items(), ['b.one=1']);
    assert.equal((await cli([...layer, '--replace'])).code, 0);
    assert.deepEqual(await items(), []);
    const help = await cli(['help', 'settings']);
    assert.match(help.out, /--remove-item NAME/);
    assert.match(help.out, /replaces the one of the same name; the others stay/);
  });

  it('the same tenant values or settings again write and audit nothing, and answer as before', async () => {
    const first = await cli(['tenant', 'acme', '--name', 'Acme', '--language', 'de']);
    assert.equal(first.code, 0, first.err);
    const before = (await events('tenant_updated')).length;
    const again = await cli(['tenant', 'acme', '--name', 'Acme', '--language', 'de']);
    assert.equal(again.code, 0, again.err);
    assert.equal(JSON.parse(again.out).language, 'de');
    assert.equal((await events('tenant_updated')).length, before, 'no event for nothing changed');
    const settings = [
      'settings',
      'acme',
      '--family',
      'yealink',
      '--item',
      'x.y=1',
      '--ntp-server',
      'ntp.example',
    ];
    assert.equal((await cli(settings)).code, 0);
    const changes = (await events('settings_changed')).length;
    const sv = await r.client.hGet('papgate:{t:acme}:tenant', 'sv');
    const same = await cli(settings);
    assert.equal(same.code, 0, same.err);
    assert.deepEqual(JSON.parse(same.out).common, { ntpServer: 'ntp.example' });
    assert.equal((await events('settings_changed')).length, changes);
    assert.equal(await r.client.hGet('papgate:{t:acme}:tenant', 'sv'), sv, 'no new settings version');
  });

  it('tenant updates only (a typo creates nothing), --create creates, tenants lists', async () => {
    const typo = await cli(['tenant', 'acmee', '--name', 'Acme']);
    assert.equal(typo.code, 1);
    assert.match(typo.err, /no tenant "acmee".*papgate tenant acmee --create/);
    assert.equal((await call('GET', '/api/v1/tenants/acmee')).status, 404);
    const created = await cli(['tenant', 'beta', '--create', '--name', 'Beta']);
    assert.equal(created.code, 0, created.err);
    assert.equal(JSON.parse(created.out).name, 'Beta');
    const twice = await cli(['tenant', 'beta', '--create']);
    assert.equal(twice.code, 1);
    assert.match(twice.err, /tenant "beta" exists: change it without --create/);
    const list = await cli(['tenants']);
    assert.equal(list.code, 0, list.err);
    assert.deepEqual(
      JSON.parse(list.out).tenants.map((t: { id: string }) => t.id),
      ['acme', 'beta'],
    );
  });

  it('a reset names the whitelist entries that still let the device in', async () => {
    const clean = await cli(['reset', 'acme', MAC]);
    assert.equal(clean.code, 0, clean.err);
    assert.deepEqual(JSON.parse(clean.out).stillLetIn, []);
    assert.equal(clean.err, '');
    const pap = (await call('GET', `/api/v1/tenants/acme/devices/${MAC}`)).json.pap as string;
    const auth = await call('POST', '/api/v1/authenticate', { mac: MAC, pap, ip: '198.51.100.7' });
    assert.equal(auth.status, 200, JSON.stringify(auth.json));
    assert.equal(
      (await call('POST', '/api/v1/tenants/acme/whitelist', { entry: '203.0.113.0/24' })).status,
      201,
    );
    const reset = await cli(['reset', 'acme', MAC]);
    assert.equal(reset.code, 0, reset.err);
    const still = JSON.parse(reset.out).stillLetIn as Record<string, string>[];
    assert.deepEqual(
      still.map((e) => [e.via, e.ip ?? e.entry]),
      [
        ['temporary_whitelist', '198.51.100.7'],
        ['whitelist', '203.0.113.0/24'],
      ],
    );
    assert.match(reset.err, /papgate whitelist acme remove-temporary 198\.51\.100\.7 --site HQ;/);
    assert.match(reset.err, /papgate whitelist acme remove 203\.0\.113\.0\/24/);
  });

  it('an import of registered MACs says how to update; an update counts only the devices it changed', async () => {
    assert.equal((await add(OTHER)).status, 201);
    const both = await cli(['export', 'acme']);
    const again = await cli(['import', 'acme', file('same.csv', both.out)]);
    assert.equal(again.code, 1);
    const reason = JSON.parse(again.out).rows[0].reason as string;
    assert.match(reason, /MAC already registered in this tenant/);
    assert.match(reason, /\?mode=update \(CLI: import --update; console: the import's update box\)/);
    // One row of two changes: the first MAC's language.
    const lines = both.out.split('\r\n');
    const li = lines[0]!.split(',').indexOf('language');
    const rows = lines.map((l) => {
      if (!l.includes(MAC)) return l;
      const cells = l.split(',');
      cells[li] = 'de';
      return cells.join(',');
    });
    const upd = await cli(['import', 'acme', file('one.csv', rows.join('\r\n')), '--update']);
    assert.equal(upd.code, 0, upd.err);
    const res = JSON.parse(upd.out);
    assert.deepEqual([res.created, res.updated, res.unchanged], [0, 1, 1]);
    assert.equal((await r.store().getDevice('acme', parseMac(MAC)))!.language, 'de');
  });

  it("the README's first session works as written on a fresh service", async () => {
    await r.flush();
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const block = /## A first session[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    assert.match(block, /^bin\/papgate tenant acme --create /m);
    const script = block.replace(/^bin\/papgate /gm, `${path.join(PROJECT_ROOT, 'bin', 'papgate')} `);
    const res = await new Promise<{ code: number; err: string }>((resolve) =>
      execFile(
        'bash',
        ['-e', '-c', script],
        { cwd: data, env: { ...process.env, ADMIN_URL: base, ADMIN_TOKEN: TOKEN, DATA_DIR: data } },
        (e, _out, err) => resolve({ code: e ? (e.code as number) : 0, err }),
      ),
    );
    assert.equal(res.code, 0, res.err);
    assert.match(fs.readFileSync(path.join(data, 'pending.csv'), 'utf8'), /^vendor,type,mac,/);
    assert.equal((await call('GET', '/api/v1/tenants/acme')).json.name, 'Acme Ltd');
  });

  it('an empty ADMIN_TOKEN is an error, not the token file', async () => {
    fs.writeFileSync(path.join(data, 'admin-token'), `${TOKEN}\n`);
    const res = await cli(['tenants'], { ADMIN_TOKEN: '' });
    assert.equal(res.code, 2);
    assert.match(res.err, /ADMIN_TOKEN is set but empty/);
    assert.equal(res.out, '');
    fs.rmSync(path.join(data, 'admin-token'));
  });

  it('a device let in by a PIN bypass reads authenticatedVia pin_bypass; help says how long the window is', async () => {
    const s = r.store();
    await s.suspendDevice('acme', parseMac(MAC), 'admin');
    const d = (await s.getDevice('acme', parseMac(MAC)))!;
    const full = await s.recordFullProvisioning('acme', d.mac, {
      generation: d.generation,
      reason: 'suspension',
      credentialHash: 'cd'.repeat(32),
      ip: '192.0.2.1',
      file: 'f',
    });
    assert.equal(full, 'ok');
    const view = await cli(['get', 'acme', MAC]);
    assert.equal(JSON.parse(view.out).authenticatedVia, 'pin_bypass');
    assert.equal((await s.getDevice('acme', d.mac))!.authenticatedVia, 'suspension', 'stored as before');
    const help = await cli(['help', 'pin-bypass']);
    assert.match(help.out, /AUTH_SUSPEND_SECONDS \(default 1800: 30 minutes\)/);
  });

  it('the operator session lists the configuration warnings: the SIP side without EMERGENCY_ROUTE', async () => {
    assert.deepEqual((await call('GET', '/api/v1/session')).json.warnings, []);
    const sip = await startAdmin(r, TOKEN, {
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_SECRET: 'd'.repeat(24),
      FREESWITCH_SECRET: 'f'.repeat(24),
    });
    try {
      const res = await fetch(`http://127.0.0.1:${sip.port}/api/v1/session`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const warnings = ((await res.json()) as { warnings: string[] }).warnings;
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /^EMERGENCY_ROUTE is not set: emergency calls are refused/);
    } finally {
      await sip.app.close();
    }
  });
});

/**
 * Admin writes that must lose nothing: partial tenant updates, creation that refuses an existing
 * id, what a tenant token may change, and audit events that say what changed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../src/lib/paths';
import { parseMac } from '../src/domain/mac';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { startAdmin } from './support/admin';
import { ACCOUNT, credentialIn, ProvisioningFixture, request } from './support/http';
import { TestRedis } from './support/redis';

const TOKEN = 'test-admin-token-writes-0123456789';

describe('admin writes', () => {
  const r = new TestRedis();
  let app: FastifyInstance;
  let base = '';

  const call = async (
    method: string,
    url: string,
    body?: unknown,
    token = TOKEN,
    // Responses are checked field by field; a schema type per route would add nothing.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const events = async (type: string) =>
    ((await call('GET', '/api/v1/tenants/acme/events')).json.events as Record<string, string>[]).filter(
      (e) => e.type === type,
    );

  /** bin/papgate as an operator runs it, against this server unless `env` says otherwise (undefined: unset). */
  const cli = (args: string[], env: Record<string, string | undefined> = {}) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const all = { ...process.env, ADMIN_URL: base, ADMIN_TOKEN: TOKEN, DATA_DIR: os.tmpdir(), ...env };
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'papgate'),
        args,
        { env: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) },
        (e, out, err) => resolve({ code: e ? (e.code as number) : 0, out, err }),
      );
    });

  before(async () => {
    await r.start();
    const s = await startAdmin(r, TOKEN);
    app = s.app;
    base = `http://127.0.0.1:${s.port}`;
  });
  after(async () => {
    await app.close();
    await r.stop();
  });
  beforeEach(async () => {
    await r.flush();
    const created = await call('PUT', '/api/v1/tenants/acme', {
      name: 'Acme Ltd',
      language: 'de',
      timeZone: 'Europe/Berlin',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
  });

  describe('tenants', () => {
    it('PATCH changes only the fields given and audits each change with its old value', async () => {
      const res = await call('PATCH', '/api/v1/tenants/acme', { timeZone: 'Europe/Vienna' });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.name, 'Acme Ltd');
      assert.equal(res.json.language, 'de');
      assert.equal(res.json.timeZone, 'Europe/Vienna');
      const [updated] = await events('tenant_updated');
      assert.equal(updated!.changed, 'timeZone');
      assert.equal(updated!.timeZone, 'Europe/Vienna');
      assert.equal(updated!.previousTimeZone, 'Europe/Berlin');
      assert.equal(updated!.name, undefined, 'an unchanged field is not in the event');
      assert.match(updated!.actor!, /^operator@/);
    });

    it('PUT without a field keeps it, and its audit event names old and new name', async () => {
      const res = await call('PUT', '/api/v1/tenants/acme', { name: 'Acme GmbH' });
      assert.equal(res.status, 200);
      assert.equal(res.json.timeZone, 'Europe/Berlin');
      assert.equal(res.json.language, 'de');
      const [updated] = await events('tenant_updated');
      assert.equal(updated!.changed, 'name');
      assert.equal(updated!.previousName, 'Acme Ltd');
      assert.equal(updated!.name, 'Acme GmbH');
      const [created] = await events('tenant_created');
      assert.equal(created!.changed, 'name,language,timeZone');
    });

    it('PATCH of a tenant that does not exist is 404 and creates nothing', async () => {
      const res = await call('PATCH', '/api/v1/tenants/nobody', { name: 'Nobody' });
      assert.equal(res.status, 404);
      assert.equal(res.json.error, 'unknown_tenant');
      assert.equal((await call('GET', '/api/v1/tenants/nobody')).status, 404);
    });

    it('POST /tenants creates a tenant and refuses an existing id, which stays as it was', async () => {
      const taken = await call('POST', '/api/v1/tenants', { id: 'acme', name: 'Other' });
      assert.equal(taken.status, 409);
      assert.equal(taken.json.error, 'tenant_exists');
      assert.equal(taken.json.field, 'tenant');
      const acme = (await call('GET', '/api/v1/tenants/acme')).json;
      assert.equal(acme.name, 'Acme Ltd');
      assert.equal(acme.timeZone, 'Europe/Berlin');
      const fresh = await call('POST', '/api/v1/tenants', { id: 'beta', name: 'Beta', language: 'en' });
      assert.equal(fresh.status, 201, JSON.stringify(fresh.json));
      assert.equal(fresh.json.id, 'beta');
      assert.equal(fresh.json.language, 'en');
      const noId = await call('POST', '/api/v1/tenants', { name: 'No id' });
      assert.equal(noId.status, 400);
      assert.equal(noId.json.field, 'tenant');
    });

    it('a tenant token changes its language and time zone, not its name, and creates no tenant', async () => {
      const token = (await call('POST', '/api/v1/tenants/acme/tokens', { name: 'acme-it' })).json
        .token as string;
      const rename = await call('PATCH', '/api/v1/tenants/acme', { name: 'Evil Corp' }, token);
      assert.equal(rename.status, 403);
      assert.equal(rename.json.field, 'name');
      const viaPut = await call('PUT', '/api/v1/tenants/acme', { name: 'Evil Corp' }, token);
      assert.equal(viaPut.status, 403);
      assert.equal((await call('GET', '/api/v1/tenants/acme')).json.name, 'Acme Ltd');
      // As GET answered it, the name may be sent back.
      const ok = await call('PATCH', '/api/v1/tenants/acme', { name: 'Acme Ltd', language: 'en' }, token);
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.language, 'en');
      const [updated] = await events('tenant_updated');
      assert.match(updated!.actor!, /^token:acme-it@/);
      assert.equal(updated!.changed, 'language');
      assert.equal(updated!.previousLanguage, 'de');
      assert.equal((await call('POST', '/api/v1/tenants', { id: 'gamma' }, token)).status, 403);
      assert.equal((await call('GET', '/api/v1/tenants/gamma')).status, 404);
    });
  });

  describe('CLI', () => {
    it('refuses an unknown option, naming it and the one meant, and changes nothing', async () => {
      const res = await cli(['tenant', 'acme', '--timezone', 'Europe/Vienna']);
      assert.equal(res.code, 2, res.err);
      assert.match(res.err, /unknown option --timezone \(did you mean --time-zone\?\)/);
      assert.match(res.err, /papgate tenant <tenant>/, 'the usage of the command');
      assert.equal((await call('GET', '/api/v1/tenants/acme')).json.timeZone, 'Europe/Berlin');
      assert.equal((await cli(['get', 'acme', '001565000001', '--site', 'HQ'])).code, 2);
      assert.equal((await cli(['get', 'acme', '001565000001', 'extra'])).code, 2);
    });

    it("re-running the README's tenant command keeps the time zone; --time-zone sets it alone", async () => {
      const zone = await cli(['tenant', 'acme', '--time-zone', 'Europe/Vienna']);
      assert.equal(zone.code, 0, zone.err);
      assert.deepEqual(JSON.parse(zone.out).name, 'Acme Ltd');
      const again = await cli(['tenant', 'acme', '--name', 'Acme Ltd', '--language', 'de']);
      assert.equal(again.code, 0, again.err);
      const t = (await call('GET', '/api/v1/tenants/acme')).json;
      assert.deepEqual([t.name, t.language, t.timeZone], ['Acme Ltd', 'de', 'Europe/Vienna']);
    });

    it('every command has help, as `COMMAND --help` and as `help COMMAND`', async () => {
      const all = await cli(['help']);
      assert.equal(all.code, 0);
      const commands = [...all.out.matchAll(/^ {2}papgate (\w+) /gm)]
        .map((m) => m[1]!)
        .filter((c) => c !== 'help');
      assert.ok(commands.length >= 12, all.out);
      for (const c of commands) {
        const own = await cli([c, '--help']);
        assert.equal(own.code, 0, `${c} --help: ${own.err}`);
        assert.match(own.out, new RegExp(`^papgate ${c} `), c);
        assert.equal((await cli(['help', c])).out, own.out);
      }
      assert.equal((await cli(['tenant', 'acme', '-h'])).code, 0, 'help wins over the rest');
      assert.equal((await call('GET', '/api/v1/tenants/acme')).json.name, 'Acme Ltd');
    });

    it('with the service down, names the URL it tried and what to check', async () => {
      // A loopback port that was free a moment ago: nothing listens there.
      const free = await new Promise<number>((resolve) => {
        const srv = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = srv.address() as net.AddressInfo;
          srv.close(() => resolve(port));
        });
      });
      const url = `http://127.0.0.1:${free}`;
      const res = await cli(['list', 'acme'], { ADMIN_URL: url });
      assert.equal(res.code, 3, res.err);
      assert.ok(res.err.includes(`cannot reach the admin API at ${url} (ECONNREFUSED)`), res.err);
      assert.match(res.err, /is papgate running, and does ADMIN_URL/);
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-cli-'));
      const noToken = await cli(['list', 'acme'], { ADMIN_TOKEN: undefined, DATA_DIR: data });
      assert.equal(noToken.code, 2);
      assert.ok(noToken.err.includes(path.join(data, 'admin-token')), noToken.err);
      fs.rmSync(data, { recursive: true, force: true });
    });
  });

  describe('device edit', () => {
    const MAC = '001565000a01';
    const dev = `/api/v1/tenants/acme/devices/${MAC}`;
    const account = {
      server: 'sip.example.net',
      user: '100',
      password: 'secret-100',
      displayName: 'Reception',
    };
    const add = async () => {
      const res = await call('POST', '/api/v1/tenants/acme/devices', {
        mac: MAC,
        vendor: 'yealink',
        model: 'T54W',
        site: 'HQ',
        accounts: [account],
      });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return res.json.pap as string;
    };
    const stored = async () => (await r.store().getDevice('acme', parseMac(MAC)))!;

    it('changes site, model, language and accounts; the PAP, the state and unsent passwords stay', async () => {
      const pap = await add();
      const res = await call('PATCH', dev, {
        site: 'Annex',
        model: 'T57W',
        language: 'de',
        accounts: [
          { server: 'sip.example.net', user: '100', displayName: 'Front desk' },
          { server: 'sip.example.net', user: '101', password: 'secret-101' },
        ],
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual([res.json.site, res.json.model, res.json.language], ['Annex', 'T57W', 'de']);
      assert.equal(res.json.pap, pap, 'the same PAP, so the printed sheet still holds');
      assert.equal(res.json.state, 'needed');
      const d = await stored();
      assert.deepEqual(
        d.accounts.map((a) => [a.user, a.password, a.displayName]),
        [
          ['100', 'secret-100', 'Front desk'],
          ['101', 'secret-101', undefined],
        ],
      );
      const [e] = await events('device_edited');
      assert.equal(e!.mac, MAC);
      assert.equal(e!.changed, 'site,model,language,accounts');
      assert.deepEqual(
        [e!.previousSite, e!.site, e!.previousModel, e!.model],
        ['HQ', 'Annex', 'T54W', 'T57W'],
      );
      assert.equal(e!.previousAccounts, '100@sip.example.net "Reception"');
      assert.equal(e!.accounts, '100@sip.example.net "Front desk"; 101@sip.example.net');
      assert.equal(e!.passwordsChanged, '101@sip.example.net', 'the new account, named without its password');
      const trail = JSON.stringify((await call('GET', '/api/v1/tenants/acme/events')).json);
      assert.ok(!trail.includes('secret-10'), 'a password reached the audit trail');
      // The PAP still works after the edit.
      const auth = await call('POST', '/api/v1/authenticate', { mac: MAC, pap });
      assert.equal(auth.json.outcome, 'successful', JSON.stringify(auth.json));
    });

    it('refuses what it cannot do, naming the field, and writes nothing', async () => {
      await add();
      const cases: [unknown, string, RegExp][] = [
        [{ vendor: 'snom' }, 'vendor', /delete the device and add it again/],
        [{ mac: '001565000a02' }, 'mac', /delete the device and add it again/],
        [{ pap: '123456' }, 'pap', /cannot be edited/],
        [
          { accounts: [{ server: 'sip.example.net', user: '102' }] },
          'accounts[0].password',
          /password is required/,
        ],
        [{ site: '' }, 'site', /site is required/],
        [{ language: 'fr' }, 'language', /language/],
        [{ model: 'T'.repeat(65) }, 'model', /longer than 64/],
      ];
      for (const [body, field, message] of cases) {
        const res = await call('PATCH', dev, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.json.field, field, JSON.stringify(res.json));
        assert.match(res.json.message, message);
      }
      const d = await stored();
      assert.deepEqual([d.site, d.model, d.accounts.length], ['HQ', 'T54W', 1]);
      assert.deepEqual(await events('device_edited'), []);
      assert.equal(
        (await call('PATCH', '/api/v1/tenants/acme/devices/001565000a09', { site: 'X' })).status,
        404,
      );
      // Sent back as read: nothing changes, nothing is audited.
      const same = await call('PATCH', dev, { site: 'HQ', accounts: (await call('GET', dev)).json.accounts });
      assert.equal(same.status, 200);
      assert.deepEqual(await events('device_edited'), []);
      assert.equal((await stored()).accounts[0]!.password, 'secret-100');
    });

    it('a password sent is changed and named in the audit, never shown', async () => {
      await add();
      const res = await call('PATCH', dev, { accounts: [{ ...account, password: 'secret-new' }] });
      assert.equal(res.status, 200);
      assert.equal((await stored()).accounts[0]!.password, 'secret-new');
      const [e] = await events('device_edited');
      assert.equal(e!.changed, 'accounts');
      assert.equal(e!.passwordsChanged, '100@sip.example.net');
      assert.equal(e!.accounts, e!.previousAccounts);
      assert.ok(!JSON.stringify(res.json).includes('secret'));
    });

    it('the CLI edits a device', async () => {
      await add();
      const res = await cli([
        'edit',
        'acme',
        MAC,
        '--site',
        'Annex',
        '--account',
        'server=sip.example.net,user=100,displayName=Lobby',
      ]);
      assert.equal(res.code, 0, res.err);
      assert.equal(JSON.parse(res.out).site, 'Annex');
      const d = await stored();
      assert.deepEqual([d.accounts[0]!.displayName, d.accounts[0]!.password], ['Lobby', 'secret-100']);
      const bad = await cli(['edit', 'acme', MAC, '--vendor', 'snom']);
      assert.equal(bad.code, 2);
    });
  });

  describe('CSV', () => {
    const csvCall = async (method: string, url: string, body?: string) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'text/csv' }),
        },
        body,
      });
      const text = await res.text();
      return {
        status: res.status,
        text,
        json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null,
      };
    };
    const HEADER = 'vendor,type,mac,site,language,sip_server,sip_user,sip_password,display_name';
    const addTwo = async () => {
      for (const [mac, user] of [
        ['001565000b01', '201'],
        ['001565000b02', '202'],
      ] as const) {
        const res = await call('POST', '/api/v1/tenants/acme/devices', {
          mac,
          vendor: 'yealink',
          model: 'T54W',
          site: 'HQ',
          language: 'de',
          accounts: [
            { server: 'sip.example.net', user, password: `pw-${user}`, displayName: `Desk ${user}` },
            { server: 'sip2.example.net', user: `${user}b`, password: `pw-${user}b` },
          ],
        });
        assert.equal(res.status, 201, JSON.stringify(res.json));
      }
    };

    it('names every error of a file in one answer, each beside its column', async () => {
      await addTwo();
      const file = [
        HEADER,
        'yealink,T54W,001565000c01,HQ,,sip.example.net,300,,Lobby',
        'yealink,T54W,001565000b01,HQ,,,,,',
        'nokia,3310,001565000c02,HQ,,,,,',
        'yealink,T54W,001565000c03,HQ,,,,,',
      ].join('\n');
      const res = await csvCall('POST', '/api/v1/tenants/acme/devices.csv', file);
      assert.equal(res.status, 400, res.text);
      assert.deepEqual(
        res.json.rows.map((r: { line: number; column?: string }) => [r.line, r.column]),
        [
          [2, 'sip_password'],
          [3, 'mac'],
          [4, 'vendor'],
        ],
      );
      assert.match(res.json.rows[1].reason, /MAC already registered in this tenant/);
      assert.equal((await call('GET', '/api/v1/tenants/acme/devices')).json.total, 2, 'nothing written');
    });

    it('exports accounts and language; passwords only when asked, and the audit says so', async () => {
      await addTwo();
      const plain = await csvCall('GET', '/api/v1/tenants/acme/devices.csv');
      const [head, first] = plain.text.trimEnd().split('\r\n');
      const cols = head!.split(',');
      const cell = (line: string, c: string) => line.split(',')[cols.indexOf(c)];
      assert.deepEqual(
        ['language', 'sip_server', 'sip_user', 'sip_password', 'display_name'].map((c) => cell(first!, c)),
        ['de', 'sip.example.net', '201', '', 'Desk 201'],
      );
      assert.ok(!plain.text.includes('pw-'), 'a password in an export not asked for');
      const secret = await csvCall('GET', '/api/v1/tenants/acme/devices.csv?passwords=true');
      assert.equal(cell(secret.text.split('\r\n')[1]!, 'sip_password'), 'pw-201');
      const exports = await events('csv_exported');
      assert.deepEqual(
        exports.map((e) => e.passwords),
        ['true', undefined],
      );
      assert.equal((await csvCall('GET', '/api/v1/tenants/acme/devices.csv?passwords=yes')).status, 400);
    });

    it('export, edit, import with mode=update updates the devices, keeping PAPs and unsent passwords', async () => {
      await addTwo();
      const paps = (await call('GET', '/api/v1/tenants/acme/devices')).json.devices.map(
        (d: { pap: string }) => d.pap,
      );
      const exported = (await csvCall('GET', '/api/v1/tenants/acme/devices.csv')).text;
      const edited =
        exported.replace(/,HQ,/g, ',Annex,').replace('Desk 201', 'Front desk') +
        'snom,D785,000413000c09,,Annex,,,,sip.example.net,209,,pw-209,\r\n';
      const refused = await csvCall('POST', '/api/v1/tenants/acme/devices.csv', edited);
      assert.equal(
        refused.status,
        409,
        `existing MACs are an error unless the import updates: ${refused.text}`,
      );
      assert.equal(refused.json.rows.length, 2);
      const res = await csvCall('POST', '/api/v1/tenants/acme/devices.csv?mode=update', edited);
      assert.equal(res.status, 201, res.text);
      assert.deepEqual([res.json.created, res.json.updated], [1, 2]);
      const store = r.store();
      const d1 = (await store.getDevice('acme', parseMac('001565000b01')))!;
      assert.equal(d1.site, 'Annex');
      assert.equal(d1.language, 'de');
      assert.deepEqual(
        d1.accounts.map((a) => [a.user, a.password, a.displayName]),
        [
          ['201', 'pw-201', 'Front desk'],
          ['201b', 'pw-201b', undefined],
        ],
        'the first account edited, its password kept; the second account kept',
      );
      const after = (await call('GET', '/api/v1/tenants/acme/devices')).json.devices;
      assert.deepEqual(
        after.slice(0, 2).map((d: { pap: string }) => d.pap),
        paps,
        'the same PAPs',
      );
      const edits = await events('device_edited');
      assert.equal(edits.length, 2);
      assert.ok(!JSON.stringify(edits).includes('pw-'));
      // A vendor that differs is refused, beside its column.
      const vendor = await csvCall(
        'POST',
        '/api/v1/tenants/acme/devices.csv?mode=update',
        `${HEADER}\nsnom,D785,001565000b01,HQ,,,,,\n`,
      );
      assert.equal(vendor.status, 400);
      assert.equal(vendor.json.rows[0].column, 'vendor');
    });

    it('the CLI exports with --with-passwords and imports with --update', async () => {
      await addTwo();
      const exp = await cli(['export', 'acme', '--with-passwords']);
      assert.equal(exp.code, 0, exp.err);
      assert.ok(exp.out.includes('pw-201'));
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-csv-'));
      const file = path.join(data, 'devices.csv');
      fs.writeFileSync(file, exp.out.replace(/,HQ,/g, ',Annex,'));
      assert.equal((await cli(['import', 'acme', file])).code, 1);
      const upd = await cli(['import', 'acme', file, '--update']);
      assert.equal(upd.code, 0, upd.out);
      assert.equal(JSON.parse(upd.out).updated, 2);
      assert.equal((await r.store().getDevice('acme', parseMac('001565000b02')))!.site, 'Annex');
      fs.rmSync(data, { recursive: true, force: true });
    });
  });
});

describe('device edit: the phone holding a full file', () => {
  const f = new ProvisioningFixture();
  let admin: FastifyInstance;
  let adminPort = 0;
  const MAC = '001565aabbcc';
  const FILE = `/${MAC}.cfg`;
  before(async () => {
    await f.start();
    ({ app: admin, port: adminPort } = await startAdmin(f.redis, TOKEN));
  });
  after(async () => {
    await admin.close();
    await f.stop();
  });

  it('gets the edited accounts on its next fetch, with the credential it holds and its password kept', async () => {
    await f.device('yealink', 'T54W', MAC);
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.3'), 'test');
    const first = await request(f.port, FILE, { from: '127.0.0.3' });
    const credential = credentialIn(first.body)!;
    assert.ok(credential, first.body);
    assert.ok(first.body.includes(ACCOUNT.displayName!));
    const edit = await request(adminPort, `/api/v1/tenants/acme/devices/${MAC}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ accounts: [{ ...ACCOUNT, password: undefined, displayName: 'Front Desk' }] }),
    });
    assert.equal(edit.status, 200, edit.body);
    assert.equal(JSON.parse(edit.body).state, 'successful', 'the edit keeps the authentication');
    const next = await request(f.port, `/d/${credential}${FILE}`, { from: '127.0.0.2' });
    assert.equal(next.status, 200);
    assert.ok(next.body.includes('Front Desk'), 'the new display name');
    assert.ok(!next.body.includes(ACCOUNT.displayName!), 'not a kept body of before the edit');
    assert.ok(next.body.includes(ACCOUNT.password), 'the password the edit did not send');
    assert.equal(credentialIn(next.body), credential, 'the same credential: no reset');
  });
});

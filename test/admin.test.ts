import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { openApiDocument } from '../src/admin/openapi';
import { loadConfig } from '../src/config';
import { PROJECT_ROOT } from '../src/lib/paths';
import { parseMac } from '../src/domain/mac';
import { generateDeviceCredential, hashCredential } from '../src/domain/pap';
import { TestRedis, silentLog } from './support/redis';

const TOKEN = 'test-admin-token-0123456789';

describe('admin API over HTTP', () => {
  const r = new TestRedis();
  let app: FastifyInstance;
  let base = '';
  const routes: string[] = [];

  const http = async (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const isText = typeof body === 'string';
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'content-type': isText ? 'text/csv' : 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : isText ? body : JSON.stringify(body),
    });
    const text = await res.text();
    // Responses are checked field by field in the tests; a full schema type per route would add nothing.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* CSV or empty */
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  const addDevice = (tenant: string, mac: string, extra: Record<string, unknown> = {}) =>
    http('POST', `/api/v1/tenants/${tenant}/devices`, {
      mac,
      vendor: 'yealink',
      model: 'T54W',
      site: 'HQ',
      ...extra,
    });

  before(async () => {
    await r.start();
    const config = loadConfig({ ADMIN_TOKEN: TOKEN, MAX_BODY_BYTES: '4096' });
    app = createAdminServer({ config, store: r.store(), log: silentLog, adminToken: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    // The API routes are registered by a plugin, which runs when the server starts.
    routes.push(...(app as unknown as { papgateRoutes: string[] }).papgateRoutes);
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    await r.stop();
  });
  beforeEach(async () => {
    await r.flush();
    assert.equal((await http('PUT', '/api/v1/tenants/acme', { name: 'Acme', language: 'de' })).status, 201);
  });

  it('a whitelist beyond WHITELIST_MAX_ENTRIES is refused with 409 whitelist_full, and nothing changes', async () => {
    const small = createAdminServer({
      config: loadConfig({ ADMIN_TOKEN: TOKEN, WHITELIST_MAX_ENTRIES: '3' }),
      store: r.store(),
      log: silentLog,
      adminToken: TOKEN,
    });
    await small.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(small.server.address() as AddressInfo).port}/api/v1/tenants/acme/whitelist`;
      const add = async (entry: string) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ entry }),
        });
        return { status: res.status, json: (await res.json()) as { error?: string; message?: string } };
      };
      for (const e of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
        assert.equal((await add(e)).status, 201);
      const full = await add('198.51.100.4');
      assert.deepEqual([full.status, full.json.error], [409, 'whitelist_full']);
      assert.match(full.json.message!, /holds 3 entries.*WHITELIST_MAX_ENTRIES.*remove one/);
      assert.equal((await add('198.51.100.2')).status, 200, 'an entry listed already is no addition');
      const listed = (await http('GET', '/api/v1/tenants/acme/whitelist')).json.entries;
      assert.deepEqual(listed, ['198.51.100.1', '198.51.100.2', '198.51.100.3']);
      const events = (await http('GET', '/api/v1/tenants/acme/events?count=50')).json.events;
      assert.equal(events.filter((e: { type: string }) => e.type === 'whitelist_added').length, 3);
    } finally {
      await small.close();
    }
  });

  it('answers 401 without the right bearer token', async () => {
    for (const auth of ['', 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await http('GET', '/api/v1/tenants/acme/devices', undefined, { authorization: auth });
      assert.equal(res.status, 401, auth);
      assert.equal(res.json.error, 'unauthorized');
    }
    assert.equal(
      (
        await http(
          'POST',
          '/api/v1/authenticate',
          { mac: '001565aabbcc', pap: '123456' },
          { authorization: '' },
        )
      ).status,
      401,
    );
  });

  it('adds a device: 201 with canonical MAC, PAP and state, never the account passwords', async () => {
    const res = await addDevice('acme', '00-15-65-AA-BB-CC', {
      accounts: [{ server: 'sip.example.net', user: '100', password: 's3cret-pw', displayName: 'Reception' }],
    });
    assert.equal(res.status, 201);
    assert.equal(res.json.mac, '001565aabbcc');
    assert.match(res.json.pap, /^[0-9]{6}$/);
    assert.equal(res.json.state, 'needed');
    assert.ok(!res.text.includes('s3cret-pw'));
    assert.deepEqual(res.json.accounts, [
      { server: 'sip.example.net', user: '100', displayName: 'Reception' },
    ]);
    const got = await http('GET', '/api/v1/tenants/acme/devices/00:15:65:aa:bb:cc');
    assert.equal(got.json.pap, res.json.pap, 'admins read the PAP on the device while not successful');
    assert.ok(!got.text.includes('s3cret-pw'));
  });

  it('refuses bad input with a 4xx naming the problem, and changes nothing', async () => {
    await addDevice('acme', '001565aabbcc');
    const cases: [string, string, unknown, number, RegExp][] = [
      [
        'POST',
        '/api/v1/tenants/acme/devices',
        { mac: '00:15:65:aa:bb', vendor: 'yealink', model: 'x', site: 's' },
        400,
        /invalid MAC/,
      ],
      [
        'POST',
        '/api/v1/tenants/acme/devices',
        { mac: '001565aabbcd', vendor: 'nokia', model: 'x', site: 's' },
        400,
        /vendor must be one of/,
      ],
      [
        'POST',
        '/api/v1/tenants/acme/devices',
        { mac: '001565aabbcc', vendor: 'yealink', model: 'T54W', site: 's' },
        409,
        /already registered in this tenant/,
      ],
      [
        'POST',
        '/api/v1/tenants/nope/devices',
        { mac: '001565aabbce', vendor: 'yealink', model: 'T54W', site: 's' },
        404,
        /tenant "nope" does not exist/,
      ],
      // Models whose configuration has another format or schema (docs/phones.md, the vendor table).
      ...(
        [
          ['snom', 'M700', /model M700 of snom is not supported.*supported: desk phones/],
          ['snom', 'M500KLE', /model M500KLE of snom is not supported/],
          ['snom', 'C520', /model C520 of snom is not supported/],
          [
            'gigaset',
            'N870 IP PRO',
            /model N870 IP PRO of gigaset is not supported.*N510 IP PRO, N720 DM PRO/,
          ],
          ['cisco', 'ATA191', /model ATA191 of cisco is not supported.*SPA112, SPA122/],
        ] as const
      ).map(([vendor, model, re]): [string, string, unknown, number, RegExp] => [
        'POST',
        '/api/v1/tenants/acme/devices',
        { mac: '001565aabbd0', vendor, model, site: 's' },
        400,
        re,
      ]),
      ['PUT', '/api/v1/tenants/Bad{Tenant}', {}, 400, /invalid tenant id/],
      ['GET', '/api/v1/tenants/acme/devices/zz', undefined, 400, /invalid MAC/],
      ['GET', '/api/v1/tenants/acme/devices/001565000000', undefined, 404, /does not exist/],
      ['GET', '/api/v1/tenants/acme/devices?state=happy', undefined, 400, /state must be one of/],
      ['POST', '/api/v1/tenants/acme/whitelist', { entry: '198.51.100.0/33' }, 400, /invalid CIDR/],
      ['POST', '/api/v1/tenants/acme/whitelist', { entry: '198.51.100.9/24' }, 400, /host bits/],
      ['POST', '/api/v1/tenants/acme/whitelist', {}, 400, /entry is required/],
      ['DELETE', '/api/v1/tenants/acme/whitelist/203.0.113.1', undefined, 404, /not on the whitelist/],
      ['POST', '/api/v1/authenticate', { mac: '001565aabbcc', pap: '12345' }, 400, /6 digits/],
      [
        'POST',
        '/api/v1/authenticate',
        { mac: '001565aabbcc', pap: '123456', ip: '1.2.3' },
        400,
        /invalid IP/,
      ],
      ['POST', '/api/v1/authenticate', { mac: '001565000000', pap: '123456' }, 404, /does not exist/],
    ];
    for (const [method, url, body, status, re] of cases) {
      const res = await http(method, url, body);
      assert.equal(res.status, status, `${method} ${url} ${JSON.stringify(body)}: ${res.text}`);
      assert.match(res.json.message, re, `${method} ${url}`);
    }
    const malformed = await fetch(`${base}/api/v1/tenants/acme/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"mac": ',
    });
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { message: string }).message, /JSON/i);
    const big = await addDevice('acme', '001565aabbcf', { site: 'x'.repeat(5000) });
    assert.equal(big.status, 413);
    const list = await http('GET', '/api/v1/tenants/acme/devices');
    assert.deepEqual(
      list.json.devices.map((d: { mac: string }) => d.mac),
      ['001565aabbcc'],
      'nothing else was written',
    );
    assert.deepEqual((await http('GET', '/api/v1/tenants/acme/whitelist')).json.entries, []);
    assert.equal(
      (await http('GET', '/api/v1/tenants/acme/devices/001565aabbcc')).json.totalFailures,
      0,
      'a malformed PAP counts as no attempt',
    );
  });

  it('a MAC registered in one tenant cannot be added to another', async () => {
    await http('PUT', '/api/v1/tenants/other', {});
    await addDevice('acme', '001565aabbcc');
    assert.equal((await addDevice('other', '00:15:65:AA:BB:CC')).status, 409);
  });

  it('filters the list by state and site', async () => {
    await addDevice('acme', '001565000001', { site: 'Berlin' });
    await addDevice('acme', '001565000002', { site: 'Munich' });
    const c = await addDevice('acme', '001565000003', { site: 'Berlin' });
    await http('POST', '/api/v1/authenticate', { mac: '001565000003', pap: c.json.pap });
    const macs = async (q: string) =>
      (await http('GET', `/api/v1/tenants/acme/devices${q}`)).json.devices.map((d: { mac: string }) => d.mac);
    assert.deepEqual(await macs('?site=Berlin'), ['001565000001', '001565000003']);
    assert.deepEqual(await macs('?state=needed'), ['001565000001', '001565000002']);
    assert.deepEqual(await macs('?state=successful&site=Berlin'), ['001565000003']);
    const shown = await http('GET', '/api/v1/tenants/acme/devices/001565000003');
    assert.equal(shown.json.pap, null, 'no PAP once successful');
  });

  it('authenticate: outcomes, attempts left, lock, and the temporary whitelist', async () => {
    const d = await addDevice('acme', '001565aabbcc');
    const wrong = d.json.pap === '000000' ? '111111' : '000000';
    const a1 = await http('POST', '/api/v1/authenticate', { mac: '001565aabbcc', pap: wrong });
    assert.deepEqual([a1.status, a1.json.outcome, a1.json.attemptsLeft], [200, 'wrong_pap', 2]);
    const ok = await http('POST', '/api/v1/authenticate', {
      mac: '00:15:65:aa:bb:cc',
      pap: d.json.pap,
      ip: '::ffff:198.51.100.77',
    });
    assert.deepEqual(
      [ok.json.outcome, ok.json.state, ok.json.whitelistedIp],
      ['successful', 'successful', '198.51.100.77'],
    );
    const tmp = await http('GET', '/api/v1/tenants/acme/whitelist/temporary');
    assert.equal(tmp.json.entries[0].ip, '198.51.100.77');
    assert.ok(Date.parse(tmp.json.entries[0].expiresAt) > Date.now());
    assert.equal(
      (await http('POST', '/api/v1/authenticate', { mac: '001565aabbcc', pap: d.json.pap })).json.outcome,
      'not_required',
    );
    const e = await addDevice('acme', '001565aabbcd');
    const wrongE = e.json.pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 2; i++)
      await http('POST', '/api/v1/authenticate', { mac: '001565aabbcd', pap: wrongE });
    const locked = await http('POST', '/api/v1/authenticate', { mac: '001565aabbcd', pap: wrongE });
    assert.equal(locked.json.outcome, 'failed');
    assert.ok(Date.parse(locked.json.failedUntil) > Date.now());
    assert.equal(
      (await http('POST', '/api/v1/authenticate', { mac: '001565aabbcd', pap: e.json.pap })).json.outcome,
      'failed',
      'no PAP accepted while failed',
    );
  });

  it('a PAP check without ip whitelists nothing, not the last address that fetched the file', async () => {
    const d = await addDevice('acme', '001565aabbce');
    await r.store().recordProvisioning('acme', parseMac('001565aabbce'), {
      ip: '203.0.113.66',
      outcome: 'minimal',
      reason: 'needed',
      file: '001565aabbce.cfg',
    });
    const ok = await http('POST', '/api/v1/authenticate', { mac: '001565aabbce', pap: d.json.pap });
    assert.deepEqual([ok.json.outcome, ok.json.whitelistedIp], ['successful', null]);
    assert.deepEqual((await http('GET', '/api/v1/tenants/acme/whitelist/temporary')).json.entries, []);
  });

  it('refuses a tenant or site name that looks like another of its scope (the drill: four "Beta"s)', async () => {
    assert.equal((await http('PUT', '/api/v1/tenants/beta', { name: 'Beta' })).status, 201);
    for (const [name, status] of [
      ['Beta\u200c', 400],
      ['Be\u200dta', 400],
      ['Beta\u200c\u200c\u200c', 400],
      ['B\u0435ta', 409],
      ['BETA', 409],
      ['Beta', 409],
    ] as const) {
      const res = await http('PUT', '/api/v1/tenants/beta2', { name });
      assert.equal(res.status, status, JSON.stringify(name));
      assert.equal(res.json.field, 'name');
      if (status === 409) {
        assert.equal(res.json.error, 'name_looks_alike');
        assert.match(res.json.message, /looks like "Beta", the name of tenant "beta"/);
      }
    }
    assert.equal((await http('GET', '/api/v1/tenants/beta2')).status, 404, 'nothing created');
    // Renaming into a look-alike is refused as well; keeping or changing the own name is not.
    assert.equal((await http('PUT', '/api/v1/tenants/acme', { name: 'B\u0435ta' })).status, 409);
    assert.equal((await http('PUT', '/api/v1/tenants/beta', { name: 'Beta', language: 'en' })).status, 200);
    assert.equal((await http('PUT', '/api/v1/tenants/beta', { name: 'BETA' })).status, 200);
    assert.equal((await http('PUT', '/api/v1/tenants/gamma', { name: 'Gamma' })).status, 201);

    const site = (name: string) =>
      http('PUT', `/api/v1/tenants/acme/sites/${encodeURIComponent(name)}`, {
        emergencyCallerId: '+4930123456',
      });
    assert.equal((await site('HQ')).status, 201);
    const alike = await site('\u041dQ');
    assert.equal(alike.status, 409);
    assert.deepEqual([alike.json.error, alike.json.field], ['name_looks_alike', 'site']);
    assert.equal((await site('HQ')).status, 200, 'the same record updated');
    assert.equal(
      (await http('PUT', '/api/v1/tenants/beta/sites/%D0%9DQ', { emergencyCallerId: '+4930123456' })).status,
      201,
      'another tenant',
    );
  });

  it('PUT of a tenant keeps the fields it is not given (name, language, time zone, prefixes)', async () => {
    const full = {
      name: 'Acme GmbH',
      language: 'de',
      timeZone: 'Europe/Berlin',
      emergencyCallerIdPrefixes: ['+4930'],
    };
    assert.equal((await http('PUT', '/api/v1/tenants/acme', full)).status, 200);
    const only = await http('PUT', '/api/v1/tenants/acme', { emergencyCallerIdPrefixes: ['+4940'] });
    assert.equal(only.status, 200);
    assert.deepEqual(
      [only.json.name, only.json.language, only.json.timeZone, only.json.emergencyCallerIdPrefixes],
      ['Acme GmbH', 'de', 'Europe/Berlin', ['+4940']],
    );
    const named = await http('PUT', '/api/v1/tenants/acme', { name: 'Acme AG' });
    assert.deepEqual(
      [named.json.name, named.json.language, named.json.timeZone, named.json.emergencyCallerIdPrefixes],
      ['Acme AG', 'de', 'Europe/Berlin', ['+4940']],
    );
    // null clears what may be empty; an empty body changes nothing.
    const cleared = await http('PUT', '/api/v1/tenants/acme', { language: null, timeZone: null });
    assert.deepEqual(
      [cleared.json.name, cleared.json.language, cleared.json.timeZone],
      ['Acme AG', null, null],
    );
    assert.equal((await http('PUT', '/api/v1/tenants/acme', {})).json.name, 'Acme AG');
    // A new tenant without a name is named by its id.
    const fresh = await http('PUT', '/api/v1/tenants/fresh', { language: 'en' });
    assert.deepEqual([fresh.status, fresh.json.name, fresh.json.language], [201, 'fresh', 'en']);
  });

  it('suspend is refused (409) for a device that holds its credential: a reset is what helps', async () => {
    await addDevice('acme', '001565aabbcf');
    // what a full configuration through a whitelisted site records
    const recorded = await r.store().recordFullProvisioning('acme', parseMac('001565aabbcf'), {
      generation: 0,
      reason: 'whitelist',
      credentialHash: hashCredential(generateDeviceCredential()),
      ip: '198.51.100.1',
      file: '001565aabbcf.cfg',
    });
    assert.equal(recorded, 'ok');
    const sus = await http('POST', '/api/v1/tenants/acme/devices/001565aabbcf/suspend', {
      network: '198.51.100.1',
    });
    assert.equal(sus.status, 409);
    assert.equal(sus.json.error, 'holds_credential');
    assert.match(sus.json.message, /reset authentication/);
    // A whitelisted site no longer gets the file of a device holding its credential.
    assert.match(sus.json.message, /only the phone holding it gets its configuration/);
    assert.doesNotMatch(sus.json.message, /whitelist/);
    assert.equal((await http('GET', '/api/v1/tenants/acme/devices/001565aabbcf')).json.suspended, false);
  });

  it('suspend binds to the network the admin names, checked as a whitelist entry is, or to none', async () => {
    await addDevice('acme', '001565aabbcd');
    const url = '/api/v1/tenants/acme/devices/001565aabbcd/suspend';
    for (const bad of ['', '0.0.0.0/0', '0.0.0.0/1', '198.51.100.7/24', '10.1', 'nope', '::/8', 42]) {
      const res = await http('POST', url, { network: bad });
      assert.deepEqual([res.status, res.json.field], [400, 'network'], String(bad));
    }
    assert.equal((await http('GET', '/api/v1/tenants/acme/devices/001565aabbcd')).json.suspended, false);
    const ok = await http('POST', url, { network: '::ffff:203.0.113.7' });
    assert.deepEqual([ok.status, ok.json.suspensionNetwork], [200, '203.0.113.7']);
    const read = (await http('GET', '/api/v1/tenants/acme/devices/001565aabbcd')).json;
    assert.deepEqual([read.suspended, read.suspensionNetwork], [true, '203.0.113.7']);
    const ev = (await http('GET', '/api/v1/tenants/acme/events?count=5')).json.events.find(
      (e: { type: string }) => e.type === 'suspend',
    );
    assert.equal(ev.network, '203.0.113.7', 'audited with its network');
    // Suspending again without a network unbinds it.
    const unbound = await http('POST', url);
    assert.deepEqual([unbound.status, unbound.json.suspensionNetwork], [200, null]);
    const again = (await http('GET', '/api/v1/tenants/acme/devices/001565aabbcd')).json;
    assert.deepEqual([again.suspended, again.suspensionNetwork], [true, null]);
  });

  it('reset gives a new PAP and unlocks; suspend sets suspendedUntil; delete removes', async () => {
    const d = await addDevice('acme', '001565aabbcc');
    const wrong = d.json.pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++)
      await http('POST', '/api/v1/authenticate', { mac: '001565aabbcc', pap: wrong });
    assert.equal((await http('GET', '/api/v1/tenants/acme/devices/001565aabbcc')).json.state, 'failed');
    const reset = await http('POST', '/api/v1/tenants/acme/devices/001565aabbcc/reset');
    assert.equal(reset.status, 200);
    assert.match(reset.json.pap, /^[0-9]{6}$/);
    const after = await http('GET', '/api/v1/tenants/acme/devices/001565aabbcc');
    assert.deepEqual(
      [after.json.state, after.json.pap, after.json.totalFailures],
      ['needed', reset.json.pap, 0],
    );
    const sus = await http('POST', '/api/v1/tenants/acme/devices/001565aabbcc/suspend', {
      network: '198.51.100.0/24',
    });
    assert.ok(
      Date.parse(sus.json.suspendedUntil) > Date.now(),
      'suspended for AUTH_SUSPEND_SECONDS from now',
    );
    assert.equal(sus.json.suspensionNetwork, '198.51.100.0/24');
    const read = (await http('GET', '/api/v1/tenants/acme/devices/001565aabbcc')).json;
    assert.deepEqual([read.suspended, read.suspensionNetwork], [true, '198.51.100.0/24']);
    assert.equal((await http('DELETE', '/api/v1/tenants/acme/devices/001565aabbcc')).status, 204);
    assert.equal((await http('GET', '/api/v1/tenants/acme/devices/001565aabbcc')).status, 404);
    const types = (await http('GET', '/api/v1/tenants/acme/events?count=50')).json.events.map(
      (e: { type: string }) => e.type,
    );
    for (const t of ['device_added', 'attempt', 'transition', 'reset', 'suspend', 'device_deleted'])
      assert.ok(types.includes(t), t);
  });

  it('whitelist: add, list, URL-encoded delete, IPv6', async () => {
    assert.equal(
      (await http('POST', '/api/v1/tenants/acme/whitelist', { entry: '198.51.100.0/24' })).status,
      201,
    );
    assert.equal(
      (await http('POST', '/api/v1/tenants/acme/whitelist', { entry: '198.51.100.0/24' })).status,
      200,
    );
    assert.equal(
      (await http('POST', '/api/v1/tenants/acme/whitelist', { entry: '2001:DB8::/32' })).json.entry,
      '2001:db8::/32',
    );
    assert.deepEqual((await http('GET', '/api/v1/tenants/acme/whitelist')).json.entries, [
      '198.51.100.0/24',
      '2001:db8::/32',
    ]);
    assert.equal(
      (await http('DELETE', `/api/v1/tenants/acme/whitelist/${encodeURIComponent('2001:db8::/32')}`)).status,
      204,
    );
    assert.deepEqual((await http('GET', '/api/v1/tenants/acme/whitelist')).json.entries, ['198.51.100.0/24']);
  });

  it('whitelist: refuses an addition that would make the whole list cover more than the bound (400 naming it)', async () => {
    const add = (entry: string) => http('POST', '/api/v1/tenants/acme/whitelist', { entry });
    assert.equal((await add('0.0.0.0/1')).status, 400);
    assert.equal((await add('10.0.0.0/8')).status, 201);
    const halves = await add('11.0.0.0/8');
    assert.equal(halves.status, 400);
    assert.equal(halves.json.field, 'entry');
    assert.match(
      halves.json.message,
      /would cover 33,554,432 IPv4 addresses; at most a \/8 worth \(16,777,216\)/,
    );
    assert.equal((await add('10.1.0.0/16')).status, 201, 'inside what is listed: adds nothing');
    assert.equal((await add('::/1')).status, 400);
    assert.equal((await add('2000::/16')).status, 201);
    assert.match((await add('8000::/1')).json.message, /IPv6 addresses; at most a \/16 worth \(2\^112\)/);
    assert.deepEqual((await http('GET', '/api/v1/tenants/acme/whitelist')).json.entries, [
      '10.0.0.0/8',
      '10.1.0.0/16',
      '2000::/16',
    ]);
    const events = (await http('GET', '/api/v1/tenants/acme/events?count=50')).json.events.filter(
      (e: { type: string }) => e.type === 'whitelist_added',
    );
    assert.equal(events.length, 3, 'refusals write nothing');
  });

  it('refuses bidirectional and other invisible control characters in every admin-entered name and text (400)', async () => {
    const rlo = '\u202e';
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/api/v1/tenants/acme', { name: `Acme${rlo} Corp` }, 'name'],
      ['PUT', '/api/v1/tenants/bidi', { name: 'Bidi\u2066 Ltd' }, 'name'],
      // the drill's two "Beta" tenants: a Hangul filler, a no-break space, a variation selector
      ['PUT', '/api/v1/tenants/bidi', { name: 'Beta\u3164' }, 'name'],
      ['PUT', '/api/v1/tenants/bidi', { name: 'Beta\u00a0' }, 'name'],
      ['PUT', '/api/v1/tenants/bidi', { name: 'Be\ufe0fta' }, 'name'],
      ['PUT', '/api/v1/tenants/bidi', { name: '  ' }, 'name'],
      [
        'POST',
        '/api/v1/tenants/acme/devices',
        { mac: '001565b1d105', vendor: 'yealink', model: 'T54W', site: 'Lab\u2800' },
        'site',
      ],
      [
        'POST',
        '/api/v1/tenants/acme/devices',
        { mac: '001565b1d101', vendor: 'yealink', model: 'T54W', site: `Lab${rlo}` },
        'site',
      ],
      [
        'POST',
        '/api/v1/tenants/acme/devices',
        { mac: '001565b1d102', vendor: 'yealink', model: `T5\u200f4W`, site: 'Lab' },
        'model',
      ],
      [
        'POST',
        '/api/v1/tenants/acme/devices',
        {
          mac: '001565b1d103',
          vendor: 'yealink',
          model: 'T54W',
          site: 'Lab',
          accounts: [{ server: 's', user: 'u', password: 'p', displayName: `Al${rlo}ice` }],
        },
        'accounts[0].displayName',
      ],
      [
        'PUT',
        `/api/v1/tenants/acme/sites/${encodeURIComponent(`Annex${rlo}`)}`,
        { emergencyCallerId: '+4930123' },
        'site',
      ],
      [
        'PUT',
        '/api/v1/tenants/acme/sites/Annex',
        { emergencyCallerId: '+4930123', civicAddress: { country: 'DE', RD: `Haupt${rlo}strasse` } },
        'civicAddress',
      ],
      ['POST', '/api/v1/tenants/acme/tokens', { name: `it${rlo}` }, 'name'],
    ];
    const before = (await http('GET', '/api/v1/tenants/acme')).json.name;
    for (const [method, url, body, field] of cases) {
      const res = await http(method, url, body);
      assert.equal(res.status, 400, `${method} ${url}: ${res.text}`);
      assert.equal(res.json.field, field, url);
    }
    assert.equal((await http('GET', '/api/v1/tenants/acme')).json.name, before, 'the name was not changed');
    assert.equal((await http('GET', '/api/v1/tenants/bidi')).status, 404, 'nor a tenant created');
    assert.equal((await http('GET', '/api/v1/tenants/acme/devices')).json.total, 0);
    assert.equal((await http('GET', '/api/v1/tenants/acme/sites')).json.sites.length, 0);
    const csv = await http(
      'POST',
      '/api/v1/tenants/acme/devices.csv',
      `vendor,type,mac,site\nyealink,T54W,001565b1d104,Lab${rlo}\n`,
    );
    assert.equal(csv.status, 400);
    assert.match(JSON.stringify(csv.json), /U\+202E/);
  });

  it('CSV export is formula-safe and round-trips through import', async () => {
    await addDevice('acme', '001565000001', { site: '=HYPERLINK("http://evil")', model: 'T54W' });
    await addDevice('acme', '001565000002', { site: 'Berlin, 2nd "floor"', vendor: 'snom', model: 'D785' });
    const done = await addDevice('acme', '001565000003', { site: '@SUM(A1)' });
    await http('POST', '/api/v1/authenticate', { mac: '001565000003', pap: done.json.pap });
    const csv = await http('GET', '/api/v1/tenants/acme/devices.csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'vendor,type,mac,created,site,state,pap,language,sip_server,sip_user,sip_auth_user,sip_password,display_name',
    );
    assert.match(
      lines[1]!,
      /^yealink,T54W,001565000001,[0-9T:.Z-]+,"'=HYPERLINK\(""http:\/\/evil""\)",needed,[0-9]{6},,,,,,$/,
    );
    assert.match(lines[2]!, /^snom,D785,001565000002,.*,"Berlin, 2nd ""floor""",needed,[0-9]{6},,,,,,$/);
    assert.match(lines[3]!, /,'@SUM\(A1\),successful,,,,,,,$/, 'no PAP once successful');
    const needed = await http('GET', '/api/v1/tenants/acme/devices.csv?state=needed');
    assert.equal(needed.text.trimEnd().split('\r\n').length, 3);

    await http('PUT', '/api/v1/tenants/copy', {});
    for (const m of ['001565000001', '001565000002', '001565000003'])
      await http('DELETE', `/api/v1/tenants/acme/devices/${m}`);
    const imp = await http('POST', '/api/v1/tenants/copy/devices.csv', csv.text);
    assert.equal(imp.status, 201, imp.text);
    assert.equal(imp.json.created, 3);
    const copied = (await http('GET', '/api/v1/tenants/copy/devices')).json.devices;
    assert.deepEqual(
      copied.map((d: { vendor: string; model: string; mac: string; site: string; state: string }) => [
        d.vendor,
        d.model,
        d.mac,
        d.site,
        d.state,
      ]),
      [
        ['yealink', 'T54W', '001565000001', '=HYPERLINK("http://evil")', 'needed'],
        ['snom', 'D785', '001565000002', 'Berlin, 2nd "floor"', 'needed'],
        ['yealink', 'T54W', '001565000003', '@SUM(A1)', 'needed'],
      ],
    );
  });

  it('CSV import names every bad row and writes nothing', async () => {
    await addDevice('acme', '0015650000ff');
    const csv = [
      'vendor,type,mac,site,sip_server,sip_user,sip_password',
      'yealink,T54W,001565000001,HQ,sip.example.net,100,pw',
      'nokia,3310,001565000002,HQ,,,',
      'snom,D785,00:15:65:00:00,HQ,,,',
      'snom,D785,001565000004,,,,',
      'yealink,T46U,00-15-65-00-00-01,HQ,,,',
      'yealink,T46U,0015650000ff,HQ,,,',
      'poly,VVX450,001565000005,HQ,,100,pw',
      'yealink,T46U,001565000006',
      'snom,M900,000413000007,HQ,,,',
    ].join('\n');
    const res = await http('POST', '/api/v1/tenants/acme/devices.csv', csv);
    assert.equal(res.status, 400);
    assert.equal(res.json.error, 'invalid_csv');
    const byLine = Object.fromEntries(
      res.json.rows.map((r: { line: number; reason: string }) => [r.line, r.reason]),
    );
    assert.match(byLine[3], /vendor must be one of/);
    assert.match(byLine[4], /invalid MAC/);
    assert.match(byLine[5], /site is required/);
    assert.match(byLine[6], /duplicate MAC \(also on line 2\)/);
    assert.match(byLine[8], /server is required/);
    assert.match(byLine[9], /expected 7 cells, found 3/);
    assert.match(byLine[10], /model M900 of snom is not supported/);
    // In the same answer as the cells' errors: the MAC the tenant has already.
    assert.match(byLine[7], /MAC already registered in this tenant/);
    assert.equal(Object.keys(byLine).length, 8);
    assert.deepEqual((await http('GET', '/api/v1/tenants/acme/devices')).json.devices.length, 1);

    const taken = await http(
      'POST',
      '/api/v1/tenants/acme/devices.csv',
      'vendor,type,mac,site\nyealink,T54W,001565000001,HQ\nyealink,T54W,0015650000FF,HQ\n',
    );
    assert.equal(taken.status, 409);
    assert.deepEqual(taken.json.rows, [
      {
        line: 3,
        mac: '0015650000ff',
        column: 'mac',
        reason:
          "MAC already registered in this tenant; to update the devices of such rows, import with ?mode=update (CLI: import --update; console: the import's update box)",
      },
    ]);
    assert.deepEqual(
      (await http('GET', '/api/v1/tenants/acme/devices')).json.devices.length,
      1,
      'the valid row was not written either',
    );

    for (const [body, re] of [
      ['', /header/],
      ['vendor,type,mac\nyealink,T54W,001565000001', /missing column "site"/],
      ['vendor,type,mac,site,colour\n', /unknown column "colour"/],
      ['vendor,type,mac,site\n"yealink,T54W,001565000001,HQ\n', /unterminated quoted cell/],
      ['vendor,type,mac,site\n', /no device rows/],
    ] as [string, RegExp][]) {
      const bad = await http('POST', '/api/v1/tenants/acme/devices.csv', body);
      assert.equal(bad.status, 400, body);
      assert.match(bad.json.rows[0].reason, re, body);
    }
    const asJson = await http('POST', '/api/v1/tenants/acme/devices.csv', { not: 'csv' });
    assert.equal(asJson.status, 415);
  });

  it('serves an OpenAPI document listing exactly the routes', async () => {
    const res = await fetch(`${base}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as typeof openApiDocument;
    assert.ok(routes.length > 10);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    assert.deepEqual([...documented].sort(), [...new Set(routes)].sort());
  });

  it('answers 503 when the store is unreachable', async () => {
    const other = new TestRedis();
    await other.start();
    const config = loadConfig({ ADMIN_TOKEN: TOKEN });
    const down = createAdminServer({ config, store: other.store(), log: silentLog, adminToken: TOKEN });
    await down.listen({ host: '127.0.0.1', port: 0 });
    await other.server.stop();
    const res = await fetch(
      `http://127.0.0.1:${(down.server.address() as AddressInfo).port}/api/v1/tenants/acme/devices`,
      { headers: { authorization: `Bearer ${TOKEN}` } },
    );
    assert.equal(res.status, 503);
    assert.ok(res.headers.get('retry-after'));
    await down.close();
    other.client.destroy();
  });

  it('the CLI drives the same API', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-cli-'));
    const env = { ...process.env, ADMIN_URL: base, ADMIN_TOKEN: TOKEN, DATA_DIR: data };
    const cli = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(path.join(PROJECT_ROOT, 'bin', 'papgate'), args, { env }, (e, out, err) =>
          resolve({ code: e ? (e.code as number) : 0, out, err }),
        );
      });
    const add = await cli(
      'add',
      'acme',
      '--mac',
      '00:04:f2:11:22:33',
      '--vendor',
      'poly',
      '--model',
      'VVX450',
      '--site',
      'HQ',
      '--account',
      'server=sip.example.net,user=200,password=pw',
    );
    assert.equal(add.code, 0, add.err);
    assert.equal(JSON.parse(add.out).mac, '0004f2112233');
    assert.equal((await cli('whitelist', 'acme', 'add', '203.0.113.0/24')).code, 0);
    const exp = await cli('export', 'acme');
    assert.match(exp.out, /^vendor,type,mac,created,site,state,pap,[a-z_,]+\r\npoly,VVX450,0004f2112233,/);
    const csvFile = path.join(data, 'in.csv');
    fs.writeFileSync(csvFile, 'vendor,type,mac,site\ngigaset,N510 IP PRO,7c2f80aabbcc,HQ\n');
    assert.equal((await cli('import', 'acme', csvFile)).code, 0);
    const unbound = await cli('suspend', 'acme', '7c2f80aabbcc');
    assert.equal(unbound.code, 0, unbound.out);
    assert.equal(JSON.parse(unbound.out).suspensionNetwork, null);
    const wide = await cli('suspend', 'acme', '7c2f80aabbcc', '--network', '0.0.0.0/1');
    assert.equal(wide.code, 1);
    assert.match(wide.out, /at most a \/8 worth/);
    const suspended = await cli('suspend', 'acme', '7c2f80aabbcc', '--network', '203.0.113.0/24');
    assert.equal(suspended.code, 0, suspended.out);
    assert.equal(JSON.parse(suspended.out).suspensionNetwork, '203.0.113.0/24');
    // sites (issue 24): a record, then a device naming a site without one is refused unless accepted
    const site = await cli(
      'site',
      'acme',
      'set',
      'HQ',
      '--caller-id',
      '+493012345678',
      '--address',
      'country=DE,A3=Berlin,RD=Unter den Linden,HNO=5',
      '--send-location',
      'true',
    );
    assert.equal(site.code, 0, site.out);
    assert.deepEqual(JSON.parse(site.out).civicAddress, {
      country: 'DE',
      A3: 'Berlin',
      RD: 'Unter den Linden',
      HNO: '5',
    });
    assert.deepEqual(
      JSON.parse((await cli('site', 'acme', 'list')).out).sites.map((x: { name: string }) => x.name),
      ['HQ'],
    );
    const typo = ['add', 'acme', '--mac', '00:04:f2:11:22:34', '--vendor', 'poly', '--model', 'VVX450'];
    const refused = await cli(...typo, '--site', 'HQ2');
    assert.equal(refused.code, 1);
    assert.match(JSON.parse(refused.out).message, /"HQ2" has no site record.*sites: HQ\b/);
    assert.equal((await cli(...typo, '--site', 'HQ2', '--unknown-site', 'accept')).code, 0);
    const missing = await cli('list', 'acme', '--site-record', 'missing');
    assert.deepEqual(
      JSON.parse(missing.out).devices.map((d: { mac: string }) => d.mac),
      ['0004f2112234'],
    );
    assert.equal((await cli('site', 'acme', 'delete', 'HQ')).code, 0);
    const bad = await cli('add', 'acme', '--mac', 'nope', '--vendor', 'poly', '--model', 'x', '--site', 'y');
    assert.equal(bad.code, 1);
    assert.match(bad.out, /invalid MAC/);
    const set = await cli(
      'settings',
      'acme',
      '--site',
      'HQ',
      '--family',
      'poly',
      '--item',
      'lcl.ml.lang=Deutsch_Deutschland',
      '--ntp-server',
      'pool.ntp.org',
    );
    assert.equal(set.code, 0, set.err);
    const shown = await cli('settings', 'acme', '--site', 'HQ');
    assert.deepEqual(JSON.parse(shown.out), {
      items: { poly: [{ name: 'lcl.ml.lang', value: 'Deutsch_Deutschland' }] },
      common: { ntpServer: 'pool.ntp.org' },
    });
    const owned = await cli(
      'settings',
      'acme',
      '--mac',
      '0004f2112233',
      '--family',
      'poly',
      '--item',
      'prov.polling.enabled=0',
    );
    assert.equal(owned.code, 1);
    assert.match(owned.out, /papgate's own/);
    // `.` and `..` would be steps of the API path: `--site ..` would write the tenant's layer.
    const item = ['--family', 'poly', '--item', 'lcl.ml.lang=English_United_States'];
    for (const args of [
      ['settings', 'acme', '--site', '..', ...item],
      ['settings', 'acme', '--site', '.', ...item],
      ['settings', 'acme', '--site', '', ...item],
      ['settings', 'acme', '--mac', '..', ...item],
      ['settings', '..', ...item],
      ['site', 'acme', 'set', '..', '--caller-id', '+4930123'],
      ['get', 'acme', '..'],
      ['whitelist', 'acme', 'remove', '..'],
    ]) {
      const dots = await cli(...args);
      assert.equal(dots.code, 2, args.join(' '));
      assert.match(
        dots.err,
        /cannot be a (?:site|MAC|tenant|whitelist entry): \. and \.\. would be read/,
        args.join(' '),
      );
    }
    assert.deepEqual(
      JSON.parse((await cli('settings', 'acme')).out).items,
      {},
      'the tenant layer is unchanged',
    );
    assert.equal((await cli('frobnicate')).code, 2);
    assert.match((await cli('help')).out, /papgate add <tenant>/);
    fs.rmSync(data, { recursive: true, force: true });
  });
});

/**
 * Tenant admin tokens: created once, stored as a hash, listed, revoked; a tenant token reaches its
 * own tenant only, and every admin action names the token that acted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../src/admin/openapi';
import { request } from './support/http';
import { snapshot, writingBodies } from './support/sweep';
import { startAdmin } from './support/admin';
import { TestRedis } from './support/redis';

const TOKEN = 'tokens-test-operator-token-0123';
const ACME_MAC = '001565aabbcc';
const BETA_MAC = '001565ddeeff';

describe('tenant admin tokens', () => {
  const r = new TestRedis();
  let app: FastifyInstance;
  let port = 0;

  const call = async (bearer: string, method: string, url: string, body?: unknown) => {
    const res = await request(port, url, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let json: any = null;
    try {
      json = JSON.parse(res.body);
    } catch {
      /* empty or CSV */
    }
    return { status: res.status, json, body: res.body };
  };
  const op = (method: string, url: string, body?: unknown) => call(TOKEN, method, url, body);
  const newToken = async (tenant: string, name: string) => {
    const res = await op('POST', `/api/v1/tenants/${tenant}/tokens`, { name });
    assert.equal(res.status, 201, res.body);
    return res.json as { id: string; token: string; name: string };
  };

  before(async () => {
    await r.start();
    ({ app, port } = await startAdmin(r, TOKEN));
  });
  after(async () => {
    await app.close();
    await r.stop();
  });
  beforeEach(async () => {
    await r.flush();
    for (const [t, mac] of [
      ['acme', ACME_MAC],
      ['beta', BETA_MAC],
    ]) {
      assert.equal((await op('PUT', `/api/v1/tenants/${t}`, { name: t })).status, 201);
      const add = await op('POST', `/api/v1/tenants/${t}/devices`, {
        mac,
        vendor: 'yealink',
        model: 'T54W',
        site: 'HQ',
      });
      assert.equal(add.status, 201, add.body);
    }
  });

  it('shows a token once, stores only its SHA-256, lists name, created and last use, and revokes it', async () => {
    const made = await newToken('beta', 'Beta IT');
    assert.match(made.token, /^pgt\.beta\.[A-Za-z0-9_-]{43}$/);
    const sha = createHash('sha256').update(made.token).digest('hex');
    const dump = await Promise.all(
      (await r.client.keys('*')).map(async (k) => `${k} ${String(await r.client.sendCommand(['DUMP', k]))}`),
    );
    assert.ok(!dump.join('\n').includes(made.token.split('.')[2]!), 'the token itself is in Redis');
    assert.ok(dump.join('\n').includes(sha), 'its SHA-256 is not stored');

    let list = await op('GET', '/api/v1/tenants/beta/tokens');
    assert.equal(list.status, 200);
    assert.deepEqual(Object.keys(list.json.tokens[0]).sort(), [
      'createdAt',
      'id',
      'lastUsedAt',
      'name',
      'revokedAt',
    ]);
    assert.equal(list.json.tokens[0].name, 'Beta IT');
    assert.equal(list.json.tokens[0].lastUsedAt, null);
    assert.ok(!list.body.includes(made.token) && !list.body.includes(sha));

    assert.equal((await call(made.token, 'GET', '/api/v1/tenants/beta/devices')).status, 200);
    list = await op('GET', '/api/v1/tenants/beta/tokens');
    assert.ok(Date.parse(list.json.tokens[0].lastUsedAt) > 0, 'last use not noted');

    assert.equal((await op('POST', '/api/v1/tenants/beta/tokens', { name: 'Beta IT' })).status, 409);
    const bad = await op('POST', '/api/v1/tenants/beta/tokens', { name: 'a@b' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'name');

    assert.equal((await op('DELETE', `/api/v1/tenants/beta/tokens/${made.id}`)).status, 204);
    assert.equal((await op('DELETE', `/api/v1/tenants/beta/tokens/${made.id}`)).status, 204);
    assert.equal((await op('DELETE', '/api/v1/tenants/beta/tokens/0123456789ab')).status, 404);
    assert.equal((await op('DELETE', `/api/v1/tenants/acme/tokens/${made.id}`)).status, 404);
    const after = await call(made.token, 'GET', '/api/v1/tenants/beta/devices');
    assert.equal(after.status, 401, 'a revoked token still works');
    list = await op('GET', '/api/v1/tenants/beta/tokens');
    assert.ok(Date.parse(list.json.tokens[0].revokedAt) > 0);
    const events = (await op('GET', '/api/v1/tenants/beta/events')).json.events;
    assert.deepEqual(
      events
        .filter((e: { type: string }) => e.type.startsWith('token_'))
        .map((e: { type: string }) => e.type),
      ['token_revoked', 'token_created'],
    );
  });

  it('a tenant has at most 20 tokens that are not revoked (a token cannot multiply itself)', async () => {
    const first = await newToken('beta', 'beta-admin');
    const own = (name: string) => call(first.token, 'POST', '/api/v1/tenants/beta/tokens', { name });
    for (let i = 1; i < 20; i++) assert.equal((await own(`t${i}`)).status, 201);
    const more = await own('t20');
    assert.equal(more.status, 409);
    assert.equal(more.json.error, 'too_many_tokens');
    assert.match(more.json.message, /revoke one first/);
    assert.equal(
      (await op('POST', '/api/v1/tenants/beta/tokens', { name: 't20' })).status,
      409,
      'the operator too',
    );
    assert.equal((await op('GET', '/api/v1/tenants/beta/tokens')).json.tokens.length, 20);
    // Revoked tokens do not count; another tenant's are its own.
    const list = (await op('GET', '/api/v1/tenants/beta/tokens')).json.tokens as {
      id: string;
      name: string;
    }[];
    assert.equal(
      (await op('DELETE', `/api/v1/tenants/beta/tokens/${list.find((t) => t.name === 't1')!.id}`)).status,
      204,
    );
    assert.equal((await own('t20')).status, 201);
    assert.equal((await own('t21')).status, 409);
    await newToken('acme', 'acme-admin');
  });

  it('a tenant token works on its own tenant, and each action names the token, never its value', async () => {
    const t = await newToken('beta', 'beta-admin');
    const own = (method: string, url: string, body?: unknown) => call(t.token, method, url, body);
    assert.deepEqual((await own('GET', '/api/v1/session')).json, {
      role: 'tenant',
      tenant: 'beta',
      token: 'beta-admin',
      authServiceNumber: '*89',
      defaultLanguage: 'en',
    });
    assert.deepEqual(
      (await own('GET', '/api/v1/tenants')).json.tenants.map((x: { id: string }) => x.id),
      ['beta'],
    );
    assert.deepEqual(
      (await op('GET', '/api/v1/tenants')).json.tenants.map((x: { id: string }) => x.id),
      ['acme', 'beta'],
    );
    const add = await own('POST', '/api/v1/tenants/beta/devices', {
      mac: '001565000042',
      vendor: 'yealink',
      model: 'T54W',
      site: 'Lab',
    });
    assert.equal(add.status, 201, add.body);
    const pap = add.json.pap as string;
    assert.equal((await own('PUT', '/api/v1/tenants/beta', { language: 'de' })).status, 200);
    assert.equal((await own('POST', '/api/v1/tenants/beta/tokens', { name: 'colleague' })).status, 201);
    const auth = await own('POST', '/api/v1/authenticate', { mac: '001565000042', pap });
    assert.equal(auth.json.outcome, 'successful', auth.body);

    const events = (await op('GET', '/api/v1/tenants/beta/events')).json.events as Record<string, string>[];
    const actors = new Set(events.filter((e) => e.actor).map((e) => e.actor));
    assert.deepEqual([...actors].sort(), ['operator@127.0.0.1', 'token:beta-admin@127.0.0.1']);
    const all = JSON.stringify(events);
    assert.ok(!all.includes(t.token) && !all.includes(TOKEN), 'a token value reached the audit trail');
  });

  it('a token of another tenant: every route of the OpenAPI document answers 403 or 404 and writes nothing', async () => {
    const beta = await newToken('beta', 'beta-admin');
    // Its first use notes "last used"; later uses within the minute write nothing.
    assert.equal((await call(beta.token, 'GET', '/api/v1/session')).status, 200);
    const before = await snapshot(r.client);
    const bodies = writingBodies(ACME_MAC);
    const acmeToken = (await op('GET', '/api/v1/tenants/acme/tokens')).json.tokens;
    assert.deepEqual(acmeToken, []);
    const victims = ['acme', 'nope', '%61cme', 'ACME'];
    let tried = 0;
    for (const [template, ops] of Object.entries(openApiDocument.paths)) {
      if (!template.startsWith('/api/')) continue;
      for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
        const b = bodies[`${method} ${template}`];
        for (const victim of template.includes('{tenant}') ? victims : ['']) {
          const url = template
            .replace('{tenant}', victim)
            .replace('{mac}', ACME_MAC)
            .replace('{entry}', '198.51.100.7')
            .replace('{tokenId}', '0123456789ab')
            .replace('{site}', 'HQ');
          const res = await request(port, url, {
            method,
            headers: { authorization: `Bearer ${beta.token}`, ...(b ? { 'content-type': b.type } : {}) },
            ...(b ? { body: b.body } : {}),
          });
          tried++;
          // The routes without a tenant answer about the token's own tenant only.
          const ownOnly = method === 'GET' && ['/api/v1/session', '/api/v1/tenants'].includes(template);
          if (ownOnly) assert.equal(res.status, 200, `${method} ${url}: ${res.status}`);
          else
            assert.ok(
              res.status === 403 || res.status === 404,
              `${method} ${url} with beta's token answered ${res.status}: ${res.body.slice(0, 200)}`,
            );
          assert.ok(!/acme/i.test(res.body.replace(/no route \S+ \S+/, '')) || res.status === 403, res.body);
        }
      }
    }
    assert.ok(tried >= 40, `only ${tried} requests`);
    assert.equal(await snapshot(r.client), before, "a request with beta's token wrote to Redis");
  });

  it('a tenant token cannot create tenants, nor tokens elsewhere; a malformed one costs no store lookup', async () => {
    const t = await newToken('beta', 'beta-admin');
    assert.equal((await call(t.token, 'PUT', '/api/v1/tenants/gamma', { name: 'x' })).status, 403);
    assert.equal((await call(t.token, 'POST', '/api/v1/tenants/acme/tokens', { name: 'x' })).status, 403);
    assert.equal(await r.client.exists('papgate:{t:gamma}:tenant'), 0);
    // A token naming a tenant that does not match its hash is unknown there: 401, not 403.
    const forged = t.token.replace('pgt.beta.', 'pgt.acme.');
    assert.equal((await call(forged, 'GET', '/api/v1/tenants/acme/devices')).status, 401);
    const commands = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await r.client.info('stats'))![1]);
    const n0 = await commands();
    assert.equal((await call('pgt.beta.short', 'GET', '/api/v1/tenants/beta')).status, 401);
    assert.equal((await commands()) - n0 - 1, 0, 'a malformed bearer reached the store');
  });

  it('pages, filters and searches the device list on the server; filters the audit trail by device', async () => {
    const macs = Array.from({ length: 25 }, (_, i) => `0015650100${i.toString(16).padStart(2, '0')}`);
    const csv = `vendor,type,mac,site\r\n${macs.map((m, i) => `yealink,T54W,${m},${i % 2 ? 'Odd' : 'Even'}`).join('\r\n')}\r\n`;
    const res = await request(port, '/api/v1/tenants/acme/devices.csv', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
      body: csv,
    });
    assert.equal(res.status, 201, res.body);
    const page = await op('GET', '/api/v1/tenants/acme/devices?limit=10&offset=20');
    assert.equal(page.json.total, 26);
    assert.equal(page.json.devices.length, 6);
    assert.deepEqual(page.json.sites, ['Even', 'HQ', 'Odd']);
    assert.equal(page.json.stateCounts.needed, 26);
    const odd = await op('GET', '/api/v1/tenants/acme/devices?site=Odd&limit=5');
    assert.equal(odd.json.total, 12);
    assert.equal(odd.json.devices.length, 5);
    const search = await op('GET', '/api/v1/tenants/acme/devices?q=01:00:1');
    assert.deepEqual(
      search.json.devices.map((d: { mac: string }) => d.mac),
      macs.filter((m) => m.includes('01001')),
    );
    for (const bad of ['limit=0', 'limit=1001', 'offset=-1', 'limit=1e3', 'q=xyz']) {
      const b = await op('GET', `/api/v1/tenants/acme/devices?${bad}`);
      assert.equal(b.status, 400, bad);
      assert.equal(b.json.field, bad.split('=')[0]);
    }
    await op('POST', `/api/v1/tenants/acme/devices/${macs[3]}/reset`);
    const ev = await op('GET', `/api/v1/tenants/acme/events?mac=${macs[3]}`);
    assert.deepEqual(
      ev.json.events.map((e: { type: string }) => e.type),
      ['transition', 'reset', 'device_added'],
    );
  });
});

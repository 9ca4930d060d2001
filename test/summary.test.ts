/**
 * The roll-out summary (issue 24): device counts per state and per site of a tenant, over real HTTP
 * on a real Redis, as the console's start page reads them.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { SUMMARY_MS } from '../src/admin/routes/summary';
import { loadConfig } from '../src/config';
import { rolloutCounts } from '../src/domain/rollout';
import { FAST_POLICY, silentLog, TestRedis } from './support/redis';

const TOKEN = 's'.repeat(24);
const counts = (needed: number, failed: number, blocked: number, successful: number) => ({
  needed,
  failed,
  blocked,
  successful,
});

describe('summary: device counts per state and site', () => {
  const r = new TestRedis();
  let app: FastifyInstance;
  let base = '';
  let clock = Date.now();
  const http = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, json: (await res.json()) as any };
  };

  before(async () => {
    await r.start();
    const now = () => clock;
    app = createAdminServer({
      config: loadConfig({ ADMIN_TOKEN: TOKEN }),
      store: r.store(FAST_POLICY, now),
      log: silentLog,
      adminToken: TOKEN,
      now,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await app.close();
    await r.stop();
  });

  it('counts the settled states, suspensions and sites; one count serves SUMMARY_MS', async () => {
    assert.equal((await http('PUT', '/api/v1/tenants/acme', { name: 'Acme' })).status, 201);
    const paps = new Map<string, string>();
    for (const [mac, site] of [
      ['001565000001', 'Berlin'],
      ['001565000002', 'Berlin'],
      ['001565000003', 'Berlin'],
      ['001565000004', 'Hamburg'],
      ['001565000005', 'Hamburg'],
    ]) {
      const add = await http('POST', '/api/v1/tenants/acme/devices', {
        mac,
        vendor: 'yealink',
        model: 'T54W',
        site,
      });
      assert.equal(add.status, 201);
      paps.set(mac!, add.json.pap);
    }
    const empty = await http('GET', '/api/v1/tenants/acme/summary');
    assert.equal(empty.status, 200);
    assert.equal(empty.json.states.needed, 5);

    clock += SUMMARY_MS;
    const pap = async (mac: string, p: string) =>
      (await http('POST', '/api/v1/authenticate', { mac, pap: p })).json.outcome;
    assert.equal(await pap('001565000001', paps.get('001565000001')!), 'successful');
    const wrong = (p: string) => String((Number(p) + 1) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < FAST_POLICY.maxConsecutiveFailures; i++)
      await pap('001565000002', wrong(paps.get('001565000002')!));
    assert.equal((await http('POST', '/api/v1/tenants/acme/devices/001565000004/suspend', {})).status, 200);

    const first = await http('GET', '/api/v1/tenants/acme/summary');
    assert.equal(first.status, 200);
    assert.deepEqual(first.json, {
      total: 5,
      states: counts(3, 1, 0, 1),
      suspended: 1,
      sites: [
        { site: 'Berlin', total: 3, states: counts(1, 1, 0, 1), suspended: 0 },
        { site: 'Hamburg', total: 2, states: counts(2, 0, 0, 0), suspended: 1 },
      ],
      userAgentMismatch: 0,
      papExpired: 0,
      at: new Date(clock).toISOString(),
    });

    // Within SUMMARY_MS the same count answers (the devices are not read again)...
    assert.equal(await pap('001565000003', paps.get('001565000003')!), 'successful');
    clock += SUMMARY_MS - 1;
    assert.deepEqual((await http('GET', '/api/v1/tenants/acme/summary')).json, first.json);
    // ...then a new one: the failed lock (1 s) and the suspension (1 s) have run out meanwhile.
    clock += 1;
    const later = await http('GET', '/api/v1/tenants/acme/summary');
    assert.deepEqual(later.json.states, counts(3, 0, 0, 2));
    assert.equal(later.json.suspended, 0);
    assert.deepEqual(later.json.sites[0], {
      site: 'Berlin',
      total: 3,
      states: counts(1, 0, 0, 2),
      suspended: 0,
    });
    assert.equal(later.json.at, new Date(clock).toISOString());
  });

  it('is the tenant’s own: 404 for an unknown tenant, 403 for another tenant’s token', async () => {
    assert.equal((await http('GET', '/api/v1/tenants/nobody/summary')).status, 404);
    assert.equal((await http('PUT', '/api/v1/tenants/other', { name: 'Other' })).status, 201);
    const made = await http('POST', '/api/v1/tenants/other/tokens', { name: 'admins' });
    assert.equal(made.status, 201);
    assert.equal((await http('GET', '/api/v1/tenants/acme/summary', undefined, made.json.token)).status, 403);
    assert.equal(
      (await http('GET', '/api/v1/tenants/other/summary', undefined, made.json.token)).status,
      200,
    );
  });

  it('rolloutCounts: sites sorted by name, a device counted once in all and in its site', () => {
    const rec = {
      consecutiveFailures: 0,
      totalFailures: 0,
      failedUntil: null,
      suspendedUntil: null,
      userAgentMismatch: null,
    };
    const c = rolloutCounts(
      [
        { ...rec, site: 'b', state: 'blocked' },
        { ...rec, site: 'a', state: 'needed', suspendedUntil: 2000 },
        { ...rec, site: 'b', state: 'failed', failedUntil: 1000 },
      ],
      1000,
      {},
    );
    assert.deepEqual(c, {
      total: 3,
      states: counts(2, 0, 1, 0),
      suspended: 1,
      sites: [
        { site: 'a', total: 1, states: counts(1, 0, 0, 0), suspended: 1 },
        { site: 'b', total: 2, states: counts(1, 0, 1, 0), suspended: 0 },
      ],
      userAgentMismatch: 0,
      papExpired: 0,
    });
  });
});

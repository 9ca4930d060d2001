import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Alerts } from '../src/http/alert';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import type { AuthPolicy } from '../src/domain/auth';
import { parseNewDevice } from '../src/domain/device';
import type { Mac } from '../src/domain/mac';
import { DEVICE } from '../src/store/keys';
import type { SourceCrossing } from '../src/domain/auth';
import { Store } from '../src/store/store';
import { request } from './support/http';
import { until } from './support/service';
import { capturedLog, FAST_POLICY, silentLog, TestRedis } from './support/redis';

/** Issue 12, part 1: wrong PAPs are counted per source too, and a source past its limits is refused. */
const WINDOW = 60;
const POLICY: AuthPolicy = {
  ...FAST_POLICY,
  guessing: { perSource: 15, perSourceTenant: 10, windowSeconds: WINDOW },
};
const T0 = 1_800_000_000_000;
const ATTACKER = 'sip:203.0.113.9';

/** Tenant `tenant` with `n` devices of one model at site `s`, MACs `<prefix><i as 4 hex digits>`. */
async function seedDevices(
  store: Store,
  tenant: string,
  n: number,
  prefix: string,
  vendor: 'yealink' | 'snom' = 'yealink',
  model = 'T54W',
): Promise<readonly { mac: Mac; pap: string }[]> {
  await store.putTenant(tenant, { name: tenant, language: null }, 'test');
  const made = await store.createDevices(
    tenant,
    Array.from({ length: n }, (_, i) =>
      parseNewDevice({ mac: `${prefix}${i.toString(16).padStart(4, '0')}`, vendor, model, site: 's' }),
    ),
    'test',
  );
  assert.ok(made !== 'unknown_tenant' && made.ok);
  return made.devices;
}

const wrongFor = (pap: string) => (pap === '000000' ? '111111' : '000000');

describe('guessing across devices: per-source limits', () => {
  const r = new TestRedis();
  let clock = T0;
  let crossings: SourceCrossing[] = [];
  let store: Store;
  before(() => r.start());
  after(() => r.stop());
  beforeEach(async () => {
    await r.flush();
    clock = T0;
    crossings = [];
    store = new Store(r.client, {
      auth: POLICY,
      eventsMaxLen: 100000,
      now: () => clock,
      onSourceLimited: (c) => crossings.push(c),
    });
  });

  /** `n` devices in `tenant`; answers their MACs and PAPs. */
  const devices = (tenant: string, n: number, prefix: string) => seedDevices(store, tenant, n, prefix);

  const hashOf = (tenant: string, mac: Mac) => r.client.hGetAll(`papgate:{t:${tenant}}:dev:${mac}`);

  it('stops one source guessing across 50 devices at the limit; the devices past it are untouched', async () => {
    const acme = await devices('acme', 50, '0015650a');
    const before = await Promise.all(acme.map((d) => hashOf('acme', d.mac)));
    const outcomes: string[] = [];
    for (const d of acme) {
      clock += 100;
      const a = await store.attemptPap(d.mac, wrongFor(d.pap), null, 'test', 'ivr', { source: ATTACKER });
      outcomes.push(a.outcome);
    }
    assert.deepEqual(outcomes, [...Array(10).fill('wrong_pap'), ...Array(40).fill('source_limited')]);
    for (const [i, d] of acme.entries()) {
      const after = await hashOf('acme', d.mac);
      if (i < 10) assert.equal(after[DEVICE.totalFailures], '1', `device ${i} counted the wrong PAP`);
      else assert.deepEqual(after, before[i], `device ${i} is untouched`);
    }
    const events = await store.events('acme', 1000);
    assert.equal(events.filter((e) => e.type === 'attempt').length, 10, 'refused attempts write no event');
    const crossed = events.filter((e) => e.type === 'source_limited');
    assert.deepEqual(
      crossed.map((e) => [e.source, e.scope, e.count, e.limit]),
      [[ATTACKER, 'tenant', '10', '10']],
    );
    assert.deepEqual(
      crossings.map((c) => [c.source, c.scope, c.tenant]),
      [[ATTACKER, 'tenant', 'acme']],
    );

    // The same source in another tenant: its own tenant limit is fresh, the all-tenants one (15) is not.
    const beta = await devices('beta', 10, '0015650b');
    const betaOutcomes: string[] = [];
    for (const d of beta) {
      clock += 100;
      betaOutcomes.push(
        (await store.attemptPap(d.mac, wrongFor(d.pap), null, 'test', 'ivr', { source: ATTACKER })).outcome,
      );
    }
    assert.deepEqual(betaOutcomes, [...Array(5).fill('wrong_pap'), ...Array(5).fill('source_limited')]);
    assert.deepEqual(
      crossings.map((c) => c.scope),
      ['tenant', 'all'],
    );
    const all = (await store.events('beta', 1000)).filter((e) => e.type === 'source_limited');
    assert.deepEqual(
      all.map((e) => [e.scope, e.count, e.limit]),
      [['all', '15', '15']],
    );
    // The right PAP from the limited source is refused too: guessing it gains nothing.
    const right = await store.attemptPap(beta[9]!.mac, beta[9]!.pap, null, 'test', 'ivr', {
      source: ATTACKER,
    });
    assert.equal(right.outcome, 'source_limited');
    assert.equal((await store.getDevice('beta', beta[9]!.mac))!.state, 'needed');
  });

  it('counts the same number of wrong PAPs from 50 different sources per device, as before', async () => {
    const acme = await devices('acme', 50, '0015650c');
    for (const [i, d] of acme.entries()) {
      const a = await store.attemptPap(d.mac, wrongFor(d.pap), null, 'test', 'ivr', {
        source: `sip:198.51.100.${i + 1}`,
      });
      assert.equal(a.outcome, 'wrong_pap');
      assert.equal(a.attemptsLeft, 2);
    }
    // Three sources, one device: the device's own rule locks it exactly as without sources.
    const d = acme[0]!;
    const outcomes = [];
    for (const src of ['sip:198.51.100.101', 'sip:198.51.100.102'])
      outcomes.push(
        (await store.attemptPap(d.mac, wrongFor(d.pap), null, 't', 'ivr', { source: src })).outcome,
      );
    assert.deepEqual(outcomes, ['wrong_pap', 'failed']);
    assert.equal((await store.getDevice('acme', d.mac))!.totalFailures, 3);
    assert.equal(crossings.length, 0);
  });

  it('lets the source in again once its wrong PAPs leave the sliding window', async () => {
    const acme = await devices('acme', 12, '0015650d');
    for (const d of acme.slice(0, 10)) {
      clock += 1000;
      await store.attemptPap(d.mac, wrongFor(d.pap), null, 'test', 'api', { source: ATTACKER });
    }
    const refused = await store.attemptPap(acme[10]!.mac, acme[10]!.pap, null, 't', 'api', {
      source: ATTACKER,
    });
    assert.equal(refused.outcome, 'source_limited');
    // The oldest wrong PAP (at T0 + 1 s) leaves the window first.
    assert.equal(refused.retryAt, T0 + 1000 + WINDOW * 1000);
    clock = T0 + 1000 + WINDOW * 1000 - 1;
    assert.equal(
      (await store.attemptPap(acme[10]!.mac, acme[10]!.pap, null, 't', 'api', { source: ATTACKER })).outcome,
      'source_limited',
      'one ms before, still refused',
    );
    clock = T0 + 1000 + WINDOW * 1000;
    const again = await store.attemptPap(acme[10]!.mac, acme[10]!.pap, null, 't', 'api', {
      source: ATTACKER,
    });
    assert.equal(again.outcome, 'successful');
  });

  it('answers the API client 429 with Retry-After past its limit, counting its network, not its address', async () => {
    const TOKEN = 'guessing-test-operator-token-01';
    const app: FastifyInstance = createAdminServer({
      config: loadConfig({ ADMIN_TOKEN: TOKEN }),
      store,
      log: silentLog,
      adminToken: TOKEN,
      now: () => clock,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const acme = await devices('acme', 11, '0015650e');
      const auth = (d: { mac: Mac; pap: string }, pap: string, from: string) =>
        request(port, '/api/v1/authenticate', {
          from,
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ mac: d.mac, pap }),
        });
      // Each wrong PAP from another address of one /24 (SOURCE_PREFIX_IPV4): one budget, not ten.
      for (const [i, d] of acme.slice(0, 10).entries())
        assert.equal((await auth(d, wrongFor(d.pap), `127.0.0.${i + 1}`)).status, 200);
      const last = acme[10]!;
      const res = await auth(last, last.pap, '127.0.0.200');
      assert.equal(res.status, 429);
      assert.equal(res.headers['retry-after'], String(WINDOW));
      assert.equal(JSON.parse(res.body).error, 'source_limited');
      assert.equal((await store.getDevice('acme', last.mac))!.state, 'needed');
      assert.equal(crossings[0]!.source, 'api:operator@127.0.0.0/24');
      assert.equal(
        (await auth(last, last.pap, '127.0.1.1')).status,
        200,
        'the next /24 has a budget of its own',
      );
    } finally {
      await app.close();
    }
  });
});

describe('guessing by tenant tokens', () => {
  const r = new TestRedis();
  const clock = T0;
  const crossings: SourceCrossing[] = [];
  before(() => r.start());
  after(() => r.stop());

  it("counts all of a tenant's tokens as one source: a new token is no fresh budget", async () => {
    const TOKEN = 'guessing-test-operator-token-02';
    const store = new Store(r.client, {
      auth: POLICY,
      eventsMaxLen: 1000,
      now: () => clock,
      onSourceLimited: (c) => crossings.push(c),
    });
    const app: FastifyInstance = createAdminServer({
      config: loadConfig({ ADMIN_TOKEN: TOKEN }),
      store,
      log: silentLog,
      adminToken: TOKEN,
      now: () => clock,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as AddressInfo).port;
      const call = async (bearer: string, path: string, body: unknown) => {
        const res = await request(port, path, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: JSON.parse(res.body) as Record<string, string> };
      };
      const made = await seedDevices(store, 'acme', 12, '00156510');
      const first = (await call(TOKEN, '/api/v1/tenants/acme/tokens', { name: 'first' })).json.token!;
      for (const d of made.slice(0, 10))
        assert.equal(
          (await call(first, '/api/v1/authenticate', { mac: d.mac, pap: wrongFor(d.pap) })).status,
          200,
        );
      // The token makes another token: the tenant's budget is spent all the same.
      const second = (await call(first, '/api/v1/tenants/acme/tokens', { name: 'second' })).json.token!;
      const d = made[10]!;
      const res = await call(second, '/api/v1/authenticate', { mac: d.mac, pap: wrongFor(d.pap) });
      assert.equal(res.status, 429);
      assert.equal(res.json.error, 'source_limited');
      assert.deepEqual(
        crossings.map((c) => [c.source, c.scope]),
        [['api:acme', 'tenant']],
        'one source, one alert',
      );
      assert.equal((await store.getDevice('acme', d.mac))!.totalFailures, 0);
    } finally {
      await app.close();
    }
  });
});

describe('alert queue while the webhook is away', () => {
  it("drops the oldest alert of the source with the most waiting, never the operator's new one; the same alert waits once", async () => {
    // A webhook that holds every request until it is back: meanwhile the alerts wait in the queue.
    const received: SourceCrossing[] = [];
    const held: http.ServerResponse[] = [];
    let back = false;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as SourceCrossing);
        if (back) res.writeHead(204).end();
        else held.push(res);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { log, lines } = capturedLog();
    const port = (server.address() as AddressInfo).port;
    const alerts = new Alerts({ webhookUrl: `http://127.0.0.1:${port}/hook`, log, maxQueue: 5, tries: 1 });
    const crossing = (source: string, tenant: string): SourceCrossing => ({
      source,
      scope: 'tenant',
      tenant,
      mac: '001565000000' as Mac,
      limit: 10,
      windowSeconds: 60,
      at: T0,
    });
    const flood = 'sip:198.51.100.0/24';
    try {
      // The first is being sent (and held); five more fill the queue: one source's flood.
      for (let i = 0; i < 6; i++) alerts.sourceLimited(crossing(flood, `t${i}`));
      // The same crossing again replaces the one waiting rather than taking another place.
      alerts.sourceLimited(crossing(flood, 't5'));
      assert.equal(lines.filter((l) => l.msg.startsWith('alert webhook queue full')).length, 0);
      // The operator's real alert, from elsewhere: queued; the flood's oldest waiting one goes.
      alerts.sourceLimited(crossing('sip:203.0.113.0/24', 'acme'));
      assert.deepEqual(
        lines.filter((l) => l.msg.startsWith('alert webhook queue full')).map((l) => [l.source, l.level]),
        [[flood, 40]],
        'the drop is logged',
      );
      await until('the first alert to reach the webhook', () => (held.length === 1 ? true : undefined));
      back = true;
      held[0]!.writeHead(204).end();
      await alerts.idle();
      assert.deepEqual(
        received.map((c) => [c.source, c.tenant]),
        [
          [flood, 't0'],
          [flood, 't2'],
          [flood, 't3'],
          [flood, 't4'],
          [flood, 't5'],
          ['sip:203.0.113.0/24', 'acme'],
        ],
      );
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
});

describe('guessing alerts: webhook', () => {
  const r = new TestRedis();
  let server: http.Server;
  const received: Record<string, unknown>[] = [];
  let requests = 0;
  before(async () => {
    await r.start();
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        requests += 1;
        // The first delivery fails: the alert must arrive on a retry.
        if (requests === 1) return res.writeHead(500).end();
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  });
  after(async () => {
    await new Promise((ok) => server.close(ok));
    await r.stop();
  });

  it('posts one alert per crossing, retried, never per refused attempt', async () => {
    let clock = T0;
    const port = (server.address() as AddressInfo).port;
    const alerts = new Alerts({ webhookUrl: `http://127.0.0.1:${port}/hook`, log: silentLog, backoffMs: 10 });
    const store = new Store(r.client, {
      auth: POLICY,
      eventsMaxLen: 1000,
      now: () => clock,
      onSourceLimited: (c) => alerts.sourceLimited(c),
    });
    const res = await seedDevices(store, 'acme', 40, '0015650f', 'snom', 'D785');
    const guess = async (from: number) => {
      for (const d of res.slice(from, from + 20))
        await store.attemptPap(d.mac, wrongFor(d.pap), null, 'test', 'ivr', { source: ATTACKER });
    };
    await guess(0);
    await alerts.idle();
    assert.equal(received.length, 1, 'one alert for 10 counted and 10 refused attempts');
    assert.equal(requests, 2, 'the failed delivery was retried');
    assert.deepEqual(
      [received[0]!.type, received[0]!.source, received[0]!.scope, received[0]!.tenant, received[0]!.limit],
      ['source_limited', ATTACKER, 'tenant', 'acme', 10],
    );
    clock += WINDOW * 1000;
    await guess(20);
    await alerts.idle();
    assert.equal(received.length, 2, 'the next crossing, a window later, alerts again');
  });
});

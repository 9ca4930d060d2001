import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { createAdminServer } from '../src/admin/server';
import { ConfigError, loadConfig } from '../src/config';
import { Metrics } from '../src/lib/metrics';
import { Health } from '../src/http/observability';
import { RegisterAdmission } from '../src/sip/overload';
import { PROJECT_ROOT } from '../src/lib/paths';
import { createProvisioningServer } from '../src/provisioning/server';
import { connectRedis, type RedisClient } from '../src/store/connect';
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from '../src/store/embedded';
import { Schema } from '../src/store/schema';
import { Store } from '../src/store/store';
import { request } from './support/http';
import { FAST_POLICY, seedDevice, silentLog } from './support/redis';
import { exited, killServices, startService, until } from './support/service';

const TOKEN = 'observability-test-token-0123456789';
const MAC = '001565aabbcc';
const OTHER_MAC = '001565aabbdd';
const UA = 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc';
const OBS_DIR = path.join(PROJECT_ROOT, 'config', 'observability');

/** Sample lines of an exposition: name, labels, value. */
function samples(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of one series (0 when absent), labels matched exactly on the ones given. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  return samples(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Every metric name an exposition declares (`# TYPE`), with the series names a histogram adds. */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1]! + s);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names of a PromQL expression: identifiers that are not functions, keywords, label names or strings. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...stripped.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w.toLowerCase()) && !/^[0-9]/.test(w));
}

function exprsOf(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(exprsOf);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => (k === 'expr' && typeof v === 'string' ? [v] : exprsOf(v)));
}

describe('observability: configuration', () => {
  it('serves /metrics on a loopback admin listener, never on a public one without METRICS_PUBLIC=1', () => {
    assert.equal(loadConfig({}).metrics.serve, 'admin');
    assert.equal(loadConfig({ ADMIN_HOST: '::1' }).metrics.serve, 'admin');
    assert.equal(loadConfig({ ADMIN_HOST: '0.0.0.0' }).metrics.serve, 'off');
    assert.equal(loadConfig({ ADMIN_HOST: 'admin.example' }).metrics.serve, 'off');
    assert.equal(loadConfig({ ADMIN_HOST: '0.0.0.0', METRICS_PUBLIC: '1' }).metrics.serve, 'admin');
    assert.deepEqual(loadConfig({ METRICS_PORT: '9464' }).metrics, {
      serve: 'own',
      host: '127.0.0.1',
      port: 9464,
    });
    assert.equal(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '[::1]' }).metrics.serve, 'own');
    assert.equal(
      loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5', METRICS_PUBLIC: '1' }).metrics.host,
      '10.0.0.5',
    );
    const refused = (env: Record<string, string>, variable: string) =>
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.variable === variable,
      );
    refused({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }, 'METRICS_HOST');
    refused({ METRICS_PORT: '9464', METRICS_HOST: 'metrics.example' }, 'METRICS_HOST');
    refused({ METRICS_HOST: '127.0.0.1' }, 'METRICS_HOST');
    refused({ METRICS_PUBLIC: 'yes' }, 'METRICS_PUBLIC');
    refused({ METRICS_PORT: 'x' }, 'METRICS_PORT');
  });

  it('reads metric names from PromQL', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y{z}"}[5m]))) / on (peer) b > 0.1 and c offset 5m',
      ),
      ['a_bucket', 'b', 'c'],
    );
  });
});

describe('observability: readiness of the SIP side', () => {
  // The SIP side behind its small interface; the e2e drain test runs the real one.
  it('is not ready once the SIP side drains for shutdown, though its peers are still connected', async () => {
    const health = new Health({ ping: async () => undefined }, true);
    let accepting = true;
    health.watchSip({
      activeCalls: () => 1,
      connected: () => ({ freeswitch: true, drachtio: true }),
      mediaServers: () => [{ server: '127.0.0.1:8021', connected: true, calls: 1 }],
      accepting: () => accepting,
    });
    assert.equal((await health.ready()).ready, true);
    accepting = false;
    assert.deepEqual(await health.ready(), {
      ready: false,
      checks: { redis: 'ok', freeswitch: 'ok', drachtio: 'ok', calls: 'draining' },
    });
  });

  it('with several FreeSWITCH, is ready while one is connected and says how many are', async () => {
    const health = new Health({ ping: async () => undefined }, true);
    const up = [true, false];
    health.watchSip({
      activeCalls: () => 0,
      connected: () => ({ freeswitch: up.includes(true), drachtio: true }),
      mediaServers: () => up.map((connected, i) => ({ server: `127.0.0.1:802${i}`, connected, calls: 0 })),
      accepting: () => true,
    });
    assert.deepEqual(await health.ready(), {
      ready: true,
      checks: { redis: 'ok', freeswitch: '1/2 connected', drachtio: 'ok' },
    });
    up[0] = false;
    assert.deepEqual(await health.ready(), {
      ready: false,
      checks: { redis: 'ok', freeswitch: '0/2 connected', drachtio: 'ok' },
    });
  });
});

describe('observability: how close REGISTER admission came to shedding', () => {
  it('exports the recent peaks in seconds, the same to every scraper, and the bound they are held to', async () => {
    const metrics = new Metrics();
    let now = 0;
    const admission = new RegisterAdmission({
      ratePerSecond: 0,
      maxPending: 100,
      behindMs: 200,
      farBehindMs: 400,
      loopDelayMs: () => 0,
      now: () => now,
    });
    metrics.watchSip({
      activeCalls: () => 0,
      connected: () => ({ freeswitch: true, drachtio: true }),
      mediaServers: () => [],
      registerLateness: () => admission.recentPeak(),
      overloadBehindMs: () => 200,
    });
    const line = (body: string, name: string) =>
      new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(body)?.[1];
    const waiting = admission.admit(false, undefined) as () => void;
    now += 450;
    assert.equal(admission.admit(false, undefined), 'store_wait');
    waiting();
    for (const scraper of ['the operator', 'a second Prometheus']) {
      const { body } = await metrics.expose();
      assert.equal(
        line(body, 'papgate_sip_register_lateness_seconds{measure="store_wait"}'),
        '0.45',
        scraper,
      );
      assert.equal(line(body, 'papgate_sip_overload_behind_seconds'), '0.2');
    }
    now += 30_000;
    const { body } = await metrics.expose();
    assert.equal(
      line(body, 'papgate_sip_register_lateness_seconds{measure="store_wait"}'),
      '0',
      'gone after 30 s',
    );
  });
});

describe('observability: metrics and readiness over real HTTP and Redis', () => {
  let dir: string;
  let redisPort: number;
  let server: EmbeddedRedis;
  let client: RedisClient;
  let metrics: Metrics;
  let admin: FastifyInstance;
  let provisioning: FastifyInstance;
  let adminPort: number;
  let provPort: number;
  let pap: string;
  let otherPap: string;

  const startRedis = () =>
    startEmbeddedRedis({ bin: 'redis-server', dir, persistent: false, port: redisPort });
  const scrape = async () => {
    const res = await request(adminPort, '/metrics');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return res.body;
  };
  const authenticate = (mac: string, p: string) =>
    request(adminPort, '/api/v1/authenticate', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mac, pap: p }),
    });

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-obs-'));
    redisPort = await freePort();
    server = await startRedis();
    metrics = new Metrics({ processMetrics: true });
    client = await connectRedis(server.url, silentLog, { commandTimeoutMs: 500, metrics });
    const store = new Store(client, {
      auth: FAST_POLICY,
      eventsMaxLen: 1000,
      onTransition: (from, to) => metrics.transition(from, to),
    });
    const config = loadConfig({ ADMIN_TOKEN: TOKEN });
    const health = new Health(store, false);
    admin = createAdminServer({ config, store, log: silentLog, adminToken: TOKEN, metrics, health });
    provisioning = createProvisioningServer({ config, store, log: silentLog, metrics });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    await provisioning.listen({ host: '127.0.0.1', port: 0 });
    adminPort = (admin.server.address() as AddressInfo).port;
    provPort = (provisioning.server.address() as AddressInfo).port;
    await seedDevice(store, MAC);
    await seedDevice(store, OTHER_MAC);
    pap = (await store.getDevice('acme', MAC as never))!.pap;
    otherPap = (await store.getDevice('acme', OTHER_MAC as never))!.pap;
  });
  after(async () => {
    await admin.close();
    await provisioning.close();
    client.destroy();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers /healthz and /readyz without a token, and /metrics in the Prometheus text format', async () => {
    const live = await request(adminPort, '/healthz');
    assert.equal(live.status, 200);
    assert.deepEqual(JSON.parse(live.body), { status: 'alive' });
    const ready = await request(adminPort, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { status: 'ready', checks: { redis: 'ok' } });
    const text = await scrape();
    assert.ok(value(text, 'process_resident_memory_bytes') > 0, 'process metrics');
    // Series exist at 0 before the first event, so that rate() is defined from the start.
    assert.ok(/^papgate_pap_attempts_total\{channel="pbx",outcome="successful"\} 0$/m.test(text));
  });

  it('counts provisioning replies by vendor, decision and status', async () => {
    const before = await scrape();
    const minimal = { vendor: 'yealink', decision: 'minimal', status: '200' };
    const miss = { vendor: 'none', decision: 'none', status: '404' };
    const res = await request(provPort, `/${MAC}.cfg`, { from: '127.0.0.2', headers: { 'user-agent': UA } });
    assert.equal(res.status, 200);
    assert.equal((await request(provPort, '/001565000000.cfg', { from: '127.0.0.2' })).status, 404);
    assert.equal((await request(provPort, `/${MAC}.cfg`, { method: 'POST' })).status, 405);
    const after = await scrape();
    const moved = (labels: Record<string, string>) =>
      value(after, 'papgate_provisioning_replies_total', labels) -
      value(before, 'papgate_provisioning_replies_total', labels);
    assert.equal(moved(minimal), 1);
    assert.equal(moved(miss), 1);
    assert.equal(moved({ vendor: 'none', decision: 'none', status: '405' }), 1);
    assert.equal(moved({ vendor: 'yealink', decision: 'full' }), 0);
    assert.ok(
      value(after, 'papgate_store_command_duration_seconds_count') >
        value(before, 'papgate_store_command_duration_seconds_count'),
      'store latency observed',
    );
  });

  it('counts API PAP attempts by outcome and the state transitions they make', async () => {
    const before = await scrape();
    const wrong = pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < FAST_POLICY.maxConsecutiveFailures; i++)
      assert.equal((await authenticate(MAC, wrong)).status, 200);
    assert.equal((await authenticate(OTHER_MAC, otherPap)).status, 200);
    assert.equal((await authenticate('001565999999', '123456')).status, 404);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    const attempts = (outcome: string) => moved('papgate_pap_attempts_total', { channel: 'api', outcome });
    assert.equal(attempts('wrong_pap'), FAST_POLICY.maxConsecutiveFailures - 1);
    assert.equal(attempts('failed'), 1);
    assert.equal(attempts('successful'), 1);
    assert.equal(attempts('unknown_device'), 1);
    const transition = (from: string, to: string) => moved('papgate_state_transitions_total', { from, to });
    assert.equal(transition('needed', 'failed'), 1);
    assert.equal(transition('needed', 'successful'), 1);
  });

  it('never puts a MAC, an IP, a PAP or a tenant into a label', async () => {
    const text = await scrape();
    const values = samples(text).flatMap((s) => Object.values(s.labels));
    assert.ok(values.length > 100);
    const secrets = [MAC, OTHER_MAC, '00:15:65', pap, otherPap, '127.0.0', 'acme', 'Acme', 'HQ'];
    for (const v of values) {
      for (const s of secrets) assert.ok(!v.includes(s), `label value "${v}" carries "${s}"`);
      assert.ok(!/[0-9a-f]{12}|\d{6}|\d+\.\d+\.\d+\.\d+/i.test(v), `label value "${v}"`);
    }
  });

  it('is not ready until the start-up migration of the data layout has finished', async () => {
    const schema = new Schema(client, 200);
    const migrating = new Health(new Store(client, { auth: FAST_POLICY, eventsMaxLen: 1000, schema }), false);
    assert.deepEqual(await migrating.ready(), { ready: false, checks: { redis: 'migrating' } });
    await schema.bringUpToDate(silentLog);
    assert.deepEqual(await migrating.ready(), { ready: true, checks: { redis: 'ok' } });
  });

  it('says unreachable, not migrating, while Redis has never answered', async () => {
    const dead = await connectRedis(`redis://127.0.0.1:${await freePort()}`, silentLog, {
      waitForFirst: false,
    });
    try {
      const schema = new Schema(dead, 200);
      const health = new Health(new Store(dead, { auth: FAST_POLICY, eventsMaxLen: 1000, schema }), false);
      assert.deepEqual(await health.ready(), { ready: false, checks: { redis: 'unreachable' } });
    } finally {
      dead.destroy();
    }
  });

  it('counts a command Redis does not answer in time (CLIENT PAUSE) as a timeout, and /readyz says so', async () => {
    const before = await scrape();
    const other = await connectRedis(server.url, silentLog);
    // Longer than the client's command timeout (500 ms); it ends by itself.
    await other.sendCommand(['CLIENT', 'PAUSE', '1000', 'ALL']);
    other.destroy();
    const paused = await request(adminPort, '/readyz');
    assert.equal(paused.status, 503);
    assert.deepEqual(JSON.parse(paused.body), { status: 'not_ready', checks: { redis: 'timeout' } });
    const after = await scrape();
    assert.equal(
      value(after, 'papgate_store_errors_total', { kind: 'timeout' }) -
        value(before, 'papgate_store_errors_total', { kind: 'timeout' }),
      1,
    );
    assert.equal(
      value(after, 'papgate_store_errors_total', { kind: 'unavailable' }),
      value(before, 'papgate_store_errors_total', { kind: 'unavailable' }),
    );
  });

  it('counts store errors while Redis is away, /readyz says why, and is ready again when it is back', async () => {
    const before = await scrape();
    await server.stop();
    assert.equal((await request(provPort, `/${MAC}.cfg`, { headers: { 'user-agent': UA } })).status, 503);
    const down = await request(adminPort, '/readyz');
    assert.equal(down.status, 503);
    assert.ok(down.headers['retry-after']);
    assert.deepEqual(JSON.parse(down.body), { status: 'not_ready', checks: { redis: 'unreachable' } });
    assert.equal((await authenticate(MAC, pap)).status, 503);
    const during = await scrape();
    assert.ok(
      value(during, 'papgate_store_errors_total', { kind: 'unavailable' }) >
        value(before, 'papgate_store_errors_total', { kind: 'unavailable' }),
    );
    const storeErrors = (t: string) =>
      value(t, 'papgate_pap_attempts_total', { channel: 'api', outcome: 'store_error' });
    assert.equal(storeErrors(during) - storeErrors(before), 1);
    assert.equal(
      value(during, 'papgate_provisioning_replies_total', {
        vendor: 'none',
        decision: 'none',
        status: '503',
      }) -
        value(before, 'papgate_provisioning_replies_total', {
          vendor: 'none',
          decision: 'none',
          status: '503',
        }),
      1,
    );

    server = await startRedis();
    await until('ready again', async () =>
      (await request(adminPort, '/readyz')).status === 200 ? true : undefined,
    );
  });
});

describe('observability: the running service, its dashboard and its alert rules', () => {
  after(() => killServices());

  it('exports every metric the Grafana dashboard and the alert rules use, on METRICS_PORT only', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-obs-main-'));
    const [adminPort, provPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const svc = startService({
      DATA_DIR: dataDir,
      ADMIN_TOKEN: TOKEN,
      ADMIN_PORT: String(adminPort),
      PROVISIONING_PORT: String(provPort),
      METRICS_PORT: String(metricsPort),
    });
    await until('metrics listening', async () => {
      const r = await request(metricsPort, '/readyz').catch(() => null);
      return r?.status === 200 ? true : undefined;
    });
    const res = await request(metricsPort, '/metrics');
    assert.equal(res.status, 200);
    assert.equal((await request(adminPort, '/metrics')).status, 404);
    assert.equal((await request(metricsPort, '/api/v1/tenants')).status, 404);
    const names = exported(res.body);

    const dashboard = JSON.parse(
      fs.readFileSync(path.join(OBS_DIR, 'grafana-dashboard.json'), 'utf8'),
    ) as unknown;
    const rules = parseYaml(fs.readFileSync(path.join(OBS_DIR, 'alerts.yml'), 'utf8')) as unknown;
    const used = [...exprsOf(dashboard), ...exprsOf(rules)].flatMap(metricNames);
    assert.ok(exprsOf(rules).length >= 5 && exprsOf(dashboard).length >= 10);
    for (const n of [
      'papgate_pap_attempts_total',
      'papgate_state_transitions_total',
      'papgate_store_errors_total',
      'papgate_sip_registers_shed_total',
      'papgate_sip_register_lateness_seconds',
      'papgate_sip_overload_behind_seconds',
      'papgate_emergency_call_setup_seconds_bucket',
    ])
      assert.ok(used.includes(n), `${n} is not used`);
    for (const n of new Set(used)) assert.ok(names.has(n), `${n} is used but not exported`);
    svc.child.kill('SIGTERM');
    assert.equal(await exited(svc.child), 0);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

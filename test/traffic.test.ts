/**
 * Strangers flooding papgate with what any of them can cause per request (minimal-file GETs of a
 * known MAC, refused provisioning requests, REGISTERs with a copied password): the audit trail keeps
 * what admins and successes wrote, the phone traffic and the log get a bounded share per client.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig, type Config } from '../src/config';
import { EMERGENCY_AUDIT } from '../src/domain/emergency';
import { clientOf, SOURCE_PREFIX } from '../src/domain/prefix';
import { restrictedSipPassword } from '../src/domain/pap';
import { LogLimit } from '../src/lib/loglimit';
import { PROJECT_ROOT } from '../src/lib/paths';
import { OWN_SHARE_REFUSALS } from '../src/domain/provisioning';
import { createProvisioningServer } from '../src/provisioning/server';
import { handleRegister } from '../src/sip/registrar';
import { RegisterAdmission } from '../src/sip/overload';
import { keys } from '../src/store/keys';
import { SipStore } from '../src/store/sip';
import { Store } from '../src/store/store';
import { capturedLog, TestRedis } from './support/redis';
import { authorization, nonceOf, REALM, registerRequest, reply } from './support/register';

const TOKEN = 'traffic-test-operator-token';
const MACS = ['001565aa0001', '001565aa0002'];
const UNTIL_LIMITED = 21; // TRAFFIC_PER_CLIENT events, then traffic_limited

describe('a flood of phone traffic', function () {
  this.timeout(120_000);
  const r = new TestRedis();
  let clock = Date.now();
  let config: Config;
  let store: Store;
  let admin: FastifyInstance;
  let provisioning: FastifyInstance;
  let adminPort = 0;
  let provPort = 0;
  let logs: ReturnType<typeof capturedLog>;

  before(async () => {
    await r.start();
    // The smallest audit trail papgate allows: a flood of ten thousand requests would trim it 100 times over.
    config = loadConfig({
      ADMIN_TOKEN: TOKEN,
      EVENTS_MAX_LEN: '100',
      TRAFFIC_MAX_LEN: '1000',
      PROVISIONING_MISS_LIMIT: '1000000',
    });
    store = new Store(r.client, {
      auth: config.auth,
      eventsMaxLen: config.eventsMaxLen,
      traffic: config.traffic,
      now: () => clock,
    });
  });
  after(() => r.stop());
  beforeEach(async () => {
    await r.flush();
    clock = Date.now();
    logs = capturedLog();
    const log = logs.log;
    admin = createAdminServer({ config, store, log, adminToken: TOKEN, now: () => clock });
    provisioning = createProvisioningServer({ config, store, log, now: () => clock });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    await provisioning.listen({ host: '127.0.0.1', port: 0 });
    adminPort = (admin.server.address() as AddressInfo).port;
    provPort = (provisioning.server.address() as AddressInfo).port;
    // What an admin does and what must outlive any flood.
    await api('PUT', '/tenants/acme', { name: 'Acme' });
    for (const mac of MACS)
      await api('POST', '/tenants/acme/devices', { mac, vendor: 'yealink', model: 'T54W', site: 'HQ' });
    await api('POST', '/tenants/acme/whitelist', { entry: '198.51.100.0/24' });
  });
  afterEach(async () => {
    await admin.close();
    await provisioning.close();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const events = async (stream: 'audit' | 'traffic') =>
    (await api('GET', `/tenants/acme/events?count=1000&stream=${stream}`)).events as Record<string, string>[];

  /** `n` GETs of `path` from `from`, `parallel` at a time over kept-alive connections; their statuses. */
  async function flood(
    path: (i: number) => string,
    from: string,
    n: number,
    parallel = 8,
    headers: Record<string, string> = {},
  ): Promise<number[]> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: parallel, localAddress: from });
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        statuses.push(
          await new Promise<number>((resolve, reject) =>
            http
              .get({ host: '127.0.0.1', port: provPort, path: path(i), agent, headers }, (res) => {
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              })
              .on('error', reject),
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    agent.destroy();
    return statuses;
  }

  /** `n` REGISTERs from `source` with the password of a minimal file fetched elsewhere: all refused. */
  async function registers(source: string, n: number): Promise<void> {
    const sipStore = new SipStore(r.client, { nonceSeconds: 30 });
    const deps = {
      realm: REALM,
      bindToSourceAddress: true,
      sipStore,
      findDevice: (m: Parameters<SipStore['login']>[0]) => sipStore.login(m),
      traffic: (t: string, src: string, type: string, fields: Record<string, string>) =>
        store.appendTraffic(t, src, type, fields),
      logLimit: new LogLimit({
        perClient: config.traffic.perClient,
        windowMs: config.traffic.windowSeconds * 1000,
      }),
      clientPrefix: config.traffic.clientPrefix,
      maxExpiresSeconds: 300,
      admission: new RegisterAdmission({
        ratePerSecond: 0,
        maxPending: 1e6,
        behindMs: 40,
        farBehindMs: 250,
        loopDelayMs: () => 0,
      }),
      overloadRetryAfterSeconds: 7,
      log: logs.log,
    };
    const send = async (headers: Record<string, string> = {}) => {
      const { res, got } = reply();
      await handleRegister(registerRequest({ source, headers }), res, deps);
      return got;
    };
    const secret = (await store.findDevice(MACS[0]! as never))!.sipPassword;
    const nonce = nonceOf((await send()).headers['WWW-Authenticate']!);
    // Wrong credentials never use up a nonce: one challenge serves the whole flood.
    const copied = authorization({
      user: MACS[0]!,
      password: restrictedSipPassword(secret, '127.0.0.2', true),
      nonce,
      uri: 'sip:127.0.0.1',
      nc: 1,
    });
    for (let i = 0; i < n; i++) assert.equal((await send({ Authorization: copied })).status, 403);
    // the traffic events are written after the answer: wait for the last ones
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const assertAuditTrail = async () => {
    const audit = await events('audit');
    const types = audit.map((e) => e.type);
    assert.ok(types.includes('tenant_created'), `the tenant's creation is gone: ${types.slice(0, 5)}`);
    assert.deepEqual(
      audit.filter((e) => e.type === 'device_added').map((e) => e.mac),
      [...MACS].reverse(),
      'device additions are gone',
    );
    assert.ok(types.includes('whitelist_added'), 'the whitelist entry is gone');
    assert.ok(
      !types.includes('sip_register_refused') && !types.includes('traffic_limited'),
      'traffic in the audit trail',
    );
    return audit;
  };

  it('from one client: 5,000 minimal GETs, 1,000 refused GETs, 2,000 refused REGISTERs', async () => {
    const minimal = await flood(() => `/${MACS[0]}.cfg`, '127.0.0.2', 5000);
    assert.deepEqual(new Set(minimal), new Set([200]));
    const refused = await flood(() => `/d/${'f'.repeat(32)}/${MACS[0]}.cfg`, '127.0.0.3', 1000);
    assert.deepEqual(new Set(refused), new Set([403]));
    await assertAuditTrail();
    await registers('127.0.0.4', 2000);
    // the device record still says where the last request came from, though no event says it
    clock += 1000;
    assert.equal((await flood(() => `/${MACS[0]}.cfg`, '127.0.0.5', 1))[0], 200);
    const last = (await api('GET', `/tenants/acme/devices/${MACS[0]}`)).lastProvisioning as Record<
      string,
      string
    >;
    assert.deepEqual(last, { at: new Date(clock).toISOString(), ip: '127.0.0.5', outcome: 'minimal' });

    const audit = await assertAuditTrail();
    assert.equal(audit.filter((e) => e.type === 'provisioning').length, 0);
    // one client (127.0.0.0/24, every address here): 20 events, then one saying that more are left out
    const traffic = await events('traffic');
    assert.equal(traffic.length, UNTIL_LIMITED, traffic.map((e) => e.type).join(' '));
    assert.deepEqual(
      { ...traffic[0], id: '', ts: '' },
      {
        id: '',
        ts: '',
        type: 'traffic_limited',
        client: '127.0.0.0/24',
        limit: '20',
        until: String(Number(traffic[20]!.ts) + 60_000),
      },
    );
    // the log likewise: 20 lines of each kind of refusal, then one saying the rest is suppressed
    assert.equal(logs.count('provisioning refused'), 20 + 1);
    assert.equal(logs.count('register refused'), 20 + 1);
    assert.match(logs.lines.find((l) => l.limit === 20)!.msg, /further lines of this client suppressed/);

    // The first full provisioning that makes a device successful is audited, even now.
    await api('POST', `/tenants/acme/devices/${MACS[1]}/suspend`, { network: '127.0.0.2' });
    assert.equal((await flood(() => `/${MACS[1]}.cfg`, '127.0.0.2', 1))[0], 200);
    const made = (await events('audit')).filter((e) => e.mac === MACS[1]);
    assert.deepEqual(
      made.slice(0, 2).map((e) => [e.type, e.reason]),
      [
        ['provisioning', 'suspension'],
        ['transition', 'suspension'],
      ],
    );
  });

  it('a flood of wrong credentials hides no User-Agent naming another MAC; that refusal has its own bounded share', async () => {
    const wrong = await flood(() => `/d/${'f'.repeat(32)}/${MACS[0]}.cfg`, '127.0.0.3', 21, 1);
    assert.deepEqual(new Set(wrong), new Set([403]));
    const other = { 'user-agent': 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:00:99' };
    assert.deepEqual(await flood(() => `/${MACS[0]}.cfg`, '127.0.0.4', 1, 1, other), [403]);
    const mismatches = () =>
      logs.lines.filter((l) => l.reason === 'user_agent_mismatch' || l.share === 'user_agent_mismatch');
    assert.deepEqual(
      mismatches().map((l) => [l.msg, l.mac, l.userAgent]),
      [['provisioning refused', MACS[0], other['user-agent']]],
      'logged although the network used up its share of refusals',
    );
    const ofReason = async () =>
      (await events('traffic')).filter((e) => e.reason === 'user_agent_mismatch').map((e) => e.type);
    assert.deepEqual(await ofReason(), ['provisioning']);
    // Its own share is bounded as the common one is: a stranger can fake this one as easily.
    await flood(() => `/${MACS[0]}.cfg`, '127.0.0.4', 40, 4, other);
    assert.deepEqual(await ofReason(), ['traffic_limited', ...Array<string>(20).fill('provisioning')]);
    assert.equal(
      (await events('traffic')).length,
      2 * UNTIL_LIMITED,
      'two shares of the client, each 20 and a note',
    );
    assert.equal(mismatches().length, 20 + 1);
  });

  it('from many networks: each gets its share, the audit trail keeps everything', async () => {
    const xadds = async () =>
      Number(/cmdstat_xadd:calls=([0-9]+)/.exec(await r.client.info('commandstats'))?.[1] ?? 0);
    const before = await xadds();
    const networks = Array.from({ length: 60 }, (_, i) => `127.${i + 1}.0.9`);
    for (const from of networks) {
      const answers = await flood(() => `/${MACS[0]}.cfg`, from, 60);
      assert.deepEqual(new Set(answers), new Set([200]));
    }
    for (let i = 0; i < 20; i++) await registers(`127.200.${i}.9`, 40);
    await assertAuditTrail();
    // 80 clients, each 20 events and a note: 1,680 writes for 4,400 requests
    const written = (await xadds()) - before;
    assert.equal(written, 80 * UNTIL_LIMITED);
    const len = await r.client.xLen(keys.tenant('acme').traffic);
    assert.ok(len <= 1100, `the traffic stream holds ${len} events (TRAFFIC_MAX_LEN 1000, trimmed with ~)`);
  });

  it('emergency calls as one device: the first EMERGENCY_AUDIT.perDevice audited, then one note; the next window counts the rest; other devices keep theirs', async () => {
    // anyone holding a MAC's minimal file may call 112 as it as often as it likes
    const call = (mac: string, i: number) =>
      store.emergencyCall('acme', mac, { ip: '198.51.100.7', callId: `c${i}`, outcome: 'connected' });
    for (let i = 0; i < 40; i++) await call(MACS[0]!, i);
    await call(MACS[1]!, 99);
    const emergency = (await events('audit')).filter((e) => e.type?.startsWith('emergency_call'));
    assert.deepEqual(emergency.map((e) => [e.type, e.mac, e.callId]).reverse(), [
      ...Array.from({ length: EMERGENCY_AUDIT.perDevice }, (_, i) => ['emergency_call', MACS[0], `c${i}`]),
      ['emergency_calls_limited', MACS[0], undefined],
      ['emergency_call', MACS[1], 'c99'],
    ]);
    await assertAuditTrail();
    clock += EMERGENCY_AUDIT.windowSeconds * 1000;
    await call(MACS[0]!, 40);
    const [latest, suppressed] = (await events('audit')).filter((e) => e.mac === MACS[0]);
    assert.deepEqual([latest!.type, latest!.callId], ['emergency_call', 'c40']);
    assert.deepEqual(
      [suppressed!.type, suppressed!.count],
      ['emergency_calls_suppressed', String(40 - EMERGENCY_AUDIT.perDevice)],
    );
  });

  it("tells in the client's next window how many of its events were left out", async () => {
    await flood(() => `/${MACS[0]}.cfg`, '127.0.0.2', 35, 1);
    clock += 60_000;
    await flood(() => `/${MACS[0]}.cfg`, '127.0.0.2', 1);
    const [latest, suppressed] = await events('traffic');
    assert.equal(latest!.type, 'provisioning');
    assert.equal(suppressed!.type, 'traffic_suppressed');
    assert.equal(suppressed!.count, '15');
    assert.equal(suppressed!.client, '127.0.0.0/24');
    assert.equal(Number(suppressed!.until) - Number(suppressed!.since), 60_000);
  });
});

describe('clients and their log lines', () => {
  it("the refusals with a traffic share of their own are the domain's list in the scripts too", () => {
    const prelude = fs.readFileSync(path.join(PROJECT_ROOT, 'src', 'store', 'lua', 'prelude.lua'), 'utf8');
    const table = /^local OWN_SHARE = \{ (.*) \}$/m.exec(prelude)?.[1] ?? '';
    assert.deepEqual(
      table.split(', ').map((e) => e.replace(/ = true$/, '')),
      [...OWN_SHARE_REFUSALS],
    );
  });

  it('a client is the /24 of an IPv4 address, the /64 of an IPv6 one, prefix lengths as given', () => {
    assert.equal(clientOf('198.51.100.77', SOURCE_PREFIX), '198.51.100.0/24');
    assert.equal(clientOf('::ffff:198.51.100.77', SOURCE_PREFIX), '198.51.100.0/24');
    assert.equal(clientOf('2001:db8:1:2:3:4:5:6', SOURCE_PREFIX), '2001:db8:1:2::/64');
    assert.equal(clientOf('2001:DB8:1:2::7', SOURCE_PREFIX), '2001:db8:1:2::/64');
    assert.equal(clientOf('198.51.100.77', { ipv4: 16, ipv6: 48 }), '198.51.0.0/16');
    assert.equal(clientOf('2001:db8:1:2::7', { ipv4: 16, ipv6: 48 }), '2001:db8:1::/48');
    assert.equal(clientOf('198.51.100.77', { ipv4: 32, ipv6: 128 }), '198.51.100.77/32');
    assert.equal(clientOf('not an address', SOURCE_PREFIX), 'not an address');
  });

  it('LogLimit: the first lines of a window, one saying the rest is suppressed, then their count', () => {
    let now = 0;
    const out = capturedLog();
    const limit = new LogLimit({ perClient: 3, windowMs: 1000, now: () => now });
    for (let i = 0; i < 10; i++) limit.line(out.log, 'warn', 'a', { i }, 'refused');
    limit.line(out.log, 'warn', 'b', { i: 0 }, 'refused');
    assert.deepEqual(
      out.lines.map((l) => [l.i ?? l.client, l.msg]),
      [
        [0, 'refused'],
        [1, 'refused'],
        [2, 'refused'],
        ['a', 'refused: further lines of this client suppressed until the window ends'],
        [0, 'refused'],
      ],
    );
    now = 1000;
    limit.line(out.log, 'warn', 'a', { i: 10 }, 'refused');
    assert.deepEqual(out.lines.at(-1), { ...out.lines.at(-1), i: 10, client: 'a', suppressed: 7 });
  });

  it("LogLimit: each kind of line has its own share, so a client's flood of one does not silence another", () => {
    const out = capturedLog();
    const limit = new LogLimit({ perClient: 2, windowMs: 1000, now: () => 0 });
    for (let i = 0; i < 100; i++) limit.line(out.log, 'info', 'a', { i }, 'register refused');
    limit.line(out.log, 'warn', 'a', {}, 'emergency call: to the emergency route');
    assert.equal(out.count('register refused'), 3);
    assert.equal(out.count('emergency call: to the emergency route'), 1);
  });

  it("LogLimit: a share of a client's lines (an emergency call's device) is not silenced by another's", () => {
    const out = capturedLog();
    const limit = new LogLimit({ perClient: 2, windowMs: 1000, now: () => 0 });
    const msg = 'emergency call: to the emergency route';
    // a stranger in the office's network calls 112 as one MAC, over and over
    for (let i = 0; i < 30; i++) limit.line(out.log, 'warn', 'net', { mac: 'a' }, msg, '001565aa0001');
    limit.line(out.log, 'warn', 'net', { mac: 'b' }, msg, '001565aa0002 site');
    assert.equal(out.lines.filter((l) => l.mac === 'a').length, 2);
    assert.equal(out.lines.filter((l) => l.mac === 'b').length, 1, "the office's own call is logged");
    assert.equal(
      out.lines.filter((l) => l.share === '001565aa0001').length,
      1,
      'one line says the rest is suppressed',
    );
  });
});

/**
 * Scale-out, end to end: papgate processes as deployed (`node dist/src/main.js`, SIGTERM to stop)
 * sharing one Redis and one FreeSWITCH, connected to one drachtio-server, or one papgate on each of
 * two drachtio-servers. A rolling restart during a call; calls spread over two instances with each
 * check-sync sent once; a REGISTER on one SIP node and a call on the other. Every papgate log line
 * lands in the harness's log with the name of the instance that wrote it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { freePort } from '../../src/store/embedded';
import { request } from '../support/http';
import { exited, killServices, startService } from '../support/service';
import {
  sipPort,
  DRACHTIO,
  DRACHTIO2,
  Harness,
  listenPort,
  PBX_IP,
  servers,
  serversRun,
  SIP_TARGET,
  SIP_TARGET2,
  sleep,
  until,
  type E2eDevice,
  type Phone,
} from './harness';

const TOKEN = 'scaleout-e2e-admin-token-0123456789';
/** SHUTDOWN_GRACE_SECONDS of the instances: longer than any call of these tests. */
const GRACE_S = 25;
/** Calls at once in the 20-call test (as many as the fault suite runs; more starve RTP on 2 cores). */
const CONCURRENT_CALLS = 2;

interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly adminPort: number;
}

describe('e2e: several papgate processes on one Redis', function () {
  this.timeout(240000);
  // A longer inter-digit timeout than the other suites: several calls at once on a small machine
  // delay RTP, and a digit split off by a late packet would fail a right PAP.
  const h = new Harness({ IVR_INTER_DIGIT_TIMEOUT_MS: '4000' }, { sipService: false });
  /** A device each instance must serve before it counts as up (see papgate()). */
  let probe: E2eDevice;

  before(async function () {
    await h.start(this);
    probe = await h.device('001565e2afff');
  });

  // A failed test leaves its instances running: they must not take the next test's calls.
  afterEach(() => killServices());

  after(() => h.stop());

  /** papgate processes started so far: each takes the next of FreeSWITCH's allowed listeners. */
  let started = 0;

  /**
   * A papgate process on `drachtio` (default: the first drachtio-server), ready when this resolves;
   * `extra`: more of its configuration.
   */
  async function papgate(
    name: string,
    drachtio = DRACHTIO,
    registrar = SIP_TARGET,
    extra: Record<string, string> = {},
  ): Promise<Instance> {
    const [adminPort, provisioningPort] = [await freePort(), await freePort()];
    const dataDir = path.join(h.tmp, name);
    fs.mkdirSync(dataDir);
    const svc = startService({
      ...h.sipEnv(),
      // Its own listener: FreeSWITCH connects each call back to the process that sent it.
      FREESWITCH_LISTEN_PORT: String(listenPort(1 + (started++ % 7))),
      DRACHTIO_PORT: String(drachtio.port),
      SIP_REGISTRAR: registrar,
      REDIS_URL: h.redisUrl,
      DATA_DIR: dataDir,
      ADMIN_TOKEN: TOKEN,
      ADMIN_PORT: String(adminPort),
      PROVISIONING_HOST: '127.0.0.1',
      PROVISIONING_PORT: String(provisioningPort),
      SHUTDOWN_GRACE_SECONDS: String(GRACE_S),
      // the harness's store policy (h.device, h.store)
      AUTH_FAILED_LOCK_SECONDS: '8',
      AUTH_SUSPEND_SECONDS: '60',
      AUTH_TEMP_WHITELIST_SECONDS: '60',
      ...extra,
    });
    const logFile = fs.createWriteStream(path.join(h.tmp, `${name}.log`));
    readline.createInterface({ input: svc.child.stdout! }).on('line', (line) => {
      logFile.write(`${line}\n`);
      if (line.startsWith('{')) h.logLines.push({ ...(JSON.parse(line) as object), instance: name });
    });
    const gone = exited(svc.child).then((code) => {
      throw new Error(`papgate ${name} exited (${code}) before it was ready: ${svc.stderr()}`);
    });
    gone.catch(() => undefined);
    // Ready, and serving devices: /readyz does not cover the data layout being brought up to date.
    // The probe is a device: its file (200), or once a PAP success of an earlier test whitelisted
    // this address and another instance's probe took the full file, the challenge for its
    // credential (401).
    const serves = async () =>
      [200, 401].includes(
        (
          await request(provisioningPort, `/${probe.mac}.cfg`, {
            headers: { 'user-agent': 'Yealink SIP-T54W' },
          })
        ).status,
      );
    await Promise.race([
      gone,
      until(
        `papgate ${name} to be ready`,
        async () =>
          (await request(adminPort, '/readyz').catch(() => null))?.status === 200 && (await serves()),
        30000,
      ),
    ]);
    console.log(`      (papgate ${name}: ${path.join(h.tmp, `${name}.log`)})`);
    return { name, child: svc.child, adminPort };
  }

  /** One counter or gauge of an instance's /metrics, summed over the series matching `labels`. */
  async function metric(i: Instance, name: string, labels = ''): Promise<number> {
    const res = await request(i.adminPort, '/metrics');
    assert.equal(res.status, 200);
    let sum = 0;
    for (const m of res.body.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm')))
      if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
    return sum;
  }

  /** The IVR calls of a device that have finished, and the instance that ran each. */
  const finished = (d: E2eDevice) =>
    h.logLines
      .filter((l) => l.msg === 'ivr: call finished' && l.mac === d.mac)
      .map((l) => ({ instance: String(l.instance), outcome: String(l.outcome) }));

  /** finished() once the device's first call has finished (the log line follows the teardown). */
  const finishedCall = (d: E2eDevice) =>
    until(`the call of ${d.mac} to finish`, async () => (finished(d).length > 0 ? finished(d) : null), 10000);

  const checkSyncsSent = (d: E2eDevice) =>
    h.logLines.filter((l) => l.msg === 'check-sync sent' && l.mac === d.mac).map((l) => String(l.instance));

  /** SIGTERM, then the exit, waited for no longer than the grace and a margin for the teardown. */
  async function terminate(i: Instance): Promise<number | null> {
    i.child.kill('SIGTERM');
    return Promise.race([
      exited(i.child),
      sleep(GRACE_S * 1000 + 5000).then(() => {
        throw new Error(`papgate ${i.name} did not exit within SHUTDOWN_GRACE_SECONDS`);
      }),
    ]);
  }

  /** A trusted PBX's call for `d` that must be answered `code` (no digest: the answer is not a challenge). */
  async function pbxCall(name: string, d: E2eDevice, code: number) {
    const file = path.join(h.tmp, `${name}.xml`);
    fs.writeFileSync(
      file,
      fs.readFileSync(h.scenario('uac_refused.tmpl.xml'), 'utf8').split('__CODE__').join(String(code)),
    );
    return h.sipp(file, { port: await sipPort(), mac: d.mac, localIp: PBX_IP });
  }

  /** The trusted PBX hands over the device's *89 call (no digest); the right PAP is entered. */
  async function pbxDial(name: string, d: E2eDevice) {
    const scenario = h.uacScenario(
      name,
      ['play', 'wait_bye'],
      { PCAP: h.pcap(name, `${d.pap}#`), WAIT: '25000' },
      'uac_pbx.tmpl.xml',
    );
    return h.sipp(scenario, { port: await sipPort(), mac: d.mac, localIp: PBX_IP });
  }

  it('rolling restart: SIGTERM during a call -> it completes (one check-sync), the next call lands on the other instance, the stopped one exits; with none left drachtio-server answers 503', async () => {
    const pair = await Promise.all([papgate('roll-1'), papgate('roll-2')]);
    const d = await h.device('001565e2a001');
    const next = await h.device('001565e2a002');
    const late = await h.device('001565e2a003');
    const phone = await h.register(d.mac, d.password);
    // The PAP 4.5 s after the answer (1.5 s, then a 3 s pause): the instance is stopped before it.
    const call = h.dial('rolling', d, ` ${d.pap}#`, { pauseMs: 3000 });
    const active = await until(
      'the call to be in the IVR of an instance',
      async () => {
        for (const i of pair) if ((await metric(i, 'papgate_ivr_calls_active')) === 1) return i;
        return null;
      },
      15000,
    );
    const other = pair.find((i) => i !== active)!;
    const stopped = terminate(active);
    await h.logged(
      'the stopping instance to drop its drachtio route',
      (l) =>
        l.instance === active.name &&
        l.msg === 'drachtio-server told to route new requests to other papgate instances',
      5000,
    );
    // While the first call still runs on the stopping instance.
    assert.deepEqual(finished(d), [], 'the first call is still in progress');
    const second = await h.dial('rolling-next', next, `${next.pap}#`);
    assert.equal(second.code, 0, second.out);
    assert.deepEqual(await finishedCall(next), [{ instance: other.name, outcome: 'successful' }]);

    const first = await call;
    assert.equal(first.code, 0, first.out);
    assert.deepEqual(await finishedCall(d), [{ instance: active.name, outcome: 'successful' }]);
    await phone.notified(15000);
    assert.equal(await stopped, 0, 'a clean exit');
    assert.deepEqual(checkSyncsSent(d), [active.name]);
    assert.equal(phone.notifies().length, 1, 'the phone got one check-sync');
    phone.stop();

    assert.equal(await terminate(other), 0);
    const refused = await pbxCall('rolling-none-left', late, 503);
    assert.equal(refused.code, 0, `drachtio-server without an application answers 503: ${refused.out}`);
    assert.deepEqual(finished(late), []);
  });

  it("SIGTERM while an emergency call rings, with a grace shorter than the call: the route's answer reaches the phone, its BYE reaches the route, then papgate exits", async () => {
    const routePort = await freePort();
    const i = await papgate('emergency', DRACHTIO, SIP_TARGET, {
      EMERGENCY_ROUTE: `sip:127.0.0.1:${routePort}`,
      SHUTDOWN_GRACE_SECONDS: '1',
    });
    const d = await h.device('001565e2d001');
    // The route rings for 6 s before it answers (the drill's route took 8 s).
    const ringing = path.join(h.tmp, 'uas-ringing.xml');
    const uas = fs.readFileSync(h.scenario('uas_answer.xml'), 'utf8');
    const delayed = uas.replace(
      '  <send retrans="500">',
      '  <pause milliseconds="6000"/>\n  <send retrans="500">',
    );
    assert.notEqual(delayed, uas);
    fs.writeFileSync(ringing, delayed);
    const route = h.sipp(ringing, { port: routePort, mac: d.mac, uas: true, timeoutS: 40 });
    await sleep(500);
    // The phone hangs up 3 s after the answer.
    const phone = h.sipp(h.uacScenario('sigterm-112', ['hangup'], { PAUSE: '3000' }), {
      port: await sipPort(),
      mac: d.mac,
      password: d.password,
      service: '112',
    });
    const from = h.logLines.length;
    await h.logged(
      'the call to reach the route',
      (l) => l.instance === i.name && l.msg === 'emergency call: to the emergency route',
      10000,
      from,
    );
    await sleep(1500);
    const signalled = Date.now();
    const stopped = terminate(i);
    const [call, answered] = await Promise.all([phone, route]);
    assert.equal(call.code, 0, `the phone got the route's answer and its BYE a 200: ${call.out}`);
    assert.equal(answered.code, 0, `the route answered and got the BYE: ${answered.out}`);
    const byeCrossed = Date.now();
    assert.equal(await stopped, 0, 'a clean exit');
    assert.ok(byeCrossed - signalled > 3000, 'the call outlasted the 1 s grace');
    assert.ok(
      h.logLines.some(
        (l) => l.instance === i.name && l.msg === 'waiting for emergency calls to end before stopping',
      ),
    );
  });

  it('two instances, 20 calls: drachtio-server spreads them; each success and each lock expiry sends one check-sync', async () => {
    const pair = await Promise.all([papgate('spread-1'), papgate('spread-2')]);
    const devices: E2eDevice[] = [];
    for (let n = 0; n < 20; n++) devices.push(await h.device(`001565e2b0${String(n).padStart(2, '0')}`));
    // Two of them enter three wrong PAPs: locked for 8 s, then both lock watchers see the expiry.
    const failing = new Set(devices.slice(0, 2));
    // drachtio-server takes turns per INVITE, and a phone's call is two (the 407 and the
    // authenticated one): every fourth call comes from the trusted PBX, one INVITE, so that the
    // calls cannot all fall on the same turn.
    const viaPbx = new Set(devices.filter((d, n) => !failing.has(d) && n % 4 === 3));
    const phones = new Map<E2eDevice, Phone>();
    for (const d of devices) phones.set(d, await h.register(d.mac, d.password));

    const wrong = (d: E2eDevice) => (d.pap === '000000' ? '111111' : '000000');
    for (let b = 0; b < devices.length; b += CONCURRENT_CALLS) {
      const batch = devices.slice(b, b + CONCURRENT_CALLS);
      const calls = await Promise.all(
        batch.map((d) =>
          failing.has(d)
            ? h.dial(`spread-${d.mac}`, d, `${wrong(d)}# ${wrong(d)}# ${wrong(d)}#`, {
                pauseMs: 2500,
                waitMs: 30000,
              })
            : viaPbx.has(d)
              ? pbxDial(`spread-${d.mac}`, d)
              : h.dial(`spread-${d.mac}`, d, `${d.pap}#`),
        ),
      );
      for (const c of calls) assert.equal(c.code, 0, c.out);
    }

    const took = new Map(pair.map((i) => [i.name, 0]));
    for (const d of devices) {
      const [call] = await finishedCall(d);
      assert.deepEqual(finished(d), [
        { instance: call!.instance, outcome: failing.has(d) ? 'failed' : 'successful' },
      ]);
      took.set(call!.instance, took.get(call!.instance)! + 1);
    }
    console.log(`      (calls per instance: ${JSON.stringify(Object.fromEntries(took))})`);
    for (const [name, n] of took) assert.ok(n > 0, `${name} took none of the 20 calls`);
    for (const i of pair)
      assert.equal(
        await metric(i, 'papgate_ivr_calls_ended_total'),
        took.get(i.name),
        `${i.name}'s /metrics`,
      );

    for (const d of devices) await phones.get(d)!.notified(30000);
    // Four lock-watch intervals more: a second check-sync from the other watcher would be here.
    await sleep(2000);
    for (const d of devices) {
      assert.equal(phones.get(d)!.notifies().length, 1, `${d.mac}: one check-sync at the phone`);
      assert.equal(checkSyncsSent(d).length, 1, `${d.mac}: one check-sync sent`);
    }
    for (const d of failing) {
      const settled = h.logLines.filter(
        (l) => l.msg === 'lock expired: device needs authentication again' && l.mac === d.mac,
      );
      assert.equal(settled.length, 1, `${d.mac}: the lock expiry settled once`);
      assert.deepEqual(checkSyncsSent(d), [String(settled[0]!.instance)], 'by the watcher that settled it');
    }
    let sent = 0;
    for (const i of pair) sent += await metric(i, 'papgate_check_sync_notifies_total', 'result="sent"');
    assert.equal(sent, 20);
    for (const p of phones.values()) p.stop();
    for (const i of pair) assert.equal(await terminate(i), 0);
  });

  it('two drachtio-servers, a papgate on each: REGISTER through node 1, the call challenged by node 1 and answered through node 2 -> successful, check-sync reaches the phone', async function () {
    if (!serversRun()) this.skip();
    await servers('start', 'drachtio2');
    try {
      const [node1, node2] = await Promise.all([
        papgate('node-1'),
        papgate('node-2', DRACHTIO2, SIP_TARGET2),
      ]);
      const d = await h.device('001565e2c001');
      const phone = await h.register(d.mac, d.password);
      assert.equal(await metric(node1, 'papgate_sip_register_replies_total', 'status="200"'), 1);
      assert.equal(await metric(node2, 'papgate_sip_register_replies_total'), 0);

      // The INVITE to node 1, its 407 from node 1's papgate, the authenticated INVITE (and the rest
      // of the call) to node 2: node 2's papgate takes a nonce that node 1's signed.
      const file = h.uacScenario('two-nodes', ['play', 'wait_bye'], {
        PCAP: h.pcap('two-nodes', `${d.pap}#`),
        WAIT: '25000',
      });
      const [host2, port2] = SIP_TARGET2.split(':');
      const xml = fs.readFileSync(file, 'utf8');
      const moved = xml.replace(
        /(CSeq: 1 ACK[\s\S]*?<\/send>)/,
        `$1\n  <nop>\n    <action>\n      <setdest host="${host2}" port="${port2}" protocol="udp"/>\n    </action>\n  </nop>`,
      );
      assert.notEqual(moved, xml);
      fs.writeFileSync(file, moved);
      const call = await h.sipp(file, { port: await sipPort(), mac: d.mac, password: d.password });
      assert.equal(call.code, 0, call.out);
      assert.deepEqual(await finishedCall(d), [{ instance: node2.name, outcome: 'successful' }]);
      await phone.notified(15000);
      assert.deepEqual(checkSyncsSent(d), [node2.name]);
      assert.equal(phone.notifies().length, 1);
      phone.stop();
      for (const i of [node1, node2]) assert.equal(await terminate(i), 0);
    } finally {
      await servers('stop', 'drachtio2');
    }
  });
});

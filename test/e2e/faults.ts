/**
 * Calls under faults: the caller going away at each step, digit handling heard through
 * FreeSWITCH's own events, two calls at once, and FreeSWITCH, drachtio-server and Redis going away
 * under papgate. The server restarts need the servers test/e2e/run.sh started (E2E_SERVERS_RUN).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startSipService } from '../../src/sip/service';
import { freePort } from '../../src/store/embedded';
import { silentLog } from '../support/redis';
import {
  sipPort,
  claimIdentity,
  FREESWITCH,
  Harness,
  listenPort,
  identityChecks,
  NOTHING_OF_THE_PHONE,
  PBX_IP,
  PlaybackWatch,
  REPO,
  serverPid,
  servers,
  serversRun,
  sleep,
  TENANT,
  until,
  type E2eDevice,
} from './harness';

const prompt = (language: string, name: string) => path.join(REPO, 'prompts', language, `${name}.wav`);

describe('e2e: calls under faults', function () {
  this.timeout(120000);
  const h = new Harness();
  let emergencyPort = 0;
  let watch: PlaybackWatch | null = null;

  before(async function () {
    emergencyPort = await freePort();
    h.extraEnv.EMERGENCY_ROUTE = `sip:127.0.0.1:${emergencyPort}`;
    await h.start(this);
  });

  afterEach(() => {
    watch?.close();
    watch = null;
  });

  after(() => h.stop());

  /** The call left nothing behind and changed nothing about the device. */
  async function nothingLeft(d: E2eDevice): Promise<void> {
    await h.idle();
    assert.deepEqual(await h.attempts(d.mac), { consecutive: 0, total: 0, events: 0 }, 'no attempt counted');
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'needed');
  }

  it('CANCEL before the answer -> 487; no session, no FreeSWITCH channel, no attempt', async () => {
    const d = await h.device('001565e2f001');
    const call = await h.sipp(h.scenario('uac_cancel.xml'), {
      port: await sipPort(),
      mac: d.mac,
      password: d.password,
    });
    assert.equal(call.code, 0, call.out);
    // papgate may be half-way through setting up the endpoint when the CANCEL arrives
    await h.logged(
      'papgate to give the call up',
      (l) => l.msg === 'ivr: call not answered' && l.mac === d.mac,
    );
    assert.deepEqual(h.outcomes(d.mac), [], 'no IVR session ran');
    await nothingLeft(d);
  });

  it('BYE during the first prompt -> caller_hangup; no session, no FreeSWITCH channel, no attempt', async () => {
    const d = await h.device('001565e2f002');
    watch = await PlaybackWatch.connect();
    const call = await h.sipp(h.uacScenario('bye-prompt', ['hangup'], { PAUSE: '1000' }), {
      port: await sipPort(),
      mac: d.mac,
      password: d.password,
    });
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['caller_hangup']);
    assert.deepEqual(watch.started(), [prompt('en', 'enter_pap')]);
    await nothingLeft(d);
  });

  it('BYE during digit collection (3 digits typed) -> caller_hangup; nothing left, no attempt', async () => {
    const d = await h.device('001565e2f003');
    watch = await PlaybackWatch.connect();
    // digits at 1.5 s (0.75 s long) cut the prompt short; BYE 1.2 s later, well before the 2 s inter-digit timeout
    const call = await h.sipp(
      h.uacScenario('bye-collect', ['play', 'hangup'], { PCAP: h.pcap('bye-collect', '123'), PAUSE: '1200' }),
      { port: await sipPort(), mac: d.mac, password: d.password },
    );
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['caller_hangup']);
    assert.equal(watch.stopped(prompt('en', 'enter_pap'))?.status, 'break', 'the digits ended the prompt');
    assert.deepEqual(watch.started(), [prompt('en', 'enter_pap')], 'no further prompt');
    await nothingLeft(d);
  });

  it('German device: digits typed during the prompt are kept, * clears the entry, the de prompts play', async () => {
    const d = await h.device('001565e2f004', { language: 'de' });
    watch = await PlaybackWatch.connect();
    // "555" then * during the first prompt: without the clearing the entry would be 9 digits
    const call = await h.dial('german', d, `555*${d.pap}#`);
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
    assert.equal(
      watch.stopped(prompt('de', 'enter_pap'))?.status,
      'break',
      'barge-in: the digits cut the prompt',
    );
    assert.deepEqual(watch.started(), [prompt('de', 'enter_pap'), prompt('de', 'success')]);
    const a = await h.attempts(d.mac);
    assert.deepEqual(a, { consecutive: 0, total: 0, events: 1 }, 'one attempt, the right one');
  });

  it('two devices in the IVR at once: right PAP -> successful, three wrong -> failed', async () => {
    const good = await h.device('001565e2f005');
    const bad = await h.device('001565e2f006');
    const wrong = bad.pap === '000000' ? '111111' : '000000';
    const [a, b] = await Promise.all([
      h.dial('both-good', good, `${good.pap}#`),
      h.dial('both-bad', bad, `${wrong}# ${wrong}# ${wrong}#`, { pauseMs: 2500, waitMs: 30000 }),
    ]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    assert.deepEqual(await h.outcomesAfter(good.mac, 1), ['successful']);
    assert.deepEqual(await h.outcomesAfter(bad.mac, 1), ['failed']);
    assert.equal((await h.store.getDevice(TENANT, good.mac))!.state, 'successful');
    assert.equal((await h.store.getDevice(TENANT, bad.mac))!.state, 'failed');
    assert.deepEqual(await h.attempts(good.mac), { consecutive: 0, total: 0, events: 1 });
    assert.equal((await h.attempts(bad.mac)).events, 3);
    await h.idle();
  });

  it('Redis stopped: *89 hears "not possible", an emergency call is still routed (anonymous, nothing of the phone); Redis back -> next call succeeds', async () => {
    const d = await h.device('001565e2f007');
    await h.stopRedis();
    try {
      watch = await PlaybackWatch.connect();
      // Without the store there is no nonce to challenge with: papgate takes the call unauthenticated
      // (the device header is not believed from this address) and says "not possible".
      const notPossible = await h.sipp(
        h.uacScenario('redis-down', ['wait_bye'], { WAIT: '15000' }, 'uac_pbx.tmpl.xml'),
        { port: await sipPort(), mac: d.mac },
      );
      assert.equal(notPossible.code, 0, notPossible.out);
      assert.deepEqual(watch.started(), [prompt('en', 'not_possible')]);
      // Nobody could be identified and no EMERGENCY_CALLER_ID is set: an anonymous From, no
      // P-Asserted-Identity, and nothing of what the phone claimed.
      const uas = h.emergencyRoute(emergencyPort, d.mac, [
        ...identityChecks(null, 'anonymous'),
        ...NOTHING_OF_THE_PHONE,
      ]);
      await sleep(500);
      const phone = h.uacScenario('redis-down-112', ['hangup'], { PAUSE: '1000' }, 'uac_pbx.tmpl.xml');
      claimIdentity(phone);
      const emergency = await h.sipp(phone, { port: await sipPort(), mac: d.mac, service: '112' });
      assert.equal(emergency.code, 0, emergency.out);
      const answered = await uas;
      assert.equal(answered.code, 0, `the emergency route got the call: ${answered.out}`);
    } finally {
      await h.startRedis();
    }
    await until(
      'the store to answer again',
      () =>
        h.store.ping().then(
          () => true,
          () => false,
        ),
      10000,
    );
    const call = await h.dial('redis-back', d, `${d.pap}#`);
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
  });

  it("FreeSWITCH's event socket takes the connection and says nothing -> papgate gives up on it and connects again", async () => {
    // The first real connection is held open and silent, as a FreeSWITCH starting up again may do;
    // the others reach FreeSWITCH. A papgate waiting for the first answer for ever never got its IVR.
    // papgate first probes the port (a connection it closes at once), then connects for real.
    const held: net.Socket[] = [];
    let connections = 0;
    const proxy = net.createServer((socket) => {
      if (++connections === 2) {
        held.push(socket);
        return;
      }
      const upstream = net.connect(FREESWITCH.port, FREESWITCH.host);
      socket.pipe(upstream).pipe(socket);
      for (const s of [socket, upstream]) s.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const config = loadConfig({
      ...h.sipEnv(),
      FREESWITCH_PORT: String((proxy.address() as net.AddressInfo).port),
      // one of FreeSWITCH's allowed listeners that no other papgate of this suite uses
      FREESWITCH_LISTEN_PORT: String(listenPort(5)),
    });
    const svc = await startSipService({ config, store: h.store, redis: h.redisClient, log: silentLog });
    try {
      await svc.ready(30000);
      assert.equal(held.length, 1, 'the silent connection was tried first');
    } finally {
      await svc.stop();
      for (const s of held) s.destroy();
      proxy.close();
    }
  });

  it('FreeSWITCH killed (SIGKILL) mid-call -> the caller gets a BYE; FreeSWITCH restarted -> papgate reconnects, next call succeeds', async function () {
    if (!serversRun()) this.skip();
    const d = await h.device('001565e2f008');
    // The caller types nothing: the IVR would keep it for 30 s; the BYE must come within 6 s of the answer.
    const call = h.sipp(h.uacScenario('fs-killed', ['wait_bye'], { WAIT: '6000' }), {
      port: await sipPort(),
      mac: d.mac,
      password: d.password,
    });
    await until('the call to be in the IVR', async () => h.svc!.activeCalls() === 1, 10000);
    await sleep(500);
    const since = h.logLines.length;
    process.kill(serverPid('freeswitch'), 'SIGKILL');
    const got = await call;
    assert.equal(got.code, 0, `BYE after FreeSWITCH died: ${got.out}`);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['media_error']);
    await servers('start', 'freeswitch');
    await h.logged(
      'papgate to reconnect to FreeSWITCH',
      (l) => l.msg === 'FreeSWITCH connection restored',
      20000,
      since,
    );
    const next = await h.dial('fs-back', d, `${d.pap}#`);
    assert.equal(next.code, 0, next.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 2), ['media_error', 'successful']);
    await h.idle();
  });

  it('drachtio-server restarted -> papgate reconnects; the next REGISTER and call succeed', async function () {
    if (!serversRun()) this.skip();
    const d = await h.device('001565e2f009');
    const since = h.logLines.length;
    await servers('stop', 'drachtio');
    await servers('start', 'drachtio');
    await h.logged(
      'papgate to reconnect to drachtio',
      (l) => l.msg === 'drachtio-server connection restored',
      20000,
      since,
    );
    const phone = await h.register(d.mac, d.password);
    const call = await h.dial('drachtio-back', d, `${d.pap}#`);
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
    await phone.notified(15000);
    phone.stop();
  });
  // Last: it stops papgate's SIP service.
  it('shutdown with a grace period: the call in progress completes, a new IVR call meanwhile gets 503', async () => {
    const d = await h.device('001565e2f00a');
    const late = await h.device('001565e2f00b');
    const call = h.dial('drain', d, `${d.pap}#`);
    await until('the call to be in the IVR', async () => h.svc!.activeCalls() === 1, 10000);
    const stopping = h.svc!.stop(20000);
    assert.equal(h.svc!.accepting(), false, '/readyz reports the instance as draining');
    // From the trusted PBX, so the refusal is the drain's and not a digest challenge.
    const file = path.join(h.tmp, 'drain-late.xml');
    fs.writeFileSync(
      file,
      fs.readFileSync(h.scenario('uac_refused.tmpl.xml'), 'utf8').split('__CODE__').join('503'),
    );
    const refused = await h.sipp(file, { port: await sipPort(), mac: late.mac, localIp: PBX_IP });
    assert.equal(refused.code, 0, `a new call during the drain gets 503: ${refused.out}`);
    const got = await call;
    assert.equal(got.code, 0, got.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
    await stopping;
    assert.equal(h.svc!.activeCalls(), 0);
    assert.deepEqual(h.outcomes(late.mac), [], 'no IVR session for the late call');
  });
});

/**
 * IVR calls bounded per device and per source network (the attacker drill: one caller with one MAC
 * held every IVR_MAX_CALLS slot and everyone else got 503). With IVR_MAX_CALLS_PER_DEVICE=1 and
 * IVR_MAX_CALLS_PER_SOURCE=2, against the real drachtio-server and FreeSWITCH: a second call of a
 * device in the IVR gets 503 + Retry-After after its digest; a third phone of the same /24
 * (SOURCE_PREFIX_IPV4) gets it before; an emergency call from that network still goes out; and
 * once the calls ended, the places are free again. Then, with the default shares, what a stranger
 * who fetched a device's minimal file from its own network can do: hold that network's share of
 * the device with silent calls (never the phone's own network's), and flood the log with emergency
 * calls (only a client's share of lines per kind, each Call-ID cut short).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/store/embedded';
import { Harness, sipPort, sleep, TENANT, until, type E2eDevice } from './harness';

/** The 503s counted by reason. */
const shed = async (h: Harness) =>
  Object.fromEntries(
    [
      ...(await h.metrics.expose()).body.matchAll(
        /^papgate_sip_invites_shed_total\{reason="(\w+)"\} (\d+)$/gm,
      ),
    ].map((m) => [m[1]!, Number(m[2])]),
  );

/** A call of `who` from `localIp` that must be answered 503 with Retry-After 7 (before or after its digest challenge). */
const refused = async (h: Harness, name: string, who: E2eDevice, localIp = '127.0.0.1') => {
  const file = path.join(h.tmp, `${name}.xml`);
  fs.writeFileSync(
    file,
    fs.readFileSync(h.scenario('uac_shed.tmpl.xml'), 'utf8').split('__RETRY_AFTER__').join('7'),
  );
  return h.sipp(file, {
    port: await sipPort(),
    mac: who.mac,
    password: h.passwordFor(who, localIp),
    localIp,
  });
};

describe('e2e: IVR calls per device and per source network', function () {
  this.timeout(120000);
  let emergencyPort = 0;
  const h = new Harness({
    IVR_MAX_CALLS: '10',
    IVR_MAX_CALLS_PER_DEVICE: '1',
    IVR_MAX_CALLS_PER_SOURCE: '2',
    SIP_OVERLOAD_RETRY_AFTER_SECONDS: '7',
  });
  const d: Record<string, E2eDevice> = {};

  before(async function () {
    emergencyPort = await freePort();
    h.extraEnv.EMERGENCY_ROUTE = `sip:127.0.0.1:${emergencyPort}`;
    await h.start(this);
    for (const [k, mac] of Object.entries({
      a: '001565e3a001',
      b: '001565e3a002',
      c: '001565e3a003',
      e: '001565e3a004',
    }))
      d[k] = await h.device(mac);
  });

  after(() => h.stop());

  /** A call into the IVR that the phone itself ends after `holdMs`. */
  const hold = async (name: string, who: E2eDevice, holdMs: number, localIp = '127.0.0.1') =>
    h.sipp(h.uacScenario(name, ['hangup'], { PAUSE: String(holdMs) }), {
      port: await sipPort(),
      mac: who.mac,
      password: h.passwordFor(who, localIp),
      localIp,
    });

  it('one device holds one IVR call, one /24 two; others get 503 + Retry-After; emergency calls go out', async () => {
    const before = await shed(h);
    const a = hold('hold-a', d.a!, 15000);
    await until('the first call of device a in the IVR', async () => h.svc!.activeCalls() === 1, 10000);

    const again = await refused(h, 'again-a', d.a!);
    assert.equal(again.code, 0, `the same device again: ${again.out}`);
    assert.equal((await shed(h)).ivr_per_device, before.ivr_per_device! + 1);

    const b = hold('hold-b', d.b!, 12000);
    await until('device b in the IVR too', async () => h.svc!.activeCalls() === 2, 10000);

    // Another address of the same /24: the network holds its two calls.
    const c = await refused(h, 'neighbour-c', d.c!, '127.0.0.2');
    assert.equal(c.code, 0, `a third phone of the network: ${c.out}`);
    assert.equal((await shed(h)).ivr_per_source, before.ivr_per_source! + 1);

    const uas = h.sipp(h.scenario('uas_answer.xml'), {
      port: emergencyPort,
      mac: d.e!.mac,
      uas: true,
      timeoutS: 40,
    });
    await sleep(500);
    const emergency = await h.sipp(h.uacScenario('emergency-e', ['hangup'], { PAUSE: '1000' }), {
      port: await sipPort(),
      mac: d.e!.mac,
      password: h.passwordFor(d.e!, '127.0.0.3'),
      localIp: '127.0.0.3',
      service: '112',
    });
    assert.equal(emergency.code, 0, `an emergency call from the full network: ${emergency.out}`);
    assert.equal((await uas).code, 0, 'the emergency route answered');

    assert.equal((await a).code, 0);
    assert.equal((await b).code, 0);
    await h.idle();
    assert.deepEqual(h.outcomes(d.c!.mac), [], 'the refused phone never reached the IVR');
  });

  it('the places are free again once the calls ended', async () => {
    const c = await hold('again-c', d.c!, 1500, '127.0.0.2');
    assert.equal(c.code, 0, c.out);
    const a = await hold('again-a-ok', d.a!, 1500);
    assert.equal(a.code, 0, a.out);
    await h.idle();
  });
});

describe("e2e: a stranger's calls as a device, from a network of its own", function () {
  this.timeout(120000);
  let emergencyPort = 0;
  /** Default shares (IVR_MAX_CALLS_PER_DEVICE 2); a few log lines per client and kind. */
  const h = new Harness({ SIP_OVERLOAD_RETRY_AFTER_SECONDS: '7', TRAFFIC_PER_CLIENT: '5' });
  const d: Record<string, E2eDevice> = {};
  /** Where the stranger fetched the victim's minimal file from: another /24 than the phone's 127.0.0.1. */
  const STRANGER = '127.0.1.9';

  before(async function () {
    emergencyPort = await freePort();
    h.extraEnv.EMERGENCY_ROUTE = `sip:127.0.0.1:${emergencyPort}`;
    await h.start(this);
    d.victim = await h.device('001565e3b001');
    d.caller = await h.device('001565e3b002');
  });

  after(() => h.stop());

  it("two silent *89 calls as the MAC from the stranger's network leave the phone's own network its share; they end after two empty rounds", async () => {
    const victim = d.victim!;
    const before = await shed(h);
    const silent = async (name: string) =>
      h.sipp(h.uacScenario(name, ['wait_bye'], { WAIT: '40000' }), {
        port: await sipPort(),
        mac: victim.mac,
        password: h.passwordFor(victim, STRANGER),
        localIp: STRANGER,
      });
    const started = Date.now();
    const silents = [silent('silent-1'), silent('silent-2')];
    await until('both silent calls in the IVR', async () => h.svc!.activeCalls() === 2, 10000);
    // The stranger's network holds its share of the device: a third call from there gets 503.
    const third = await refused(h, 'silent-3', victim, STRANGER);
    assert.equal(third.code, 0, `a third call from the stranger's network: ${third.out}`);
    assert.equal((await shed(h)).ivr_per_device, before.ivr_per_device! + 1);
    // The drill: the phone's own *89 got 503. Now it reaches the IVR and authenticates.
    const own = await h.dial('victim-own', victim, `${victim.pap}#`);
    assert.equal(own.code, 0, `the phone's own call: ${own.out}`);
    assert.equal((await h.store.getDevice(TENANT, victim.mac))!.state, 'successful');
    for (const call of await Promise.all(silents)) assert.equal(call.code, 0, call.out);
    const held = Date.now() - started;
    // IVR_FIRST_DIGIT_TIMEOUT_MS is 6 s here: two rounds of prompt and timeout, then goodbye
    assert.ok(held < 30000, `the silent calls lasted ${held} ms`);
    const outcomes = await h.outcomesAfter(victim.mac, 3);
    assert.deepEqual([...outcomes].sort(), ['no_input', 'no_input', 'successful']);
    const empty = h.logLines.filter((l) => l.msg === 'ivr: empty entry' && l.src === STRANGER);
    assert.deepEqual(
      empty.map((l) => Number(l.empty)).sort(),
      [1, 1, 2, 2],
      'each silent call: one re-prompt, then goodbye',
    );
    await h.idle();
  });

  it('a flood of emergency calls with 8 KB Call-IDs: a few lines per kind, each Call-ID cut to 128 characters', async () => {
    const CALLS = 30;
    const caller = d.caller!;
    const route = h.sipp(h.scenario('uas_answer.xml'), {
      port: emergencyPort,
      mac: caller.mac,
      uas: true,
      timeoutS: 60,
      extra: ['-m', String(CALLS)],
    });
    await sleep(500);
    const file = h.uacScenario('flood-112', ['hangup'], { PAUSE: '200' });
    const from = h.logLines.length;
    const flood = await h.sipp(file, {
      port: await sipPort(),
      mac: caller.mac,
      password: caller.password,
      service: '112',
      // sipp's Call-IDs, each followed by 8,000 characters
      extra: [
        '-m',
        String(CALLS),
        '-r',
        '10',
        '-l',
        String(CALLS),
        '-cid_str',
        `%u-%p@%s-${'A'.repeat(8000)}`,
      ],
    });
    assert.equal(flood.code, 0, `every emergency call went through: ${flood.out}`);
    assert.equal((await route).code, 0, 'the route answered them all');
    const lines = h.logLines.slice(from);
    for (const l of lines)
      if (l.callId !== undefined)
        assert.ok(String(l.callId).length <= 128, `${l.msg}: ${String(l.callId).length}`);
    const count = (msg: string) => lines.filter((l) => String(l.msg).startsWith(msg)).length;
    // 5 (TRAFFIC_PER_CLIENT here) and the line saying the rest is suppressed
    assert.equal(count('emergency call: to the emergency route'), 6);
    assert.equal(count('emergency call: connected'), 6);
    // The drill: 200 such calls with 8 KB Call-IDs wrote 3.3 MB, a Call-ID in every line of each.
    const bytes = lines
      .filter((l) => Number(l.level) >= 30)
      .reduce((n, l) => n + JSON.stringify(l).length, 0);
    assert.ok(bytes < 20_000, `${CALLS} emergency calls wrote ${bytes} bytes at info and above`);
  });
});

/**
 * IVR calls bounded per device and per source network (the attacker drill: one caller with one MAC
 * held every IVR_MAX_CALLS slot and everyone else got 503). With IVR_MAX_CALLS_PER_DEVICE=1 and
 * IVR_MAX_CALLS_PER_SOURCE=2, against the real drachtio-server and FreeSWITCH: a second call of a
 * device in the IVR gets 503 + Retry-After after its digest; a third phone of the same /24
 * (SOURCE_PREFIX_IPV4) gets it before; an emergency call from that network still goes out; and
 * once the calls ended, the places are free again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/store/embedded';
import { Harness, sleep, until, type E2eDevice } from './harness';

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

  /** The 503s counted by reason. */
  const shed = async () =>
    Object.fromEntries(
      [
        ...(await h.metrics.expose()).body.matchAll(
          /^papgate_sip_invites_shed_total\{reason="(\w+)"\} (\d+)$/gm,
        ),
      ].map((m) => [m[1]!, Number(m[2])]),
    );

  /** A call into the IVR that the phone itself ends after `holdMs`. */
  const hold = async (name: string, who: E2eDevice, holdMs: number, localIp = '127.0.0.1') =>
    h.sipp(h.uacScenario(name, ['hangup'], { PAUSE: String(holdMs) }), {
      port: await freePort(),
      mac: who.mac,
      password: h.passwordFor(who, localIp),
      localIp,
    });

  /** A call that must be answered 503 with Retry-After 7 (before or after its digest challenge). */
  const refused = async (name: string, who: E2eDevice, localIp = '127.0.0.1') => {
    const file = path.join(h.tmp, `${name}.xml`);
    fs.writeFileSync(
      file,
      fs.readFileSync(h.scenario('uac_shed.tmpl.xml'), 'utf8').split('__RETRY_AFTER__').join('7'),
    );
    return h.sipp(file, {
      port: await freePort(),
      mac: who.mac,
      password: h.passwordFor(who, localIp),
      localIp,
    });
  };

  it('one device holds one IVR call, one /24 two; others get 503 + Retry-After; emergency calls go out', async () => {
    const before = await shed();
    const a = hold('hold-a', d.a!, 15000);
    await until('the first call of device a in the IVR', async () => h.svc!.activeCalls() === 1, 10000);

    const again = await refused('again-a', d.a!);
    assert.equal(again.code, 0, `the same device again: ${again.out}`);
    assert.equal((await shed()).ivr_per_device, before.ivr_per_device! + 1);

    const b = hold('hold-b', d.b!, 12000);
    await until('device b in the IVR too', async () => h.svc!.activeCalls() === 2, 10000);

    // Another address of the same /24: the network holds its two calls.
    const c = await refused('neighbour-c', d.c!, '127.0.0.2');
    assert.equal(c.code, 0, `a third phone of the network: ${c.out}`);
    assert.equal((await shed()).ivr_per_source, before.ivr_per_source! + 1);

    const uas = h.sipp(h.scenario('uas_answer.xml'), {
      port: emergencyPort,
      mac: d.e!.mac,
      uas: true,
      timeoutS: 40,
    });
    await sleep(500);
    const emergency = await h.sipp(h.uacScenario('emergency-e', ['hangup'], { PAUSE: '1000' }), {
      port: await freePort(),
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

/**
 * End-to-end suite: papgate's SIP service against a real drachtio-server and FreeSWITCH, driven by
 * sipp (harness.ts). Not part of the unit test glob (file names without `.test`); run with
 * `bash test/e2e/run.sh`, which starts the servers from the archives or finds them running, and
 * prints `e2e: SKIPPED (reason)` when there are neither. The phone's whole journey is in
 * journey.ts, calls under faults in faults.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from '../../src/admin/server';
import { freePort } from '../../src/store/embedded';
import { DEVICE, keys } from '../../src/store/keys';
import { Sites } from '../../src/store/sites';
import { parseSite } from '../../src/domain/site';
import { request } from '../support/http';
import { silentLog } from '../support/redis';
import {
  sipPort,
  absentHeader,
  claimIdentity,
  Harness,
  identityChecks,
  NOTHING_OF_THE_PHONE,
  PBX_IP,
  PHONE_IP,
  REALM,
  sleep,
  TENANT,
  until,
  type E2eDevice,
  type SippCheck,
  type SippResult,
} from './harness';

/** EMERGENCY_CALLER_ID: the identity of emergency calls without an allowed site caller ID. */
const OPERATOR_ID = '+4930555000';
const ADMIN = 'e2e-operator-token-0123456789';

describe('e2e: papgate SIP service with drachtio-server, FreeSWITCH and sipp', function () {
  this.timeout(120000);
  const h = new Harness();
  const devices: Record<string, E2eDevice> = {};
  let emergencyPort = 0;
  /** The one further route the operator allows site records (EMERGENCY_SITE_ROUTES). */
  let sitePort = 0;

  before(async function () {
    emergencyPort = await freePort();
    sitePort = await freePort();
    h.extraEnv.EMERGENCY_ROUTE = `sip:127.0.0.1:${emergencyPort}`;
    h.extraEnv.EMERGENCY_SITE_ROUTES = `sip:127.0.0.1:${sitePort}`;
    h.extraEnv.EMERGENCY_CALLER_ID = OPERATOR_ID;
    h.extraEnv.PAP_LIFETIME_DAYS = '1';
    await h.start(this);
    devices.ok = await h.device('001565e2e001');
    devices.wrong = await h.device('000413e2e002', { vendor: 'snom', model: 'D785' });
    devices.refused = await h.device('001565e2e003');
    devices.emergency = await h.device('001565e2e004');
    devices.pbx = await h.device('001565e2e005');
    devices.pbxNamed = await h.device('001565e2e015');
    devices.located = await h.device('001565e2e006', { site: 'Floor 2/East' });
    devices.identified = await h.device('001565e2e007', { site: 'Annex' });
    devices.rogue = await h.device('001565e2e008', { site: 'Rogue' });
    devices.tenantSet = await h.device('001565e2e009', { site: 'Tenant set' });
    devices.broken = await h.device('001565e2e00a', { site: 'Broken' });
    devices.expired = await h.device('001565e2e00b');
    devices.disabled = await h.device('001565e2e00c');
    devices.settings = await h.device('001565e2e00d', { site: 'Settings' });
  });

  after(() => h.stop());

  it('REGISTER with digest, right PAP by RFC 2833 -> successful, check-sync NOTIFY at the registered contact', async () => {
    const d = devices.ok!;
    const reg = await h.register(d.mac, d.password);
    const call = await h.dial('right', d, `${d.pap}#`);
    assert.equal(call.code, 0, call.out);
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'successful');
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
    const notify = await reg.notified(15000);
    assert.equal(notify.event, 'check-sync;reboot=false', 'yealink event');
    reg.stop();
  });

  it('a settings change saved with checkSync reaches the registered phone as a check-sync NOTIFY; without it, none', async () => {
    const d = devices.settings!;
    const reg = await h.register(d.mac, d.password);
    const admin = createAdminServer({
      config: h.config,
      store: h.store,
      log: silentLog,
      adminToken: ADMIN,
      checkSync: (tenant, mac) => h.svc!.checkSync(tenant, mac),
    });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (admin.server.address() as AddressInfo).port;
      const put = async (body: unknown) => {
        const res = await request(port, `/api/v1/tenants/${TENANT}/sites/Settings/settings`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> };
      };
      const quiet = await put({ items: { yealink: [{ name: 'features.dnd.enable', value: '1' }] } });
      assert.equal(quiet.status, 200, JSON.stringify(quiet.json));
      await sleep(1000);
      assert.deepEqual(reg.notifies(), [], 'no check-sync unless asked');
      const asked = await put({
        items: { yealink: [{ name: 'features.dnd.enable', value: '0' }] },
        checkSync: true,
      });
      assert.equal(asked.status, 200, JSON.stringify(asked.json));
      assert.deepEqual(asked.json.checkSync, { sent: 1 });
      const notify = await reg.notified(15000);
      assert.equal(notify.event, 'check-sync;reboot=false');
    } finally {
      reg.stop();
      await admin.close();
    }
  });

  it('a PAP older than PAP_LIFETIME_DAYS through *89: refused as pap_expired ("not possible"), nothing counted, audited', async () => {
    const d = devices.expired!;
    // issued two days ago (the lifetime is one)
    await h.store.redis.hSet(
      keys.tenant(TENANT).device(d.mac),
      DEVICE.papIssuedAt,
      String(Date.now() - 2 * 86_400_000),
    );
    const call = await h.dial('expired', d, `${d.pap}#`);
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['pap_expired']);
    const after = (await h.store.getDevice(TENANT, d.mac))!;
    assert.deepEqual([after.state, after.consecutiveFailures, after.totalFailures], ['needed', 0, 0]);
    const attempt = (await h.store.events(TENANT, 50)).find((e) => e.type === 'attempt' && e.mac === d.mac);
    assert.deepEqual([attempt?.outcome, attempt?.channel], ['pap_expired', 'ivr']);
  });

  it('three wrong PAPs -> failed; the next call hears "not possible"; lock expiry sends check-sync', async () => {
    const d = devices.wrong!;
    const reg = await h.register(d.mac, d.password);
    const wrong = d.pap === '000000' ? '111111' : '000000';
    const call = await h.dial('wrong', d, `${wrong}# ${wrong}# ${wrong}#`, { pauseMs: 2500, waitMs: 30000 });
    assert.equal(call.code, 0, call.out);
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'failed');
    const next = await h.sipp(h.uacScenario('locked', ['wait_bye'], { WAIT: '20000' }), {
      port: await sipPort(),
      mac: d.mac,
      password: d.password,
    });
    assert.equal(next.code, 0, next.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 2), ['failed', 'not_possible']);
    // the lock (8 s) runs out; the watcher settles it and sends the snom phone check-sync
    await reg.notified(30000);
    reg.stop();
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'needed');
  });

  it('a PBX on SIP_TRUSTED_PEERS hands over a *89 call naming the device -> IVR, right PAP -> successful; only the phone address it names is whitelisted, never its own', async () => {
    const pbxCall = async (d: E2eDevice, name: string, deviceAddress?: string) => {
      const call = await h.sipp(
        h.uacScenario(
          name,
          ['play', 'wait_bye'],
          {
            PCAP: h.pcap(name, `${d.pap}#`),
            WAIT: '25000',
            ...(deviceAddress ? { DEVICE_ADDRESS: `X-Papgate-Device-Address: ${deviceAddress}` } : {}),
          },
          'uac_pbx.tmpl.xml',
        ),
        { port: await sipPort(), mac: d.mac, localIp: PBX_IP },
      );
      assert.equal(call.code, 0, call.out);
      assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
      assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'successful');
    };
    const whitelisted = async () => (await h.store.temporaryWhitelist(TENANT)).map((e) => e.ip).sort();
    const before = await whitelisted();
    await pbxCall(devices.pbx!, 'pbx');
    assert.deepEqual(await whitelisted(), before, "no address named: nothing whitelisted, not the PBX's");
    await pbxCall(devices.pbxNamed!, 'pbx-named', '127.0.0.45');
    assert.deepEqual(
      await whitelisted(),
      [...before, '127.0.0.45'].sort(),
      'the phone address the PBX named',
    );
    assert.ok(!before.includes(PBX_IP));
  });

  it('a trusted PBX may only send *89; the device header from anyone else is not believed', async () => {
    const d = devices.refused!;
    const refused = async (name: string, code: string, o: { service: string; localIp: string }) => {
      const file = path.join(h.tmp, `${name}.xml`);
      fs.writeFileSync(
        file,
        fs.readFileSync(h.scenario('uac_refused.tmpl.xml'), 'utf8').split('__CODE__').join(code),
      );
      return h.sipp(file, { port: await sipPort(), mac: d.mac, ...o });
    };
    const other = await refused('pbx-other', '403', { service: '100', localIp: PBX_IP });
    assert.equal(other.code, 0, other.out);
    const untrusted = await refused('untrusted', '407', { service: '*89', localIp: '127.0.0.1' });
    assert.equal(untrusted.code, 0, `an untrusted sender is challenged like any phone: ${untrusted.out}`);
    assert.deepEqual(h.outcomes(d.mac), [], 'no IVR session');
  });

  /**
   * An emergency call of `d` to 112 that claims PHONE_CLAIMS, answered (or refused, or rung and
   * cancelled...) by the sipp UAS `route` on its port: both sides must end as their scenarios say.
   */
  async function emergencyCall(
    d: E2eDevice,
    route: Promise<SippResult>,
    phone: {
      template?: string;
      bodies?: ('hangup' | 'wait_bye')[];
      fill?: Record<string, string>;
      /** where the call comes from (default PHONE_IP, the whitelisted lab network) */
      localIp?: string;
      /** what the phone's INVITEs carry instead of no body (with uac_late_offer.tmpl.xml) */
      body?: { type: string; content: string };
    } = {},
  ) {
    await sleep(500);
    const file = h.uacScenario(
      `emergency-${d.mac}-${Date.now()}`,
      phone.bodies ?? ['hangup'],
      { PAUSE: '1000', WAIT: '15000' },
      phone.template,
    );
    let xml = fs.readFileSync(file, 'utf8');
    for (const [k, v] of Object.entries(phone.fill ?? {})) xml = xml.split(`__${k}__`).join(v);
    const body = phone.body;
    if (body)
      xml = xml.replace(
        /(CSeq: \d+ INVITE\n(?:.*\n)*?\s*)Content-Length: 0\n\n/g,
        (_m, head: string) =>
          `${head}Content-Type: ${body.type}\n      Content-Length: [len]\n\n${body.content}\n\n`,
      );
    fs.writeFileSync(file, xml);
    claimIdentity(file);
    const call = await h.sipp(file, {
      port: await sipPort(),
      mac: d.mac,
      password: phone.localIp ? h.passwordFor(d, phone.localIp) : d.password,
      service: '112',
      ...(phone.localIp ? { localIp: phone.localIp } : {}),
    });
    const answered = await route;
    assert.equal(answered.code, 0, `the emergency route: ${answered.out}`);
    assert.equal(call.code, 0, `the phone: ${call.out}`);
    assert.deepEqual(h.outcomes(d.mac), [], 'no IVR session');
  }

  const noLocation: SippCheck[] = [
    absentHeader('Geolocation'),
    absentHeader('Geolocation-Routing'),
    { regexp: 'pidf', in: 'body', absent: true },
    { regexp: 'm=audio [0-9]+ RTP/AVP 0 101', in: 'body' },
  ];

  /** A call of `d` reaching EMERGENCY_ROUTE with `callerId`, no location and nothing of the phone. */
  const atOperatorRoute = (d: E2eDevice, callerId: string) =>
    emergencyCall(
      d,
      h.emergencyRoute(emergencyPort, d.mac, [
        ...identityChecks(callerId),
        ...NOTHING_OF_THE_PHONE,
        ...noLocation,
      ]),
    );

  /** A site record written straight into Redis, around the API and its checks. */
  const storeRaw = (name: string, record: Record<string, unknown>) =>
    h.store.redis.hSet(keys.tenant(TENANT).sites, name, JSON.stringify(record));

  /** The count of papgate_emergency_calls_total{result, identity} in the in-process service. */
  const emergencyCount = async (result: string, identity: string) =>
    (await h.metrics.registry.getSingleMetric('papgate_emergency_calls_total')!.get()).values.find(
      (v) => v.labels.result === result && v.labels.identity === identity,
    )?.value ?? 0;

  /** The number of papgate_emergency_call_setup_seconds observations of `result` (issue 24). */
  const setupCount = async (result: string) =>
    (await h.metrics.registry.getSingleMetric('papgate_emergency_call_setup_seconds')!.get()).values.find(
      (v) => v.labels.result === result && (v as { metricName?: string }).metricName?.endsWith('_count'),
    )?.value ?? 0;

  /** The device's latest `emergency_call` event in the audit trail (written after the call's outcome). */
  const audited = (mac: string) =>
    until(
      `the emergency call of ${mac} in the audit trail`,
      async () =>
        (await h.store.events(TENANT, 50)).find((e) => e.type === 'emergency_call' && e.mac === mac) ?? null,
      5000,
    );

  it('a phone without a site record, claiming identities, a location and a route of its own -> the route gets the operator default identity and nothing of the phone (no IVR); counted and audited', async () => {
    const d = devices.emergency!;
    const before = await emergencyCount('connected', 'operator');
    await atOperatorRoute(d, OPERATOR_ID);
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'needed');
    assert.equal(await emergencyCount('connected', 'operator'), before + 1);
    const e = await audited(d.mac);
    assert.deepEqual(
      [e.outcome, e.identity, e.route, e.ip],
      ['connected', 'operator', `sip:127.0.0.1:${emergencyPort}`, PHONE_IP],
    );
  });

  const sites = () => new Sites(h.store.redis, { eventsMaxLen: 10000 });
  /**
   * A site's caller ID and address go only with calls from its networks: a PAP success of one of
   * its phones at the lab network (PHONE_IP) makes that one (entries last 60 s here).
   */
  const fromSite = async (d: E2eDevice) =>
    assert.equal((await h.store.attemptPap(d.mac, d.pap, PHONE_IP, 'e2e', 'api')).outcome, 'successful');

  it('a site with caller ID, address and its own allowed route that takes a location -> PAI, From, Geolocation and PIDF-LO there, nothing of the phone', async () => {
    await sites().put(
      TENANT,
      {
        ...parseSite('Floor 2/East', {
          emergencyCallerId: '+493012345678',
          civicAddress: { country: 'DE', A3: 'Berlin', RD: 'Unter den Linden', HNO: '5', FLR: '2' },
          emergencyRoute: `sip:127.0.0.1:${sitePort}`,
          sendLocation: true,
        }),
        emergencyCallerIdBy: 'operator',
      },
      'e2e',
    );
    const loc = `loc-[0-9a-f]+@${REALM}`;
    const d = devices.located!;
    await fromSite(d);
    const [counted, timed] = [await emergencyCount('connected', 'site'), await setupCount('connected')];
    await emergencyCall(
      d,
      h.emergencyRoute(sitePort, d.mac, [
        ...identityChecks('+493012345678'),
        ...NOTHING_OF_THE_PHONE,
        { regexp: `^ *<cid:${loc}> *$`, in: { header: 'Geolocation:' } },
        { regexp: '^ *yes *$', in: { header: 'Geolocation-Routing:' } },
        { regexp: '^ *multipart/mixed; *boundary=', in: { header: 'Content-Type:' } },
        { regexp: 'm=audio [0-9]+ RTP/AVP 0 101', in: 'body' },
        { regexp: `Content-ID: <${loc}>`, in: 'body' },
        { regexp: '<ca:RD>Unter den Linden</ca:RD>', in: 'body' },
        { regexp: '<dm:deviceID>mac:001565e2e006<', in: 'body' },
      ]),
    );
    // issue 24: audited with the site, counted, and its set-up time measured
    const e = await audited(d.mac);
    assert.deepEqual(
      [e.outcome, e.identity, e.site, e.route],
      ['connected', 'site', 'Floor 2/East', `sip:127.0.0.1:${sitePort}`],
    );
    assert.ok(Number(e.setupMs) >= 0 && Number(e.setupMs) < 30000, String(e.setupMs));
    assert.equal(await emergencyCount('connected', 'site'), counted + 1);
    assert.equal(await setupCount('connected'), timed + 1);
  });

  it("the same phone's MAC calling 112 from outside the site's networks (a stranger with its minimal file) -> the site's route, but the operator identity and no location", async () => {
    const d = devices.located!;
    const from = h.logLines.length;
    await emergencyCall(
      d,
      h.emergencyRoute(sitePort, d.mac, [
        ...identityChecks(OPERATOR_ID),
        ...NOTHING_OF_THE_PHONE,
        ...noLocation,
      ]),
      { localIp: '127.0.0.28' },
    );
    assert.ok(
      h.logLines
        .slice(from)
        .some((l) => l.mac === d.mac && /not from the site's network/.test(String(l.msg))),
      'a warn line says why the site identity was not sent',
    );
  });

  it('a site with a caller ID on a route that takes no location (the default) -> PAI and From, no location', async () => {
    await sites().put(
      TENANT,
      {
        ...parseSite('Annex', {
          emergencyCallerId: '+4930999000',
          civicAddress: { country: 'DE', A3: 'Berlin', RD: 'Annexweg', HNO: '1' },
        }),
        emergencyCallerIdBy: 'operator',
      },
      'e2e',
    );
    const d = devices.identified!;
    await fromSite(d);
    await atOperatorRoute(d, '+4930999000');
  });

  it('a site record stored straight into Redis with a route and caller ID nobody allowed -> EMERGENCY_ROUTE with the operator default identity, and a warning', async () => {
    const roguePort = await freePort();
    await storeRaw('Rogue', {
      emergencyCallerId: '+19005550100',
      civicAddress: null,
      emergencyRoute: `sip:+19005550100@127.0.0.1:${roguePort}`,
      sendLocation: null,
    });
    const d = devices.rogue!;
    const from = h.logLines.length;
    await atOperatorRoute(d, OPERATOR_ID);
    const warned = h.logLines
      .slice(from)
      .find((l) => l.mac === d.mac && l.level === 40 && /not allowed/.test(String(l.msg)));
    assert.ok(warned, 'a warn line names what was not used');
    assert.deepEqual(warned.refused, ['emergencyRoute', 'emergencyCallerId']);
  });

  it('a record stored straight into Redis with an address no PIDF-LO can be made of -> the call goes out without location', async () => {
    await storeRaw('Broken', {
      emergencyCallerId: '+4930999111',
      emergencyCallerIdBy: 'operator',
      civicAddress: { country: { not: 'text' }, A3: 7 },
      emergencyRoute: null,
      sendLocation: true,
    });
    const d = devices.broken!;
    await fromSite(d);
    await atOperatorRoute(d, '+4930999111');
  });

  it('a tenant token cannot point its site at a route or caller ID the operator did not allow; the call keeps the operator route and identity', async () => {
    const admin = createAdminServer({ config: h.config, store: h.store, log: silentLog, adminToken: ADMIN });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (admin.server.address() as AddressInfo).port;
      const call = async (method: string, url: string, bearer: string, body?: unknown) => {
        const res = await request(port, url, {
          method,
          headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> };
      };
      const allowed = await call('PUT', `/api/v1/tenants/${TENANT}`, ADMIN, {
        name: 'E2E',
        language: 'en',
        emergencyCallerIdPrefixes: ['+4930777'],
      });
      assert.equal(allowed.status, 200, JSON.stringify(allowed.json));
      const made = await call('POST', `/api/v1/tenants/${TENANT}/tokens`, ADMIN, { name: 'e2e-tenant' });
      const token = made.json.token as string;
      const url = `/api/v1/tenants/${TENANT}/sites/Tenant%20set`;
      const route = await call('PUT', url, token, {
        emergencyCallerId: '+4930777100',
        emergencyRoute: 'sip:+19005550100@127.0.0.1:5099',
      });
      assert.equal(route.status, 400, JSON.stringify(route.json));
      assert.equal(route.json.field, 'emergencyRoute');
      const id = await call('PUT', url, token, { emergencyCallerId: '+19005550100' });
      assert.equal(id.status, 403, JSON.stringify(id.json));
      assert.equal(id.json.field, 'emergencyCallerId');
      assert.equal(await sites().get(TENANT, 'Tenant set'), null, 'nothing written');
    } finally {
      await admin.close();
    }
    const d = devices.tenantSet!;
    await emergencyCall(
      d,
      h.emergencyRoute(emergencyPort, d.mac, [...identityChecks(OPERATOR_ID), ...NOTHING_OF_THE_PHONE]),
    );
  });

  it('the route refuses (486) -> the phone hears 486', async () => {
    const d = devices.emergency!;
    const xml = fs.readFileSync(h.scenario('uas_refuse.tmpl.xml'), 'utf8').split('__CODE__').join('486');
    const file = path.join(h.tmp, 'uas-refuse.xml');
    fs.writeFileSync(file, xml);
    await emergencyCall(d, h.sipp(file, { port: emergencyPort, mac: d.mac, uas: true, timeoutS: 30 }), {
      template: 'uac_failed.tmpl.xml',
      bodies: [],
      fill: { CODE: '486' },
    });
    const e = await audited(d.mac);
    assert.deepEqual([e.outcome, e.status], ['route_refused', '486']);
    assert.ok((await emergencyCount('route_refused', 'operator')) >= 1);
  });

  it('the route hangs up -> the phone gets a BYE', async () => {
    const d = devices.emergency!;
    await emergencyCall(
      d,
      h.sipp(h.scenario('uas_hangup.xml'), { port: emergencyPort, mac: d.mac, uas: true, timeoutS: 30 }),
      {
        bodies: ['wait_bye'],
      },
    );
  });

  it('the phone cancels while the route rings -> the route gets the CANCEL, the phone 487', async () => {
    const d = devices.emergency!;
    await emergencyCall(
      d,
      h.sipp(h.scenario('uas_cancelled.xml'), { port: emergencyPort, mac: d.mac, uas: true, timeoutS: 30 }),
      { template: 'uac_cancel_ringing.xml', bodies: [] },
    );
  });

  const PIDF = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:phone@example.invalid">',
    '<tuple id="t1"><status/></tuple>',
    '</presence>',
  ].join('\n');

  for (const [what, body] of [
    ['a body of application/pidf+xml alone', { type: 'application/pidf+xml', content: PIDF }],
    [
      'a multipart/mixed body without an SDP part',
      {
        type: 'multipart/mixed;boundary=phone-b1',
        content: [
          '--phone-b1',
          'Content-Type: application/pidf+xml',
          'Content-ID: <loc@phone>',
          '',
          PIDF,
          '--phone-b1--',
        ].join('\n'),
      },
    ],
  ] as const)
    it(`an INVITE with ${what} (no SDP offer) -> a late offer to the route, not a failed call`, async () => {
      // The drill: 500 and "EMERGENCY CALL FAILED ... missing content-type"; the route got nothing.
      const d = devices.emergency!;
      const from = h.logLines.length;
      await emergencyCall(
        d,
        h.sipp(h.scenario('uas_late_offer.xml'), {
          port: emergencyPort,
          mac: d.mac,
          uas: true,
          timeoutS: 30,
        }),
        { template: 'uac_late_offer.tmpl.xml', body },
      );
      const lines = h.logLines.slice(from);
      assert.ok(lines.some((l) => l.msg === 'emergency call: connected'));
      assert.ok(!lines.some((l) => /EMERGENCY CALL FAILED/.test(String(l.msg))));
    });

  it('a late offer (INVITE without SDP) -> the route gets an INVITE without SDP, its offer is answered in the ACK', async () => {
    const d = devices.emergency!;
    await emergencyCall(
      d,
      h.sipp(h.scenario('uas_late_offer.xml'), { port: emergencyPort, mac: d.mac, uas: true, timeoutS: 30 }),
      { template: 'uac_late_offer.tmpl.xml' },
    );
  });

  // Last: its 10 s would let earlier tests' temporary whitelist entries run out under later ones.
  it('a disabled device still registers and its emergency call goes out; a PAP on it is answered blocked, nothing changes', async () => {
    const d = devices.disabled!;
    assert.equal(await h.store.setDisabled(TENANT, d.mac, true, 'e2e'), true);
    const reg = await h.register(d.mac, d.password);
    await atOperatorRoute(d, OPERATOR_ID);
    const call = await h.dial('disabled', d, `${d.pap}#`);
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['blocked']);
    const stored = (await h.store.getDevice(TENANT, d.mac))!;
    assert.deepEqual([stored.state, stored.totalFailures], ['needed', 0]);
    reg.stop();
  });
});

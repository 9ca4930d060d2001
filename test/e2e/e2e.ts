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
import { freePort } from '../../src/store/embedded';
import { Sites } from '../../src/store/sites';
import { parseSite } from '../../src/domain/site';
import { Harness, PBX_IP, REALM, sleep, TENANT, type E2eDevice } from './harness';

describe('e2e: papgate SIP service with drachtio-server, FreeSWITCH and sipp', function () {
  this.timeout(120000);
  const h = new Harness();
  const devices: Record<string, E2eDevice> = {};
  let emergencyPort = 0;

  before(async function () {
    emergencyPort = await freePort();
    h.extraEnv.EMERGENCY_ROUTE = `sip:127.0.0.1:${emergencyPort}`;
    await h.start(this);
    devices.ok = await h.device('001565e2e001');
    devices.wrong = await h.device('000413e2e002', { vendor: 'snom' });
    devices.refused = await h.device('001565e2e003');
    devices.emergency = await h.device('001565e2e004');
    devices.pbx = await h.device('001565e2e005');
    devices.pbxNamed = await h.device('001565e2e015');
    devices.located = await h.device('001565e2e006', { site: 'Floor 2/East' });
    devices.identified = await h.device('001565e2e007', { site: 'Annex' });
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

  it('three wrong PAPs -> failed; the next call hears "not possible"; lock expiry sends check-sync', async () => {
    const d = devices.wrong!;
    const reg = await h.register(d.mac, d.password);
    const wrong = d.pap === '000000' ? '111111' : '000000';
    const call = await h.dial('wrong', d, `${wrong}# ${wrong}# ${wrong}#`, { pauseMs: 2500, waitMs: 30000 });
    assert.equal(call.code, 0, call.out);
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'failed');
    const next = await h.sipp(h.uacScenario('locked', ['wait_bye'], { WAIT: '20000' }), {
      port: await freePort(),
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
        { port: await freePort(), mac: d.mac, localIp: PBX_IP },
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
      return h.sipp(file, { port: await freePort(), mac: d.mac, ...o });
    };
    const other = await refused('pbx-other', '403', { service: '100', localIp: PBX_IP });
    assert.equal(other.code, 0, other.out);
    const untrusted = await refused('untrusted', '407', { service: '*89', localIp: '127.0.0.1' });
    assert.equal(untrusted.code, 0, `an untrusted sender is challenged like any phone: ${untrusted.out}`);
    assert.deepEqual(h.outcomes(d.mac), [], 'no IVR session');
  });

  it('emergency number from a phone without a site caller ID -> proxied straight to the emergency route (no IVR)', async () => {
    const d = devices.emergency!;
    const uas = h.sipp(h.scenario('uas_answer.xml'), {
      port: emergencyPort,
      mac: d.mac,
      uas: true,
      timeoutS: 40,
    });
    await sleep(500);
    const call = await h.sipp(h.uacScenario('emergency', ['hangup'], { PAUSE: '1000' }), {
      port: await freePort(),
      mac: d.mac,
      password: d.password,
      service: '112',
    });
    assert.equal(call.code, 0, call.out);
    const answered = await uas;
    assert.equal(answered.code, 0, answered.out);
    assert.deepEqual(h.outcomes(d.mac), [], 'no IVR session');
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'needed');
  });

  /** The site's emergency call, answered by a sipp UAS on `port` that checks the site's identity and `checks`. */
  async function siteCall(d: E2eDevice, port: number, callerId: string, checks: string) {
    let xml = fs.readFileSync(h.scenario('uas_site.tmpl.xml'), 'utf8');
    const vars = [...checks.matchAll(/assign_to="([a-z]+)"/g)].map((m) => `,${m[1]}`).join('');
    xml = xml.split('__CHECKS__').join(checks).split('__VARIABLES__').join(vars);
    xml = xml.split('__CALLER_ID__').join(callerId.replace('+', '\\+'));
    const file = path.join(h.tmp, `uas-site-${port}.xml`);
    fs.writeFileSync(file, xml);
    const uas = h.sipp(file, { port, mac: d.mac, uas: true, timeoutS: 40 });
    await sleep(500);
    // The phone claims an identity of its own: only the site's may reach the emergency route.
    const uac = h.uacScenario(`site-${port}`, ['hangup'], { PAUSE: '1000' });
    const claimed = fs
      .readFileSync(uac, 'utf8')
      .replace(
        /Max-Forwards: 70\n(\s*)Content-Type/g,
        'Max-Forwards: 70\n$1P-Asserted-Identity: <sip:+15555550100@127.0.0.1>\n$1Content-Type',
      );
    assert.notEqual(claimed, fs.readFileSync(uac, 'utf8'));
    fs.writeFileSync(uac, claimed);
    const call = await h.sipp(uac, {
      port: await freePort(),
      mac: d.mac,
      password: d.password,
      service: '112',
    });
    assert.equal(call.code, 0, call.out);
    const answered = await uas;
    assert.equal(answered.code, 0, `the emergency route got the site's identity: ${answered.out}`);
    assert.deepEqual(h.outcomes(d.mac), [], 'no IVR session');
  }

  const sites = () => new Sites(h.store.redis, { eventsMaxLen: 10000 });

  it('a site with caller ID, address and its own route that takes a location -> PAI, From, Geolocation and PIDF-LO there', async () => {
    const sitePort = await freePort();
    await sites().put(
      TENANT,
      parseSite('Floor 2/East', {
        emergencyCallerId: '+493012345678',
        civicAddress: { country: 'DE', A3: 'Berlin', RD: 'Unter den Linden', HNO: '5', FLR: '2' },
        emergencyRoute: `sip:127.0.0.1:${sitePort}`,
        sendLocation: true,
      }),
      'e2e',
    );
    const loc = `loc-[0-9a-f]+@${REALM}`;
    await siteCall(
      devices.located!,
      sitePort,
      '+493012345678',
      [
        `<ereg regexp="^ *&lt;cid:${loc}&gt; *$" search_in="hdr" header="Geolocation:" check_it="true" assign_to="geo"/>`,
        '<ereg regexp="^ *yes *$" search_in="hdr" header="Geolocation-Routing:" check_it="true" assign_to="routing"/>',
        '<ereg regexp="^ *multipart/mixed; *boundary=" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ctype"/>',
        '<ereg regexp="m=audio [0-9]+ RTP/AVP 0 101" search_in="body" check_it="true" assign_to="sdp"/>',
        `<ereg regexp="Content-ID: &lt;${loc}&gt;" search_in="body" check_it="true" assign_to="part"/>`,
        '<ereg regexp="&lt;ca:RD&gt;Unter den Linden&lt;/ca:RD&gt;" search_in="body" check_it="true" assign_to="rd"/>',
        '<ereg regexp="&lt;dm:deviceID&gt;mac:001565e2e006&lt;" search_in="body" check_it="true" assign_to="mac"/>',
      ].join('\n'),
    );
  });

  it('a site with a caller ID on a route that takes no location (the default) -> PAI and From, no location', async () => {
    await sites().put(
      TENANT,
      parseSite('Annex', {
        emergencyCallerId: '+4930999000',
        civicAddress: { country: 'DE', A3: 'Berlin', RD: 'Annexweg', HNO: '1' },
      }),
      'e2e',
    );
    await siteCall(
      devices.identified!,
      emergencyPort,
      '+4930999000',
      [
        '<ereg regexp="." search_in="hdr" header="Geolocation:" check_it_inverse="true" assign_to="geo"/>',
        '<ereg regexp="pidf" search_in="body" check_it_inverse="true" assign_to="pidf"/>',
        '<ereg regexp="m=audio [0-9]+ RTP/AVP 0 101" search_in="body" check_it="true" assign_to="sdp"/>',
      ].join('\n'),
    );
  });
});

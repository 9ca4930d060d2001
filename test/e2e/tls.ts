/**
 * SIP over TLS and SRTP with a real phone (issue 21): baresip registers on drachtio-server's TLS
 * contact with a restricted account, dials *89 offering SRTP (SDES), types the PAP as RFC 2833
 * inside SRTP, and the device ends `successful`, the check-sync NOTIFY going back over TLS. With
 * SIP_REQUIRE_TLS, the restricted account is refused over UDP, a plain RTP offer gets 488, an
 * emergency call is taken either way.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/store/embedded';
import { Baresip, baresipAvailable } from './baresip';
import { Harness, serversRun, sleep, TENANT, until } from './harness';

const TLS_TARGET = process.env.E2E_SIP_TLS ?? '';
const CA = process.env.E2E_TLS_CA ?? '';

/** One SIP request over UDP to drachtio-server's plain contact; resolves with the status line. */
function overUdp(target: string, method: 'REGISTER' | 'INVITE', user: string, to: string): Promise<string> {
  const [host, port] = [target.split(':')[0]!, Number(target.split(':')[1])];
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => (s.close(), reject(new Error(`no answer to the ${method}`))), 5000);
    s.on('message', (m: Buffer) => {
      const status = m.toString().split('\r\n')[0]!;
      // 100 Trying comes first for an INVITE
      if (/^SIP\/2\.0 1\d\d /.test(status)) return;
      clearTimeout(timer);
      s.close();
      resolve(status);
    });
    s.bind(0, '127.0.0.1', () => {
      const local = s.address().port;
      const tag = randomBytes(4).toString('hex');
      const ruri = method === 'REGISTER' ? `sip:${host}:${port}` : `sip:${to}@${host}:${port}`;
      const sdp =
        method === 'INVITE'
          ? `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${local + 2} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n`
          : '';
      const msg = [
        `${method} ${ruri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${tag};rport`,
        'Max-Forwards: 70',
        `From: <sip:${user}@${host}>;tag=${tag}`,
        `To: <sip:${method === 'REGISTER' ? user : to}@${host}>`,
        `Call-ID: ${tag}@127.0.0.1`,
        `CSeq: 1 ${method}`,
        `Contact: <sip:${user}@127.0.0.1:${local}>`,
        ...(sdp ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${Buffer.byteLength(sdp)}`,
        '',
        sdp,
      ].join('\r\n');
      s.send(msg, port, host);
    });
  });
}

describe('e2e: SIP over TLS with a real phone (baresip)', function () {
  this.timeout(120_000);
  const h = new Harness({ SIP_REQUIRE_TLS: '1' });
  let emergencyPort = 0;

  before(async function () {
    emergencyPort = await freePort();
    h.extraEnv.EMERGENCY_ROUTE = `sip:127.0.0.1:${emergencyPort}`;
    if (TLS_TARGET === '' || !baresipAvailable()) {
      const why = TLS_TARGET === '' ? 'E2E_SIP_TLS not set' : 'baresip-core not installed';
      // The test command installs baresip-core and servers.sh gives the TLS contact.
      if (serversRun()) throw new Error(`e2e: ${why}`);
      console.log(`e2e: SKIPPED (${why})`);
      this.skip();
    }
    await h.start(this);
  });

  after(() => h.stop());

  it('registers over TLS, *89 with the PAP in RFC 2833 inside SRTP -> successful, the check-sync NOTIFY goes back over TLS', async () => {
    const d = await h.device('001565e2e101');
    const phone = new Baresip({
      user: d.mac,
      password: d.password,
      registrar: TLS_TARGET,
      mediaenc: 'srtp-mand',
    });
    try {
      await phone.start(CA);
      await phone.registered();
      const from = phone.events.length;
      assert.ok((await phone.command('dial', '*89')).ok);
      // baresip's media encryption event: SRTP on, with the suite FreeSWITCH answered (SDES)
      const menc = await phone.event('CALL_MENC', 15_000, from);
      assert.match(String(menc.param), /audio,AES_CM_128_HMAC_SHA1_(80|32)/);
      await phone.event('CALL_ESTABLISHED', 15_000, from);
      assert.match(phone.log, /^m=audio \d+ RTP\/SAVP /m, "FreeSWITCH's answer, as the phone got it");
      // the prompt starts playing; digits before it are taken too, but a phone's user waits
      await sleep(1500);
      assert.ok((await phone.command('sndcode', `${d.pap}#`)).ok);
      await until(
        'the device successful',
        async () => (await h.store.getDevice(TENANT, d.mac))?.state === 'successful' || null,
        30_000,
      );
      const sent = await until(
        'check-sync sent',
        async () => h.logLines.find((l) => l.msg === 'check-sync sent') ?? null,
        15_000,
      );
      // baresip has no subscription for it: it answers 481, papgate counts it as rejected
      assert.equal(sent.status, 481);
      await until(
        'the NOTIFY at the phone, over TLS',
        // baresip's SIP trace (-s): the transport and both ends on the line before each message
        async () => /^TLS \S+ -> \S+\r?\nNOTIFY sip:/m.test(phone.log) || null,
        5000,
      );
      assert.match(phone.log, /^Event: check-sync/im);
    } finally {
      await phone.stop();
    }
  });

  it('SIP_REQUIRE_TLS: *89 over TLS with plain RTP gets 488, never an answer in clear', async () => {
    const d = await h.device('001565e2e105');
    const phone = new Baresip({ user: d.mac, password: d.password, registrar: TLS_TARGET });
    try {
      await phone.start(CA);
      await phone.registered();
      const from = phone.events.length;
      assert.ok((await phone.command('dial', '*89')).ok);
      const closed = await phone.event('CALL_CLOSED', 15_000, from);
      assert.match(String(closed.param), /488/);
      assert.ok(!phone.events.slice(from).some((e) => e.type === 'CALL_ESTABLISHED'));
      assert.deepEqual(h.outcomes(d.mac), [], 'no IVR session');
    } finally {
      await phone.stop();
    }
  });

  it('an emergency call over TLS reaches the emergency route', async () => {
    const d = await h.device('001565e2e103');
    const route = h.emergencyRoute(emergencyPort, d.mac, []);
    const phone = new Baresip({ user: d.mac, password: d.password, registrar: TLS_TARGET });
    try {
      await phone.start(CA);
      await phone.registered();
      await sleep(500);
      const from = phone.events.length;
      assert.ok((await phone.command('dial', '112')).ok);
      await phone.event('CALL_ESTABLISHED', 15_000, from);
      assert.ok((await phone.command('hangup')).ok);
      const answered = await route;
      assert.equal(answered.code, 0, `the emergency route: ${answered.out}`);
    } finally {
      await phone.stop();
    }
  });

  it('SIP_REQUIRE_TLS: the restricted account over UDP gets 403 for its REGISTER and its *89, an emergency call over UDP is still taken', async () => {
    const d = await h.device('001565e2e102');
    const plain = process.env.E2E_SIP ?? '';
    assert.equal(await overUdp(plain, 'REGISTER', d.mac, ''), 'SIP/2.0 403 TLS Required');
    assert.equal(await overUdp(plain, 'INVITE', d.mac, '*89'), 'SIP/2.0 403 TLS Required');
    // challenged like any caller: past the transport check, on its way to the emergency route
    assert.equal(await overUdp(plain, 'INVITE', d.mac, '112'), 'SIP/2.0 407 Proxy Authentication Required');
    assert.ok(h.logLines.some((l) => l.msg === 'register refused: not over TLS (SIP_REQUIRE_TLS)'));
  });
});

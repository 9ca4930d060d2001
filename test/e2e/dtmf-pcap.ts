import fs from 'node:fs';

/**
 * Writes a pcap (Ethernet/IPv4/UDP/RTP) of RFC 4733 (2833) telephone-event packets for a digit
 * string, for sipp's `play_pcap_audio`. sipp replays the RTP headers as they are in the file, so
 * every event gets its own RTP timestamp and the sequence numbers keep increasing: a receiver
 * (FreeSWITCH) then sees "1123" as four events, not as retransmissions of one.
 * A space in `digits` inserts `pauseMs` of silence (no packets) between entries.
 */
export interface DtmfPcapOptions {
  readonly payloadType?: number;
  /** tone length per digit */
  readonly toneMs?: number;
  /** silence after each digit */
  readonly gapMs?: number;
  /** silence for each space in the digit string */
  readonly pauseMs?: number;
  /** silence before the first digit */
  readonly leadMs?: number;
}

const EVENTS: Record<string, number> = { '*': 10, '#': 11, A: 12, B: 13, C: 14, D: 15 };
for (let i = 0; i <= 9; i++) EVENTS[String(i)] = i;

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) + (i + 1 < b.length ? b[i + 1]! : 0);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

function frame(rtp: Buffer): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(6000, 0);
  udp.writeUInt16BE(6000, 2);
  udp.writeUInt16BE(8 + rtp.length, 4);
  udp.writeUInt16BE(0, 6); // no UDP checksum (allowed for IPv4)
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + 8 + rtp.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  Buffer.from([127, 0, 0, 1]).copy(ip, 12);
  Buffer.from([127, 0, 0, 1]).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, udp, rtp]);
}

export function dtmfPcap(digits: string, o: DtmfPcapOptions = {}): Buffer {
  const pt = o.payloadType ?? 101;
  const toneMs = o.toneMs ?? 100;
  const gapMs = o.gapMs ?? 150;
  const pauseMs = o.pauseMs ?? 1500;
  let seq = 1000 + Math.floor(Math.random() * 20000);
  let ts = 160000 + Math.floor(Math.random() * 1_000_000);
  const ssrc = Math.floor(Math.random() * 0xffffffff) >>> 0;
  let t = 1_000_000 + (o.leadMs ?? 0) / 1000; // pcap clock, seconds
  const packets: { t: number; data: Buffer }[] = [];
  for (const ch of digits) {
    if (ch === ' ') {
      t += pauseMs / 1000;
      ts += 8 * pauseMs;
      continue;
    }
    const ev = EVENTS[ch.toUpperCase()];
    if (ev === undefined) throw new Error(`not a DTMF digit: ${ch}`);
    const n = Math.max(1, Math.round(toneMs / 20));
    for (let i = 0; i < n + 3; i++) {
      const end = i >= n;
      const rtp = Buffer.alloc(16);
      rtp.writeUInt8(0x80, 0);
      rtp.writeUInt8((i === 0 ? 0x80 : 0) | pt, 1); // marker on the first packet of an event
      rtp.writeUInt16BE(seq & 0xffff, 2);
      rtp.writeUInt32BE(ts >>> 0, 4);
      rtp.writeUInt32BE(ssrc, 8);
      rtp.writeUInt8(ev, 12);
      rtp.writeUInt8((end ? 0x80 : 0) | 10, 13); // E bit, volume 10
      rtp.writeUInt16BE(160 * Math.min(i + 1, n), 14); // duration in samples
      packets.push({ t, data: frame(rtp) });
      seq += 1;
      t += 0.02;
    }
    ts += 8 * (toneMs + gapMs);
    t += gapMs / 1000;
  }
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
  const out: Buffer[] = [header];
  for (const p of packets) {
    const h = Buffer.alloc(16);
    const sec = Math.floor(p.t);
    h.writeUInt32LE(sec, 0);
    h.writeUInt32LE(Math.round((p.t - sec) * 1e6) % 1_000_000, 4);
    h.writeUInt32LE(p.data.length, 8);
    h.writeUInt32LE(p.data.length, 12);
    out.push(h, p.data);
  }
  return Buffer.concat(out);
}

if (require.main === module) {
  const [file, digits] = process.argv.slice(2);
  if (!file || digits === undefined) {
    console.error('usage: node dist/test/e2e/dtmf-pcap.js OUT.pcap DIGITS   (space = pause)');
    process.exit(2);
  }
  fs.writeFileSync(file, dtmfPcap(digits));
}

/**
 * A packet capture on loopback with tcpdump (Debian's package; test/e2e/run.sh's set-up installs
 * it), read back without another tool: what crossed the wire, as a passive listener on the path
 * would have it. Loopback only; tcpdump needs root or CAP_NET_RAW, as the test command runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { until } from './harness';

export interface Packet {
  readonly protocol: 'tcp' | 'udp';
  readonly from: number;
  readonly to: number;
  readonly payload: Buffer;
}

export class Capture {
  private child: ChildProcess | null = null;
  private stderr = '';
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-capture-'));
  private readonly file = path.join(this.dir, 'lo.pcap');

  /** Starts capturing what `filter` (a pcap filter) selects on `lo`; resolves once tcpdump listens. */
  async start(filter: string): Promise<void> {
    // -U: each packet written as it comes; -Z root: the file stays writable where it was opened.
    const child = spawn(
      'tcpdump',
      ['-i', 'lo', '-n', '-U', '-s', '0', '-Z', 'root', '-w', this.file, filter],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    await until(
      'tcpdump listening',
      async () => {
        if (child.exitCode !== null) throw new Error(`tcpdump exited: ${this.stderr}`);
        return /listening on lo/.test(this.stderr) || null;
      },
      10_000,
    );
    void exited;
  }

  /** Stops tcpdump and reads the IPv4 TCP and UDP packets it wrote. */
  async stop(): Promise<Packet[]> {
    const child = this.child;
    this.child = null;
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    try {
      return readPcap(fs.readFileSync(this.file));
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** The packets of a classic pcap file of Ethernet (DLT_EN10MB) frames, as tcpdump -i lo writes. */
export function readPcap(buf: Buffer): Packet[] {
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d)
    throw new Error('not a pcap file');
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`link type ${u32(20)}, not Ethernet`);
  const out: Packet[] = [];
  for (let at = 24; at + 16 <= buf.length;) {
    const length = u32(at + 8);
    const frame = buf.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    if (frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = ip.readUInt16BE(2);
    const l4 = ip.subarray(ihl, total);
    if (ip[9] === 17 && l4.length >= 8)
      out.push({
        protocol: 'udp',
        from: l4.readUInt16BE(0),
        to: l4.readUInt16BE(2),
        payload: l4.subarray(8),
      });
    else if (ip[9] === 6 && l4.length >= 20)
      out.push({
        protocol: 'tcp',
        from: l4.readUInt16BE(0),
        to: l4.readUInt16BE(2),
        payload: l4.subarray((l4[12]! >> 4) * 4),
      });
  }
  return out;
}

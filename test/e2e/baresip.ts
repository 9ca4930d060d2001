/**
 * A real SIP phone for the e2e suite where sipp cannot go (TLS, SRTP): Debian's `baresip-core`,
 * headless. One instance is one phone with one account; it is driven over its ctrl_tcp socket
 * (netstring JSON: `{"command":"dial","params":"*89"}`), and it sends DTMF as RFC 2833 from its
 * audio source's clock, so the source is `aubridge` (no sound hardware), which loops the prompts
 * back. Loopback only; its ctrl_tcp socket has no authentication, so any local user could drive
 * the test phone while it runs (it holds a test device's restricted password only). stop() ends
 * it: `quit`, then SIGTERM twice (one SIGTERM starts a graceful stop that can take many seconds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/store/embedded';
import { isLoopback, sleep, until } from './harness';

export interface BaresipEvent {
  readonly class?: string;
  readonly type: string;
  readonly param?: string;
}

export interface BaresipAccount {
  /** the AOR user: the device's MAC */
  readonly user: string;
  readonly password: string;
  /** host:port of papgate's registrar over TLS */
  readonly registrar: string;
  /** `srtp-mand`: RTP/SAVP with SDES keys only; omitted: plain RTP */
  readonly mediaenc?: 'srtp-mand';
  /** seconds between REGISTERs (0: none) */
  readonly regint?: number;
}

const MODULES = '/usr/lib/baresip/modules';

/** Whether baresip and the modules this harness loads are installed (scripts/setup.sh --test). */
export function baresipAvailable(): boolean {
  return ['g711', 'aubridge', 'srtp', 'account', 'menu', 'ctrl_tcp'].every((m) =>
    fs.existsSync(path.join(MODULES, `${m}.so`)),
  );
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  private child: ChildProcess | null = null;
  private socket: net.Socket | null = null;
  private buffer = '';
  private tokens = 0;
  private readonly waiting = new Map<string, (r: { ok: boolean; data: string }) => void>();
  private output = '';
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-baresip-'));

  constructor(private readonly account: BaresipAccount) {
    if (!isLoopback(account.registrar.split(':')[0]!)) throw new Error('baresip targets loopback only');
  }

  /** What baresip printed (its SIP trace with `-s`). */
  get log(): string {
    return this.output;
  }

  /** The ports baresip will use (its SIP listener, its control socket, its RTP block of ten), chosen free. */
  private chosen: { sip: number; ctrl: number; rtp: number } | null = null;

  async ports(): Promise<{ sip: number; ctrl: number; rtp: number }> {
    this.chosen ??= { sip: await freeTcpAndUdpPair(), ctrl: await freePort(), rtp: await freeRtpBlock() };
    return this.chosen;
  }

  async start(caFile: string): Promise<void> {
    const { sip, ctrl, rtp } = await this.ports();
    const a = this.account;
    fs.writeFileSync(
      path.join(this.dir, 'config'),
      [
        'poll_method epoll',
        // UDP and TCP on this port, TLS on the next one
        `sip_listen 127.0.0.1:${sip}`,
        'net_interface 127.0.0.1',
        `sip_cafile ${caFile}`,
        'call_local_timeout 120',
        'call_max_calls 1',
        'audio_player aubridge,papgate',
        'audio_source aubridge,papgate',
        'audio_alert aubridge,papgate-alert',
        `rtp_ports ${rtp}-${rtp + 9}`,
        `module_path ${MODULES}`,
        'module g711.so',
        'module aubridge.so',
        'module srtp.so',
        'module_app account.so',
        'module_app menu.so',
        'module_app ctrl_tcp.so',
        // the default is 0.0.0.0:4444
        `ctrl_tcp_listen 127.0.0.1:${ctrl}`,
        '',
      ].join('\n'),
    );
    const params = [
      `auth_pass=${a.password}`,
      ...(a.mediaenc ? [`mediaenc=${a.mediaenc}`] : []),
      `regint=${a.regint ?? 60}`,
      'answermode=manual',
      'audio_codecs=PCMU,PCMA',
    ];
    fs.writeFileSync(
      path.join(this.dir, 'accounts'),
      `<sip:${a.user}@${a.registrar};transport=tls>;${params.join(';')}\n`,
    );
    fs.writeFileSync(path.join(this.dir, 'contacts'), '');
    const child = spawn('baresip', ['-f', this.dir, '-s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer) => {
      this.output += d.toString();
      if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await until('baresip ctrl_tcp', () => this.connect(ctrl), 10_000);
  }

  private async connect(port: number): Promise<true | null> {
    const s = await new Promise<net.Socket | null>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => resolve(c));
      c.once('error', () => resolve(null));
    });
    if (s === null) return null;
    this.socket = s;
    s.on('data', (d: Buffer) => this.read(d.toString('utf8')));
    s.on('error', () => undefined);
    return true;
  }

  /** Netstrings: `<length>:<json>,`. */
  private read(text: string): void {
    this.buffer += text;
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.slice(0, colon));
      if (this.buffer.length < colon + 1 + length + 1) return;
      const body = this.buffer.slice(colon + 1, colon + 1 + length);
      this.buffer = this.buffer.slice(colon + 2 + length);
      const m = JSON.parse(body) as {
        response?: boolean;
        event?: boolean;
        ok?: boolean;
        data?: string;
        token?: string;
        class?: string;
        type?: string;
        param?: string;
      };
      if (m.response && m.token !== undefined)
        this.waiting.get(m.token)?.({ ok: !!m.ok, data: m.data ?? '' });
      else if (m.event && m.type) this.events.push({ class: m.class, type: m.type, param: m.param });
    }
  }

  /** One command of baresip's menu (`dial`, `sndcode`, `hangup`, `reginfo`, `quit`). */
  command(command: string, params = ''): Promise<{ ok: boolean; data: string }> {
    const token = `t${++this.tokens}`;
    const body = JSON.stringify({ command, params, token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`baresip: no answer to ${command}`)), 5000);
      this.waiting.set(token, (r) => {
        clearTimeout(timer);
        this.waiting.delete(token);
        resolve(r);
      });
      this.socket!.write(`${Buffer.byteLength(body)}:${body},`);
    });
  }

  /** Resolves once its account is registered (the first REGISTER may come before ctrl_tcp is up). */
  async registered(timeoutMs = 10_000): Promise<void> {
    await until(
      'baresip registered',
      // "OK" in green: colours stripped first ("\x1b[32mOK" has no word boundary before the O)
      async () => {
        const info = (await this.command('reginfo')).data.replace(/\x1b\[[0-9;]*m/g, '');
        return /\bOK\b/.test(info) ? true : null;
      },
      timeoutMs,
    );
  }

  /** The first event of `type` (after `from` events), waiting for it. */
  async event(type: string, timeoutMs: number, from = 0): Promise<BaresipEvent> {
    return until(
      `baresip ${type}`,
      async () => this.events.slice(from).find((e) => e.type === type) ?? null,
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null) return;
    const exited = new Promise((r) => child.once('exit', r));
    await this.command('quit').catch(() => undefined);
    this.socket?.destroy();
    await Promise.race([exited, sleep(2000)]);
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(2000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A port free for both TCP and UDP on 127.0.0.1, whose next one is free for TCP (baresip's TLS). */
async function freeTcpAndUdpPair(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const p = await freePort();
    if (p >= 65535) continue;
    const ok = await Promise.all([udpFree(p), tcpFree(p + 1)]);
    if (ok.every(Boolean)) return p;
  }
  throw new Error('no free port pair for baresip');
}

/**
 * Ten UDP ports free now, from 30010 to 31999: below the kernel's ephemeral range (sipp's and the
 * suites' ports) and above servers.sh's RTP blocks (10000 to 30000).
 */
async function freeRtpBlock(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const start = 30010 + 10 * Math.floor(Math.random() * 199);
    const free = await Promise.all(Array.from({ length: 10 }, (_, i) => udpFree(start + i)));
    if (free.every(Boolean)) return start;
  }
  throw new Error('no free block of UDP ports for baresip');
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

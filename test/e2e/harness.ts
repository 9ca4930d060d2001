/**
 * What every e2e suite shares: papgate's SIP service (startSipService) on a throwaway Redis,
 * connected to the drachtio-server and FreeSWITCH that test/e2e/run.sh started (or found), sipp as
 * the phones, and a FreeSWITCH event watcher. One Harness per suite file; only one papgate may be
 * connected to drachtio-server at a time (it would share the calls out between apps), and mocha
 * runs the files one after the other. The scale-out suite (scaleout.ts) runs papgate processes of
 * its own instead of the in-process service.
 *
 * Environment: E2E_DRACHTIO_HOST/PORT/SECRET (127.0.0.1, 9022, no default secret),
 * E2E_FREESWITCH_HOST/PORT/SECRET (127.0.0.1, 8021, no default secret; test/e2e/servers.sh draws
 * both secrets per run), E2E_SIP (drachtio's SIP address for sipp, 127.0.0.1:5060),
 * E2E_SERVERS_RUN (run folder of test/e2e/servers.sh when run.sh started the servers: the fault
 * tests stop and restart them through it), E2E_PAPGATE_LISTEN_PORT (the first of papgate's outbound
 * listeners FreeSWITCH connects back to, 8085). Only loopback targets are accepted.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config';
import { parseNewDevice, type Language, type SipAccount, type Vendor } from '../../src/domain/device';
import { parseMac, type Mac } from '../../src/domain/mac';
import { restrictedSipPassword } from '../../src/domain/pap';
import { connectRedis } from '../../src/store/connect';
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from '../../src/store/embedded';
import { SipStore } from '../../src/store/sip';
import { Store, type RedisClient } from '../../src/store/store';
import { createProvisioningServer } from '../../src/provisioning/server';
import { startSipService, type SipService } from '../../src/sip/service';
import { Metrics } from '../../src/lib/metrics';
import { silentLog } from '../support/redis';
import { dtmfPcap } from './dtmf-pcap';

const env = process.env;
export const DRACHTIO = {
  host: env.E2E_DRACHTIO_HOST ?? '127.0.0.1',
  port: Number(env.E2E_DRACHTIO_PORT ?? 9022),
  secret: env.E2E_DRACHTIO_SECRET ?? '',
};
export const FREESWITCH = {
  host: env.E2E_FREESWITCH_HOST ?? '127.0.0.1',
  port: Number(env.E2E_FREESWITCH_PORT ?? 8021),
  secret: env.E2E_FREESWITCH_SECRET ?? '',
};
export const SIP_TARGET = env.E2E_SIP ?? '127.0.0.1:5060';
/** The second drachtio-server and FreeSWITCH (test/e2e/servers.sh picks their ports, tests start them). */
export const DRACHTIO2 = { ...DRACHTIO, port: Number(env.E2E_DRACHTIO2_PORT ?? 0) };
export const SIP_TARGET2 = env.E2E_SIP2 ?? '';
export const FREESWITCH2 = { ...FREESWITCH, port: Number(env.E2E_FREESWITCH2_PORT ?? 0) };
/**
 * papgate's outbound listeners, the only targets FreeSWITCH connects back to (its PAPGATE_LISTENERS,
 * set by test/e2e/servers.sh): eight from this port. The in-process service takes the first (and,
 * with two FreeSWITCH, the second); each papgate process of a suite one of its own (listenPort).
 */
const LISTEN_PORT = Number(env.E2E_PAPGATE_LISTEN_PORT ?? 8085);
const LISTENERS = 8;
/** The n-th listener (0: the in-process service's). */
export function listenPort(n: number): number {
  assert.ok(n >= 0 && n < LISTENERS, `only ${LISTENERS} listeners are allowed in FreeSWITCH`);
  return LISTEN_PORT + n;
}
export const REPO = path.resolve(__dirname, '../../..');
const SCENARIOS = path.join(REPO, 'test/e2e/scenarios');
export const REALM = 'papgate-e2e';
export const TENANT = 'e2e';
/** The PBX's source address (trusted); phones call from 127.0.0.1. */
export const PBX_IP = '127.0.0.5';
/** where sipp's phones send from unless told otherwise */
export const PHONE_IP = '127.0.0.1';

export function isLoopback(host: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost';
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `count` UDP ports from `first` can be bound on `ip` now. */
async function udpFree(ip: string, first: number, count: number): Promise<boolean> {
  const socks: dgram.Socket[] = [];
  try {
    for (let p = first; p < first + count; p++) {
      const s = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
      socks.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(p, ip, () => resolve());
      });
    }
    return true;
  } catch {
    return false;
  } finally {
    for (const s of socks) s.close();
  }
}

/**
 * A port for a sipp's SIP socket (UDP): free for UDP too, and outside the media blocks handed to
 * sipps still running. A port free for TCP alone was once a registered phone's media port, and
 * the next sipp stopped with "Unable to bind main socket" (errno 98).
 */
export async function sipPort(ip = '127.0.0.1'): Promise<number> {
  for (;;) {
    const p = await freePort();
    if ([...mediaBlocks].some((b) => p >= b && p < b + MEDIA_BLOCK)) continue;
    if (await udpFree(ip, p, 1)) return p;
  }
}

/** First ports of the media blocks handed to sipp processes still running. */
const mediaBlocks = new Set<number>();
/** sipp binds four UDP ports from its -mp (audio and video, RTP and RTCP). */
const MEDIA_BLOCK = 4;

/**
 * An even -mp whose block is free on `ip` and not handed to another sipp still running: with many
 * phones registered (each holding its block) a port free for TCP alone is often taken.
 */
async function mediaPort(ip: string): Promise<number> {
  for (;;) {
    const p = await freePort();
    const base = p % 2 === 0 ? p : p + 1;
    if ([...mediaBlocks].some((b) => Math.abs(b - base) < MEDIA_BLOCK)) continue;
    if (!(await udpFree(ip, base, MEDIA_BLOCK))) continue;
    mediaBlocks.add(base);
    return base;
  }
}

export async function until<T>(
  what: string,
  fn: () => Promise<T | null | false>,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export interface SippResult {
  code: number | null;
  out: string;
}

export interface SippOptions {
  port: number;
  mac: string;
  password?: string;
  /** digest user name (default: `mac`) */
  authUser?: string;
  service?: string;
  uas?: boolean;
  timeoutS?: number;
  extra?: string[];
  onSpawn?: (c: ChildProcess) => void;
  /** source address of sipp's SIP and RTP (default 127.0.0.1) */
  localIp?: string;
  /** host:port to send to (default E2E_SIP) */
  target?: string;
}

export interface Phone {
  /** Resolves with papgate's log line once the check-sync NOTIFY was answered 200. */
  notified(timeoutMs: number): Promise<Record<string, unknown>>;
  /** The NOTIFYs the phone received so far, one per Call-ID (retransmissions are the same one). */
  notifies(): string[];
  stop(): void;
}

export interface E2eDevice {
  mac: Mac;
  pap: string;
  /** the device's secret (the store's sipPassword) */
  secret: string;
  /** the restricted password of a phone at PHONE_IP (see Harness.passwordFor) */
  password: string;
}

/** A FreeSWITCH prompt event: PLAYBACK_START / PLAYBACK_STOP with the file and how it ended. */
export interface Playback {
  readonly event: 'PLAYBACK_START' | 'PLAYBACK_STOP';
  readonly file: string;
  /** PLAYBACK_STOP: `done` (played to the end) or `break` (cut short, e.g. by a digit) */
  readonly status: string | undefined;
}

/**
 * The prompts FreeSWITCH plays, from its own events (an inbound event-socket connection of the
 * test's, beside papgate's): which files, and whether a digit cut them short.
 */
export class PlaybackWatch {
  readonly events: Playback[] = [];
  private constructor(private readonly sock: net.Socket) {}

  /** `server`: which FreeSWITCH to watch (the suites' own by default). */
  static connect(server: typeof FREESWITCH = FREESWITCH): Promise<PlaybackWatch> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: server.host, port: server.port });
      const watch = new PlaybackWatch(sock);
      let buf = Buffer.alloc(0);
      let subscribed = false;
      sock.once('error', reject);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = buf.indexOf('\n\n');
          if (end === -1) return;
          const head = Object.fromEntries(
            buf
              .subarray(0, end)
              .toString()
              .split('\n')
              .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
          );
          const len = Number(head['Content-Length'] ?? 0);
          if (buf.length < end + 2 + len) return;
          const body = buf.subarray(end + 2, end + 2 + len).toString();
          buf = buf.subarray(end + 2 + len);
          const type = head['Content-Type'];
          if (type === 'auth/request') sock.write(`auth ${server.secret}\n\n`);
          else if (type === 'command/reply' && !subscribed) {
            if (!/^\+OK/.test(head['Reply-Text'] ?? ''))
              return reject(new Error(`ESL: ${head['Reply-Text']}`));
            subscribed = true;
            sock.write('event json PLAYBACK_START PLAYBACK_STOP\n\n');
          } else if (type === 'command/reply') resolve(watch);
          else if (type === 'text/event-json') {
            const e = JSON.parse(body) as Record<string, string>;
            watch.events.push({
              event: e['Event-Name'] as Playback['event'],
              file: e['Playback-File-Path'] ?? '',
              status: e['Playback-Status'],
            });
          }
        }
      });
    });
  }

  /** Files whose playback started, in order. */
  started(): string[] {
    return this.events.filter((e) => e.event === 'PLAYBACK_START').map((e) => e.file);
  }

  stopped(file: string): Playback | undefined {
    return this.events.find((e) => e.event === 'PLAYBACK_STOP' && e.file === file);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** test/e2e/servers.sh on the servers run.sh started; null when they were found running. */
export function serversRun(): string | null {
  return env.E2E_SERVERS_RUN ?? null;
}

/** The servers run.sh starts; the second instances only when a scale-out test starts them. */
export type ServerName = 'drachtio' | 'drachtio2' | 'freeswitch' | 'freeswitch2';

/** `withoutSecret`: started as an operator who set no DRACHTIO_SECRET / FREESWITCH_SECRET would. */
export function servers(
  cmd: 'start' | 'stop',
  which: ServerName,
  o: { withoutSecret?: boolean } = {},
): Promise<void> {
  const run = serversRun();
  assert.ok(run, 'only servers started by test/e2e/run.sh can be stopped');
  const childEnv = { ...env, ...(o.withoutSecret ? { E2E_WITHHOLD_SECRET: '1' } : {}) };
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [path.join(REPO, 'test/e2e/servers.sh'), cmd, which, run],
      { env: childEnv },
      (err, _out, stderr) => (err ? reject(new Error(`servers.sh ${cmd} ${which}: ${stderr}`)) : resolve()),
    );
  });
}

/** PID of a server run.sh started. */
export function serverPid(which: ServerName): number {
  return Number(fs.readFileSync(path.join(serversRun()!, `${which}.pid`), 'utf8'));
}

/**
 * What an attacking phone adds to its INVITEs: identities, privacy, diversion, a location and a
 * preloaded route of its own. Every value names "attacker", which must never reach an emergency route.
 */
export const PHONE_CLAIMS = [
  'P-Asserted-Identity: "attacker" <sip:+15555550100@attacker.invalid>',
  'P-Preferred-Identity: <sip:+15555550101@attacker.invalid>',
  'Privacy: none;attacker',
  'Remote-Party-ID: "attacker" <sip:+15555550102@attacker.invalid>;party=calling;screen=yes;privacy=off',
  'Diversion: <sip:+15555550103@attacker.invalid>;reason=unconditional',
  'History-Info: <sip:+15555550104@attacker.invalid>;index=1',
  'Geolocation: <sip:location@attacker.invalid>',
  'Geolocation-Routing: no;attacker',
  // A preloaded route set as a phone with papgate as outbound proxy sends it: drachtio-server takes
  // off its own entry; a proxy would carry the rest on.
  `Route: <sip:${SIP_TARGET};lr>, <sip:attacker.invalid;lr>`,
  'User-Agent: attacker-phone',
];

/** Adds PHONE_CLAIMS and an "attacker" display name to the INVITEs of the phone scenario `file`. */
export function claimIdentity(file: string): void {
  const xml = fs.readFileSync(file, 'utf8');
  const claimed = xml
    .replace(/(CSeq: \d+ INVITE\n)(\s*)/g, (_m, cseq: string, indent: string) =>
      [cseq, ...PHONE_CLAIMS.map((c) => `${indent}${c}\n`), indent].join(''),
    )
    .replace(/From: <sip:/g, 'From: "attacker" <sip:');
  assert.ok(claimed.includes('User-Agent: attacker-phone'), `no INVITE in ${file}`);
  fs.writeFileSync(file, claimed);
}

/** One check of a sipp UAS on the message it receives (an `ereg` action); `absent`: must not match. */
export interface SippCheck {
  readonly regexp: string;
  /** where: the whole message, the body, or one header's value */
  readonly in: 'msg' | 'body' | { readonly header: string };
  readonly absent?: boolean;
}

const xmlAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A POSIX regexp finding a header line `name:` in any letter case (sipp's header search is not). */
export function headerLine(name: string): string {
  const caseless = [...name].map((c) => (/[a-z]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c));
  return `(^|[^-A-Za-z0-9])${caseless.join('')} *:`;
}

/** The header `name` is not in the message, in any spelling. */
export const absentHeader = (name: string): SippCheck => ({
  regexp: headerLine(name),
  in: 'msg',
  absent: true,
});

/** Nothing the phone chose reaches the route: no claim, no credential, no preloaded route. */
export const NOTHING_OF_THE_PHONE: readonly SippCheck[] = [
  { regexp: 'attacker', in: 'msg', absent: true },
  ...['Proxy-Authorization', 'Authorization', 'Route', 'P-Preferred-Identity', 'Privacy', 'Remote-Party-ID']
    .concat(['Diversion', 'History-Info'])
    .map(absentHeader),
  { regexp: 'Digest', in: 'msg', absent: true },
];

const escapeRe = (s: string) => s.replace(/[+.*?()[\]{}|^$\\]/g, '\\$&');

/**
 * The identity papgate chose: `number` as P-Asserted-Identity and From, or (null) no
 * P-Asserted-Identity and a From naming `user` (the device's MAC, or "anonymous").
 */
export function identityChecks(number: string | null, user = 'anonymous'): SippCheck[] {
  if (number === null)
    return [
      absentHeader('P-Asserted-Identity'),
      { regexp: `^ *"${escapeRe(user)}" *<sip:${escapeRe(user)}@`, in: { header: 'From:' } },
    ];
  const n = escapeRe(number);
  return [
    { regexp: `^ *<tel:${n}> *$`, in: { header: 'P-Asserted-Identity:' } },
    { regexp: `^ *"${n}" *<sip:${n}@`, in: { header: 'From:' } },
  ];
}

/** The checks as sipp `ereg` actions and the variable list they need (`,v0,v1...`). */
export function sippChecks(checks: readonly SippCheck[]): { actions: string; variables: string } {
  const actions = checks.map((c, i) => {
    const where =
      c.in === 'msg' || c.in === 'body' ? `search_in="${c.in}"` : `search_in="hdr" header="${c.in.header}"`;
    const check = c.absent ? 'check_it_inverse' : 'check_it';
    return `      <ereg regexp="${xmlAttr(c.regexp)}" ${where} ${check}="true" assign_to="v${i}"/>`;
  });
  return { actions: actions.join('\n'), variables: checks.map((_c, i) => `,v${i}`).join('') };
}

export class Harness {
  store!: Store;
  sipStore!: SipStore;
  svc: SipService | null = null;
  config!: Config;
  redisClient!: RedisClient;
  tmp = '';
  readonly logLines: Record<string, unknown>[] = [];
  /** The in-process service's metrics. */
  readonly metrics = new Metrics();
  readonly children = new Set<ChildProcess>();
  private redis: EmbeddedRedis | null = null;
  private redisDir = '';
  private redisPort = 0;

  /**
   * `extraEnv`: more papgate configuration (set before start). `sipService: false`: no papgate SIP
   * service in this process; the suite runs papgate processes of its own with sipEnv().
   */
  constructor(
    readonly extraEnv: Record<string, string> = {},
    readonly o: { sipService?: boolean } = {},
  ) {}

  private provisioning: { readonly port: number; app: FastifyInstance | null } | null = null;

  /**
   * A provisioning server on this suite's configuration and store, its port chosen now (the
   * PROVISIONING_BASE_URL its files name), listening from start() on: call before start().
   */
  async serveProvisioning(): Promise<number> {
    const port = await freePort();
    this.extraEnv.PROVISIONING_BASE_URL = `http://127.0.0.1:${port}`;
    this.provisioning = { port, app: null };
    return port;
  }

  /** The Redis of this suite, for papgate processes. */
  get redisUrl(): string {
    return this.redis!.url;
  }

  /** papgate's settings for these servers: the in-process service's, and those of papgate processes. */
  sipEnv(): Record<string, string> {
    return {
      DRACHTIO_HOST: DRACHTIO.host,
      DRACHTIO_PORT: String(DRACHTIO.port),
      DRACHTIO_SECRET: DRACHTIO.secret,
      FREESWITCH_HOST: FREESWITCH.host,
      FREESWITCH_PORT: String(FREESWITCH.port),
      FREESWITCH_SECRET: FREESWITCH.secret,
      FREESWITCH_LISTEN_ADDRESS: '127.0.0.1',
      FREESWITCH_LISTEN_PORT: String(listenPort(0)),
      SIP_REALM: REALM,
      SIP_REGISTRAR: SIP_TARGET,
      SIP_TRUSTED_PEERS: PBX_IP,
      PROMPTS_DIR: path.join(REPO, 'prompts'),
      IVR_FIRST_DIGIT_TIMEOUT_MS: '6000',
      IVR_INTER_DIGIT_TIMEOUT_MS: '2000',
      IVR_OVERALL_TIMEOUT_MS: '30000',
      LOCK_WATCH_INTERVAL_MS: '500',
      LOG_LEVEL: 'debug',
      // Every phone here calls from 127.0.0.0/24, and the suites read each call's outcome from its
      // log line: far more than a client's share of lines (TRAFFIC_PER_CLIENT, 20 a minute).
      TRAFFIC_PER_CLIENT: '1000',
      // These suites test what a call does, on whatever else the host runs (CI): a REGISTER shed
      // because the host was busy is not what they look at. Shedding itself is tested with its
      // readings given (test/sip-registrar.test.ts) and measured in bench:calls.
      SIP_OVERLOAD_BEHIND_MS: '2000',
      SIP_OVERLOAD_FAR_BEHIND_MS: '4000',
      ...this.extraEnv,
    };
  }

  /** Checks the servers, starts Redis and papgate's SIP service; skips the suite when unreachable. */
  async start(ctx: Mocha.Context): Promise<void> {
    for (const [what, h] of [
      ['drachtio', DRACHTIO.host],
      ['FreeSWITCH', FREESWITCH.host],
      ['SIP', SIP_TARGET.split(':')[0]!],
    ] as const) {
      if (!isLoopback(h)) throw new Error(`e2e: ${what} host ${h} is not a loopback address; refused`);
    }
    const missing: string[] = [];
    if (DRACHTIO.secret === '') missing.push('E2E_DRACHTIO_SECRET not set');
    if (FREESWITCH.secret === '') missing.push('E2E_FREESWITCH_SECRET not set');
    if (!(await reachable(DRACHTIO.host, DRACHTIO.port)))
      missing.push(`drachtio ${DRACHTIO.host}:${DRACHTIO.port} not reachable`);
    if (!(await reachable(FREESWITCH.host, FREESWITCH.port)))
      missing.push(`FreeSWITCH ${FREESWITCH.host}:${FREESWITCH.port} not reachable`);
    if (missing.length) {
      // Servers that run.sh started and that are gone now are a failure, not a reason to skip.
      if (serversRun()) throw new Error(`e2e: not usable: ${missing.join(', ')}`);
      console.log(`e2e: SKIPPED (not usable: ${missing.join(', ')})`);
      ctx.skip();
    }
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-e2e-'));
    // Kept on disk (append-only file), so that the outage test can stop and restart it with its data.
    this.redisDir = path.join(this.tmp, 'redis');
    this.redisPort = await freePort();
    await this.startRedis();
    this.redisClient = await connectRedis(this.redis!.url, silentLog);
    this.config = loadConfig(this.sipEnv());
    this.store = new Store(this.redisClient, {
      auth: {
        maxConsecutiveFailures: 3,
        failedLockSeconds: 8,
        maxTotalFailures: 9,
        suspendSeconds: 60,
        tempWhitelistSeconds: 60,
        // PAP_LIFETIME_DAYS of extraEnv
        papLifetimeSeconds: this.config.auth.papLifetimeSeconds,
      },
      eventsMaxLen: 10000,
    });
    this.sipStore = new SipStore(this.redisClient, { nonceSeconds: 60 });
    await this.store.putTenant(TENANT, { name: 'E2E', language: 'en' }, 'e2e');
    if (this.provisioning !== null) {
      this.provisioning.app = createProvisioningServer({
        config: this.config,
        store: this.store,
        log: silentLog,
      });
      await this.provisioning.app.listen({ host: '127.0.0.1', port: this.provisioning.port });
    }
    if (this.o.sipService === false) return;
    const logFile = fs.createWriteStream(path.join(this.tmp, 'papgate.log'));
    const lines = this.logLines;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logFile.write(chunk);
        for (const line of chunk.toString().split('\n')) {
          if (line.trim()) {
            try {
              lines.push(JSON.parse(line) as Record<string, unknown>);
            } catch {
              // partial line
            }
          }
        }
        cb();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    this.svc = await startSipService({
      config: this.config,
      store: this.store,
      redis: this.redisClient,
      log,
      metrics: this.metrics,
    });
    await this.svc.ready(30000);
    console.log(`      (papgate log: ${path.join(this.tmp, 'papgate.log')})`);
  }

  async stop(): Promise<void> {
    await this.provisioning?.app?.close();
    for (const c of this.children) c.kill('SIGTERM');
    if (this.svc) await this.svc.stop();
    if (this.redis) {
      await this.redisClient.close().catch(() => undefined);
      await this.redis.stop();
    }
  }

  async startRedis(): Promise<void> {
    this.redis = await startEmbeddedRedis({
      bin: 'redis-server',
      dir: this.redisDir,
      persistent: true,
      port: this.redisPort,
    });
  }

  async stopRedis(): Promise<void> {
    await this.redis!.stop();
    this.redis = null;
  }

  async device(
    key: string,
    o: { vendor?: Vendor; model?: string; language?: Language; accounts?: SipAccount[]; site?: string } = {},
  ): Promise<E2eDevice> {
    const res = await this.store.createDevices(
      TENANT,
      [
        parseNewDevice({
          mac: key,
          vendor: o.vendor ?? 'yealink',
          model: o.model ?? 'T54W',
          site: o.site ?? 'lab',
          ...(o.language ? { language: o.language } : {}),
          ...(o.accounts ? { accounts: o.accounts } : {}),
        }),
      ],
      'e2e',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok, JSON.stringify(res));
    const d = (await this.store.getDevice(TENANT, parseMac(key)))!;
    return {
      mac: d.mac,
      pap: res.devices[0]!.pap,
      secret: d.sipPassword,
      password: this.passwordFor(d.sipPassword, PHONE_IP),
    };
  }

  /** The restricted password a minimal configuration fetched from `ip` carries, as papgate derives it. */
  passwordFor(device: string | Pick<E2eDevice, 'secret'>, ip: string): string {
    const secret = typeof device === 'string' ? device : device.secret;
    return restrictedSipPassword(secret, ip, this.config.sip.bindToProvisioningIp);
  }

  /** Runs sipp (UDP, loopback only); resolves with its exit code and what it printed. */
  async sipp(scenario: string, o: SippOptions): Promise<SippResult> {
    const target = o.target ?? SIP_TARGET;
    assert.ok(isLoopback(target.split(':')[0]!), 'sipp targets loopback only');
    const mp = await mediaPort(o.localIp ?? PHONE_IP);
    return new Promise<SippResult>((resolve) => {
      const args = [
        ...(o.uas ? [] : [target]),
        '-sf',
        scenario,
        '-m',
        '1',
        '-i',
        o.localIp ?? PHONE_IP,
        '-p',
        String(o.port),
        '-mi',
        o.localIp ?? PHONE_IP,
        '-mp',
        String(mp),
        '-key',
        'mac',
        o.mac,
        '-s',
        o.service ?? '*89',
        '-au',
        o.authUser ?? o.mac,
        '-ap',
        o.password ?? 'x',
        '-timeout',
        `${o.timeoutS ?? 60}s`,
        '-timeout_error',
        '-trace_err',
        '-nostdin',
        ...(env.E2E_TRACE ? ['-trace_msg'] : []),
        ...(o.extra ?? []),
      ];
      const p = spawn('sipp', args, { cwd: this.tmp, stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.add(p);
      o.onSpawn?.(p);
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
      p.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
      p.on('close', (code) => {
        this.children.delete(p);
        mediaBlocks.delete(mp);
        let errors = '';
        for (const f of fs.readdirSync(this.tmp).filter((n) => n.endsWith('_errors.log'))) {
          errors += fs.readFileSync(path.join(this.tmp, f), 'utf8').slice(-3000);
          fs.rmSync(path.join(this.tmp, f));
        }
        resolve({ code, out: `${out}\n${errors}` });
      });
    });
  }

  scenario(name: string): string {
    return path.join(SCENARIOS, name);
  }

  /**
   * A sipp UAS standing for an emergency route on `port` (uas_route.tmpl.xml): answers, waits for
   * the BYE, and fails unless the INVITE passes `checks`. Resolves once sipp ended.
   */
  async emergencyRoute(
    port: number,
    mac: string,
    checks: readonly SippCheck[],
    /** `sdes`: the route answers SRTP keyed in its SDP, as one must for phones given TLS. */
    media: 'rtp' | 'sdes' = 'rtp',
  ): Promise<SippResult> {
    const { actions, variables } = sippChecks(checks);
    let xml = fs
      .readFileSync(this.scenario('uas_route.tmpl.xml'), 'utf8')
      .split('__CHECKS__')
      .join(actions)
      .split('__VARIABLES__')
      .join(variables);
    if (media === 'sdes')
      xml = xml.replace(
        'm=audio [media_port] RTP/AVP 0',
        `m=audio [media_port] RTP/SAVP 0\n      a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${randomBytes(30).toString('base64')}`,
      );
    const file = path.join(this.tmp, `uas-route-${port}-${Date.now()}.xml`);
    fs.writeFileSync(file, xml);
    return this.sipp(file, { port, mac, uas: true, timeoutS: 40 });
  }

  /**
   * Writes a UAC scenario: a call template (a phone's by default) followed by the bodies, in order
   * (`play`: RFC 2833 digits from a pcap; `wait_bye`: wait for papgate's BYE; `hangup`: our BYE).
   */
  uacScenario(
    name: string,
    bodies: ('play' | 'wait_bye' | 'hangup')[],
    fill: Record<string, string> = {},
    template = 'uac_call.tmpl.xml',
  ): string {
    const b = bodies
      .map((body) => fs.readFileSync(path.join(SCENARIOS, `body_${body}.xml`), 'utf8'))
      .join('');
    let xml = fs.readFileSync(path.join(SCENARIOS, template), 'utf8').replace('__BODY__', b);
    // a PBX call names no phone address unless the test says so
    const all = { DEVICE_ADDRESS: 'X-Papgate-Test: no address', ...fill };
    for (const [k, v] of Object.entries(all)) xml = xml.split(`__${k}__`).join(v);
    const file = path.join(this.tmp, `${name}.xml`);
    fs.writeFileSync(file, xml);
    return file;
  }

  /** A pcap of RFC 2833 digits (a space: a pause of `pauseMs`). */
  pcap(name: string, digits: string, pauseMs = 1500): string {
    const file = path.join(this.tmp, `${name}.pcap`);
    fs.writeFileSync(file, dtmfPcap(digits, { pauseMs }));
    return file;
  }

  /**
   * A phone's *89 call with digest, entering `digits` 1.5 s after the answer (during the first
   * prompt), then waiting for papgate's BYE.
   */
  async dial(
    name: string,
    who: { mac: string; password: string; authUser?: string; target?: string; localIp?: string },
    digits: string,
    o: { pauseMs?: number; waitMs?: number } = {},
  ): Promise<SippResult> {
    return this.sipp(
      this.uacScenario(name, ['play', 'wait_bye'], {
        PCAP: this.pcap(name, digits, o.pauseMs),
        WAIT: String(o.waitMs ?? 25000),
      }),
      { port: await sipPort(who.localIp), ...who },
    );
  }

  outcomes(mac: Mac): string[] {
    return this.logLines
      .filter((l) => l.msg === 'ivr: call finished' && l.mac === mac)
      .map((l) => String(l.outcome));
  }

  /** The IVR outcomes of a device once `n` calls have finished (the log line follows the teardown). */
  outcomesAfter(mac: Mac, n: number): Promise<string[]> {
    return until(
      `${n} finished IVR call(s) of ${mac}`,
      async () => (this.outcomes(mac).length >= n ? this.outcomes(mac) : null),
      10000,
    ).catch(() => this.outcomes(mac));
  }

  /** Waits for a log line of papgate's (from the `from`-th line on). */
  logged(what: string, match: (l: Record<string, unknown>) => boolean, timeoutMs = 10000, from = 0) {
    return until(what, async () => this.logLines.slice(from).find(match) ?? null, timeoutMs);
  }

  /** No IVR session and no FreeSWITCH channel left. */
  async idle(): Promise<void> {
    await until('IVR sessions to end', async () => this.svc!.activeCalls() === 0, 5000);
    await until(
      'FreeSWITCH channels to be released',
      async () => (await this.svc!.mediaChannels()) === 0,
      8000,
    );
  }

  /** The PAP attempts the store counted for a device (its counters and its audit events). */
  async attempts(mac: Mac): Promise<{ consecutive: number; total: number; events: number }> {
    const d = (await this.store.getDevice(TENANT, mac))!;
    const events = (await this.store.events(TENANT, 1000)).filter(
      (e) => e.type === 'attempt' && e.mac === mac,
    );
    return { consecutive: d.consecutiveFailures, total: d.totalFailures, events: events.length };
  }

  /**
   * A phone: registers with digest and stays at its contact; check-sync NOTIFYs are answered 200
   * by the out-of-call scenario only when the Event header is a re-sync event. Resolves once this
   * REGISTER (its own contact port) is stored.
   */
  async register(
    mac: string,
    password: string,
    o: { authUser?: string; target?: string; localIp?: string } = {},
  ): Promise<Phone> {
    const port = await sipPort(o.localIp);
    let child: ChildProcess | null = null;
    const messages = path.join(this.tmp, `phone-${mac}-${port}-messages.log`);
    const done = this.sipp(this.scenario('register_wait_notify.xml'), {
      port,
      mac,
      password,
      timeoutS: 150,
      extra: ['-oocsf', this.scenario('notify_ooc.xml'), '-trace_msg', '-message_file', messages],
      onSpawn: (c) => (child = c),
      ...o,
    });
    const registered = until(
      `registration of ${mac}`,
      async () => {
        const bindings = await this.sipStore.registrations(TENANT, parseMac(mac));
        return bindings.some((b) => b.port === port);
      },
      10000,
    );
    const failedEarly = done.then((r) => {
      throw new Error(`REGISTER failed: ${r.out}`);
    });
    failedEarly.catch(() => undefined);
    await Promise.race([registered, failedEarly]);
    const since = this.logLines.length;
    return {
      notified: (timeoutMs) =>
        this.logged(
          `check-sync NOTIFY answered 200 by ${mac}`,
          (l) => l.msg === 'check-sync sent' && l.mac === mac && l.status === 200,
          timeoutMs,
          since,
        ),
      notifies: () => {
        const log = fs.existsSync(messages) ? fs.readFileSync(messages, 'utf8') : '';
        const ids = log
          .split(/^-{20,}.*$/m)
          .filter((m) => /message received/.test(m) && /^NOTIFY /m.test(m))
          .map((m) => /^Call-ID:\s*(\S+)/im.exec(m)?.[1] ?? '');
        return [...new Set(ids)];
      },
      stop: () => (child as ChildProcess | null)?.kill('SIGTERM'),
    };
  }
}

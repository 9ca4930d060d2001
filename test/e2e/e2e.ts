/**
 * End-to-end suite: papgate's SIP service (startSipService) against a real drachtio-server and
 * FreeSWITCH, driven by sipp. Not part of the unit test glob (file name without `.test`); run it
 * with `bash test/e2e/run.sh`, which checks the servers first and prints `e2e: SKIPPED (reason)`
 * when they are not reachable.
 *
 * Environment: E2E_DRACHTIO_HOST/PORT/SECRET (127.0.0.1, 9022, cymru), E2E_FREESWITCH_HOST/PORT/SECRET
 * (127.0.0.1, 8021, ClueCon), E2E_SIP (drachtio's SIP address for sipp, 127.0.0.1:5060).
 * Only loopback targets are accepted.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { parseNewDevice } from '../../src/domain/device';
import { parseMac, type Mac } from '../../src/domain/mac';
import { freePort } from '../../src/store/embedded';
import { SipStore } from '../../src/store/sip';
import type { Store } from '../../src/store/store';
import { startSipService, type SipService } from '../../src/sip/service';
import { TestRedis } from '../support/redis';
import { dtmfPcap } from './dtmf-pcap';

const env = process.env;
const DRACHTIO = {
  host: env.E2E_DRACHTIO_HOST ?? '127.0.0.1',
  port: Number(env.E2E_DRACHTIO_PORT ?? 9022),
  secret: env.E2E_DRACHTIO_SECRET ?? 'cymru',
};
const FREESWITCH = {
  host: env.E2E_FREESWITCH_HOST ?? '127.0.0.1',
  port: Number(env.E2E_FREESWITCH_PORT ?? 8021),
  secret: env.E2E_FREESWITCH_SECRET ?? 'ClueCon',
};
const SIP_TARGET = env.E2E_SIP ?? '127.0.0.1:5060';
const REPO = path.resolve(__dirname, '../../..');
const SCENARIOS = path.join(REPO, 'test/e2e/scenarios');
const REALM = 'papgate-e2e';
/** The PBX's source address (trusted); phones call from 127.0.0.1. */
const PBX_IP = '127.0.0.5';

function isLoopback(host: string): boolean {
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface SippResult {
  code: number | null;
  out: string;
}

describe('e2e: papgate SIP service with drachtio-server, FreeSWITCH and sipp', function () {
  this.timeout(120000);
  const redis = new TestRedis();
  let store: Store;
  let sipStore: SipStore;
  let svc: SipService | null = null;
  let tmp = '';
  const logLines: Record<string, unknown>[] = [];
  const devices: Record<string, { mac: Mac; pap: string; password: string }> = {};
  let emergencyPort = 0;

  /** Runs sipp (UDP, loopback only); resolves with its exit code and what it printed. */
  const children = new Set<ChildProcess>();

  function sipp(
    scenario: string,
    o: {
      port: number;
      mac: Mac;
      password?: string;
      service?: string;
      uas?: boolean;
      timeoutS?: number;
      extra?: string[];
      onSpawn?: (c: ChildProcess) => void;
      /** source address of sipp's SIP and RTP (default 127.0.0.1) */
      localIp?: string;
    },
  ): Promise<SippResult> {
    const [host] = SIP_TARGET.split(':');
    assert.ok(isLoopback(host!), 'sipp targets loopback only');
    return freePort().then(
      (mp) =>
        new Promise<SippResult>((resolve) => {
          const args = [
            ...(o.uas ? [] : [SIP_TARGET]),
            '-sf',
            scenario,
            '-m',
            '1',
            '-i',
            o.localIp ?? '127.0.0.1',
            '-p',
            String(o.port),
            '-mi',
            o.localIp ?? '127.0.0.1',
            '-mp',
            String(mp % 2 === 0 ? mp : mp + 1),
            '-key',
            'mac',
            o.mac,
            '-s',
            o.service ?? '*89',
            '-au',
            o.mac,
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
          const p = spawn('sipp', args, { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
          children.add(p);
          o.onSpawn?.(p);
          let out = '';
          p.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
          p.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
          p.on('close', (code) => {
            children.delete(p);
            let errors = '';
            for (const f of fs.readdirSync(tmp).filter((n) => n.endsWith('_errors.log'))) {
              errors += fs.readFileSync(path.join(tmp, f), 'utf8').slice(-3000);
              fs.rmSync(path.join(tmp, f));
            }
            resolve({ code, out: `${out}\n${errors}` });
          });
        }),
    );
  }

  /** Writes a UAC scenario: a call template (a phone's by default) with one of the bodies. */
  function uacScenario(
    name: string,
    body: 'dtmf' | 'wait_bye' | 'hangup',
    fill: Record<string, string> = {},
    template = 'uac_call.tmpl.xml',
  ): string {
    let xml = fs.readFileSync(path.join(SCENARIOS, template), 'utf8');
    let b = fs.readFileSync(path.join(SCENARIOS, `body_${body}.xml`), 'utf8');
    for (const [k, v] of Object.entries(fill)) b = b.split(`__${k}__`).join(v);
    xml = xml.replace('__BODY__', b);
    const file = path.join(tmp, `${name}.xml`);
    fs.writeFileSync(file, xml);
    return file;
  }

  function pcap(name: string, digits: string, pauseMs = 1500): string {
    const file = path.join(tmp, `${name}.pcap`);
    fs.writeFileSync(file, dtmfPcap(digits, { pauseMs }));
    return file;
  }

  function outcomes(mac: Mac): string[] {
    return logLines
      .filter((l) => l.msg === 'ivr: call finished' && l.mac === mac)
      .map((l) => String(l.outcome));
  }

  /** The IVR outcomes of a device once `n` calls have finished (the log line follows the teardown). */
  function outcomesAfter(mac: Mac, n: number): Promise<string[]> {
    return until(
      `${n} finished IVR call(s) of ${mac}`,
      async () => (outcomes(mac).length >= n ? outcomes(mac) : null),
      10000,
    ).catch(() => outcomes(mac));
  }

  before(async function () {
    for (const [what, h] of [
      ['drachtio', DRACHTIO.host],
      ['FreeSWITCH', FREESWITCH.host],
      ['SIP', SIP_TARGET.split(':')[0]!],
    ] as const) {
      if (!isLoopback(h)) throw new Error(`e2e: ${what} host ${h} is not a loopback address; refused`);
    }
    const missing: string[] = [];
    if (!(await reachable(DRACHTIO.host, DRACHTIO.port)))
      missing.push(`drachtio ${DRACHTIO.host}:${DRACHTIO.port}`);
    if (!(await reachable(FREESWITCH.host, FREESWITCH.port)))
      missing.push(`FreeSWITCH ${FREESWITCH.host}:${FREESWITCH.port}`);
    if (missing.length) {
      console.log(`e2e: SKIPPED (not reachable: ${missing.join(', ')})`);
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-e2e-'));
    await redis.start();
    store = redis.store({
      maxConsecutiveFailures: 3,
      failedLockSeconds: 8,
      maxTotalFailures: 9,
      suspendSeconds: 60,
      tempWhitelistSeconds: 60,
    });
    sipStore = new SipStore(redis.client, { nonceSeconds: 60 });
    await store.putTenant('e2e', { name: 'E2E', language: 'en' }, 'e2e');
    const macs = {
      ok: '001565e2e001',
      wrong: '000413e2e002',
      hangup: '001565e2e003',
      emergency: '001565e2e004',
      pbx: '001565e2e005',
    };
    for (const [k, mac] of Object.entries(macs)) {
      const res = await store.createDevices(
        'e2e',
        [parseNewDevice({ mac, vendor: k === 'wrong' ? 'snom' : 'yealink', model: 'T54W', site: 'lab' })],
        'e2e',
      );
      assert.ok(res !== 'unknown_tenant' && res.ok);
      const d = (await store.getDevice('e2e', parseMac(mac)))!;
      devices[k] = { mac: d.mac, pap: res.devices[0]!.pap, password: d.sipPassword };
    }
    emergencyPort = await freePort();
    const config = loadConfig({
      DRACHTIO_HOST: DRACHTIO.host,
      DRACHTIO_PORT: String(DRACHTIO.port),
      DRACHTIO_SECRET: DRACHTIO.secret,
      FREESWITCH_HOST: FREESWITCH.host,
      FREESWITCH_PORT: String(FREESWITCH.port),
      FREESWITCH_SECRET: FREESWITCH.secret,
      FREESWITCH_LISTEN_ADDRESS: '127.0.0.1',
      SIP_REALM: REALM,
      EMERGENCY_ROUTE: `sip:127.0.0.1:${emergencyPort}`,
      SIP_TRUSTED_PEERS: PBX_IP,
      PROMPTS_DIR: path.join(REPO, 'prompts'),
      IVR_FIRST_DIGIT_TIMEOUT_MS: '6000',
      IVR_INTER_DIGIT_TIMEOUT_MS: '2000',
      IVR_OVERALL_TIMEOUT_MS: '30000',
      LOCK_WATCH_INTERVAL_MS: '500',
      LOG_LEVEL: 'debug',
    });
    const logFile = fs.createWriteStream(path.join(tmp, 'papgate.log'));
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logFile.write(chunk);
        for (const line of chunk.toString().split('\n')) {
          if (line.trim()) {
            try {
              logLines.push(JSON.parse(line) as Record<string, unknown>);
            } catch {
              // partial line
            }
          }
        }
        cb();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    svc = await startSipService({ config, store, redis: redis.client, log });
    await svc.ready(30000);
    console.log(`      (papgate log: ${path.join(tmp, 'papgate.log')})`);
  });

  after(async () => {
    for (const c of children) c.kill('SIGTERM');
    if (svc) await svc.stop();
    if (tmp) await redis.stop().catch(() => undefined);
  });

  /**
   * A phone: registers with digest and stays at its contact; check-sync NOTIFYs are answered 200
   * by the out-of-call scenario only when the Event header is a re-sync event.
   */
  async function register(
    mac: Mac,
    password: string,
  ): Promise<{ notified: (timeoutMs: number) => Promise<unknown>; stop: () => void }> {
    const port = await freePort();
    let child: ChildProcess | null = null;
    const done = sipp(path.join(SCENARIOS, 'register_wait_notify.xml'), {
      port,
      mac,
      password,
      timeoutS: 150,
      extra: ['-oocsf', path.join(SCENARIOS, 'notify_ooc.xml')],
      onSpawn: (c) => (child = c),
    });
    const registered = until(`registration of ${mac}`, () => sipStore.registration('e2e', mac), 10000);
    const failedEarly = done.then((r) => {
      throw new Error(`REGISTER failed: ${r.out}`);
    });
    failedEarly.catch(() => undefined);
    await Promise.race([registered, failedEarly]);
    return {
      notified: (timeoutMs) =>
        until(
          `check-sync NOTIFY answered 200 by ${mac}`,
          async () =>
            logLines.find((l) => l.msg === 'check-sync sent' && l.mac === mac && l.status === 200) ?? null,
          timeoutMs,
        ),
      stop: () => (child as ChildProcess | null)?.kill('SIGTERM'),
    };
  }

  it('REGISTER with digest, right PAP by RFC 2833 -> successful, check-sync NOTIFY at the registered contact', async () => {
    const d = devices.ok!;
    const reg = await register(d.mac, d.password);
    const call = await sipp(
      uacScenario('right', 'dtmf', { PCAP: pcap('right', `${d.pap}#`), WAIT: '25000' }),
      {
        port: await freePort(),
        mac: d.mac,
        password: d.password,
      },
    );
    assert.equal(call.code, 0, call.out);
    assert.equal((await store.getDevice('e2e', d.mac))!.state, 'successful');
    assert.deepEqual(await outcomesAfter(d.mac, 1), ['successful']);
    const notify = (await reg.notified(15000)) as { event: string };
    assert.equal(notify.event, 'check-sync;reboot=false', 'yealink event');
    reg.stop();
  });

  it('three wrong PAPs -> failed; the next call hears "not possible"; lock expiry sends check-sync', async () => {
    const d = devices.wrong!;
    const reg = await register(d.mac, d.password);
    const wrong = d.pap === '000000' ? '111111' : '000000';
    const call = await sipp(
      uacScenario('wrong', 'dtmf', {
        PCAP: pcap('wrong', `${wrong}# ${wrong}# ${wrong}#`, 2500),
        WAIT: '30000',
      }),
      {
        port: await freePort(),
        mac: d.mac,
        password: d.password,
      },
    );
    assert.equal(call.code, 0, call.out);
    assert.equal((await store.getDevice('e2e', d.mac))!.state, 'failed');
    const next = await sipp(uacScenario('locked', 'wait_bye', { WAIT: '20000' }), {
      port: await freePort(),
      mac: d.mac,
      password: d.password,
    });
    assert.equal(next.code, 0, next.out);
    assert.deepEqual(await outcomesAfter(d.mac, 2), ['failed', 'not_possible']);
    // the lock (8 s) runs out; the watcher settles it and sends the snom phone check-sync
    await reg.notified(30000);
    reg.stop();
    assert.equal((await store.getDevice('e2e', d.mac))!.state, 'needed');
  });

  it('a PBX on SIP_TRUSTED_PEERS hands over a *89 call naming the device -> IVR, right PAP -> successful', async () => {
    const d = devices.pbx!;
    const call = await sipp(
      uacScenario('pbx', 'dtmf', { PCAP: pcap('pbx', `${d.pap}#`), WAIT: '25000' }, 'uac_pbx.tmpl.xml'),
      { port: await freePort(), mac: d.mac, localIp: PBX_IP },
    );
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await outcomesAfter(d.mac, 1), ['successful']);
    assert.equal((await store.getDevice('e2e', d.mac))!.state, 'successful');
  });

  it('a trusted PBX may only send *89; the device header from anyone else is not believed', async () => {
    const d = devices.hangup!;
    const refused = (name: string, code: string, o: { service: string; localIp: string }) => {
      const file = path.join(tmp, `${name}.xml`);
      fs.writeFileSync(
        file,
        fs.readFileSync(path.join(SCENARIOS, 'uac_refused.tmpl.xml'), 'utf8').split('__CODE__').join(code),
      );
      return freePort().then((port) => sipp(file, { port, mac: d.mac, ...o }));
    };
    const other = await refused('pbx-other', '403', { service: '100', localIp: PBX_IP });
    assert.equal(other.code, 0, other.out);
    const untrusted = await refused('untrusted', '407', { service: '*89', localIp: '127.0.0.1' });
    assert.equal(untrusted.code, 0, `an untrusted sender is challenged like any phone: ${untrusted.out}`);
    assert.deepEqual(outcomes(d.mac), [], 'no IVR session');
  });

  it('emergency number -> proxied straight to the emergency route (no IVR)', async () => {
    const d = devices.emergency!;
    const uas = sipp(path.join(SCENARIOS, 'uas_answer.xml'), {
      port: emergencyPort,
      mac: d.mac,
      uas: true,
      timeoutS: 40,
    });
    await sleep(500);
    const call = await sipp(uacScenario('emergency', 'hangup', { PAUSE: '1000' }), {
      port: await freePort(),
      mac: d.mac,
      password: d.password,
      service: '112',
    });
    assert.equal(call.code, 0, call.out);
    const answered = await uas;
    assert.equal(answered.code, 0, answered.out);
    assert.deepEqual(outcomes(d.mac), [], 'no IVR session');
    assert.equal((await store.getDevice('e2e', d.mac))!.state, 'needed');
  });

  it('caller hangs up mid-IVR -> no session object left, FreeSWITCH channel count back to 0', async () => {
    const d = devices.hangup!;
    const call = await sipp(uacScenario('hangup', 'hangup', { PAUSE: '2000' }), {
      port: await freePort(),
      mac: d.mac,
      password: d.password,
    });
    assert.equal(call.code, 0, call.out);
    await until('IVR sessions to end', async () => svc!.activeCalls() === 0, 5000);
    await until('FreeSWITCH channels to be released', async () => (await svc!.mediaChannels()) === 0, 8000);
    assert.deepEqual(await outcomesAfter(d.mac, 1), ['caller_hangup']);
    assert.equal((await store.getDevice('e2e', d.mac))!.state, 'needed');
  });
});

/**
 * Several FreeSWITCH servers (FREESWITCH_HOSTS): papgate connected to the suite's FreeSWITCH and a
 * second one spreads IVR calls across both; one killed (SIGKILL), the calls go on on the other;
 * restarted, it takes calls again. Which server served a call is read twice: from papgate's log
 * (the `media` of its "call finished" line) and from each FreeSWITCH's own playback events.
 * Needs the servers test/e2e/run.sh started (E2E_SERVERS_RUN): it starts and kills the second one.
 */
import assert from 'node:assert/strict';
import { Metrics } from '../../src/lib/metrics';
import { Health } from '../../src/http/observability';
import {
  FREESWITCH,
  FREESWITCH2,
  Harness,
  PlaybackWatch,
  serverPid,
  servers,
  serversRun,
  until,
  type E2eDevice,
} from './harness';

const FS1 = `${FREESWITCH.host}:${FREESWITCH.port}`;
const FS2 = `${FREESWITCH2.host}:${FREESWITCH2.port}`;
/** Each successful call plays two prompts: enter_pap (cut short by the digits) and success. */
const PROMPTS_PER_CALL = 2;

describe('e2e: several FreeSWITCH servers (FREESWITCH_HOSTS)', function () {
  this.timeout(120000);
  const h = new Harness({ FREESWITCH_HOST: '', FREESWITCH_HOSTS: `${FS1},${FS2}` });
  const watches: PlaybackWatch[] = [];
  let started2 = false;
  let n = 0;

  before(async function () {
    if (!serversRun()) this.skip();
    await servers('start', 'freeswitch2');
    started2 = true;
    await h.start(this);
    await until(
      'papgate to connect to both FreeSWITCH',
      async () => h.svc!.mediaServers().every((s) => s.connected),
      20000,
    );
  });

  after(async () => {
    for (const w of watches) w.close();
    await h.stop();
    if (started2) await servers('stop', 'freeswitch2');
  });

  const watch = async (server: typeof FREESWITCH) => {
    const w = await PlaybackWatch.connect(server);
    watches.push(w);
    return w;
  };

  /** `count` phones calling at once, each entering its right PAP; resolves with the server of each call. */
  async function callsAtOnce(count: number): Promise<string[]> {
    const devices: E2eDevice[] = [];
    for (let k = 0; k < count; k++) devices.push(await h.device(`001565e2fc${String(++n).padStart(2, '0')}`));
    const calls = await Promise.all(devices.map((d, k) => h.dial(`pool-${n}-${k}`, d, `${d.pap}#`)));
    calls.forEach((c) => assert.equal(c.code, 0, c.out));
    const served: string[] = [];
    for (const d of devices) {
      assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful'], 'the PAP was accepted');
      const line = h.logLines.find((l) => l.msg === 'ivr: call finished' && l.mac === d.mac)!;
      served.push(String(line.media));
    }
    return served;
  }

  /** Waits until the FreeSWITCH has reported the prompts of `calls` calls; fails on more. */
  async function sawCalls(w: PlaybackWatch, calls: number, which: string): Promise<void> {
    await until(
      `${which} to play the prompts of ${calls} calls`,
      async () => w.started().length >= calls * PROMPTS_PER_CALL,
      10000,
    );
    assert.equal(w.started().length, calls * PROMPTS_PER_CALL, `${which}: ${w.started().join(', ')}`);
  }

  it('spreads calls across both: two calls at once take one server each, twice', async () => {
    const [w1, w2] = [await watch(FREESWITCH), await watch(FREESWITCH2)];
    const first = await callsAtOnce(2);
    assert.deepEqual([...first].sort(), [FS1, FS2].sort(), 'one call on each');
    const second = await callsAtOnce(2);
    assert.deepEqual([...second].sort(), [FS1, FS2].sort(), 'one call on each');
    // FreeSWITCH's own account: each played the prompts of two calls
    await sawCalls(w1, 2, FS1);
    await sawCalls(w2, 2, FS2);
    await h.idle();
  });

  it('one FreeSWITCH killed (SIGKILL): readiness says 1/2, and every next call completes on the other', async () => {
    const health = new Health(h.store, true);
    health.watchSip(h.svc!);
    const metrics = new Metrics();
    metrics.watchSip(h.svc!);
    assert.deepEqual(await health.ready(), {
      ready: true,
      checks: { redis: 'ok', freeswitch: '2/2 connected', drachtio: 'ok' },
    });
    const since = h.logLines.length;
    for (const w of watches.splice(0)) w.close();
    process.kill(serverPid('freeswitch2'), 'SIGKILL');
    await h.logged(
      'papgate to notice the lost FreeSWITCH',
      (l) =>
        l.msg === 'FreeSWITCH connection lost; new IVR calls go to the other FreeSWITCH until it is back' &&
        l.server === FS2,
      10000,
      since,
    );
    assert.deepEqual(await health.ready(), {
      ready: true,
      checks: { redis: 'ok', freeswitch: '1/2 connected', drachtio: 'ok' },
    });
    const exposed = (await metrics.expose()).body;
    const gauge = (server: string, v: number) =>
      new RegExp(`^papgate_media_server_connected\\{server="${server.replace(/\./g, '\\.')}"\\} ${v}$`, 'm');
    assert.match(exposed, gauge(FS2, 0));
    assert.match(exposed, gauge(FS1, 1));

    const w1 = await watch(FREESWITCH);
    const served = [...(await callsAtOnce(2)), ...(await callsAtOnce(2))];
    assert.deepEqual(served, [FS1, FS1, FS1, FS1]);
    await sawCalls(w1, 4, FS1);
    await h.idle();
  });

  it('the killed FreeSWITCH restarted: papgate reconnects and it takes calls again', async () => {
    const since = h.logLines.length;
    await servers('start', 'freeswitch2');
    await h.logged(
      'papgate to reconnect to the second FreeSWITCH',
      (l) => l.msg === 'FreeSWITCH connection restored' && l.port === FREESWITCH2.port,
      20000,
      since,
    );
    const [w1, w2] = [await watch(FREESWITCH), await watch(FREESWITCH2)];
    const served = await callsAtOnce(2);
    assert.deepEqual([...served].sort(), [FS1, FS2].sort(), 'one call on each again');
    await sawCalls(w1, 1, FS1);
    await sawCalls(w2, 1, FS2);
    await h.idle();
  });
});

import assert from 'node:assert/strict';
import path from 'node:path';
import { FAST_POLICY, TestRedis, silentLog } from './support/redis';
import { parseNewDevice } from '../src/domain/device';
import { parseMac, type Mac } from '../src/domain/mac';
import type { Store } from '../src/store/store';
import { BufferedMedia, MEDIA_GONE } from '../src/ivr/media';
import { IvrSession, type IvrSessionOptions } from '../src/ivr/session';

const MAC = parseMac('0004f2aabbcc');
const TIMEOUTS = { firstDigitTimeoutMs: 400, interDigitTimeoutMs: 250, overallTimeoutMs: 3000 };
const PROMPT_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Scripted fake media: every prompt "plays" for PROMPT_MS unless a digit cuts it (barge-in);
 * `onPrompt` lets a test type digits or hang up when a given prompt starts.
 */
class FakeMedia extends BufferedMedia {
  readonly played: { name: string; interrupted: boolean }[] = [];
  hangups = 0;
  failPlay: Error | null = null;
  onPrompt: (name: string, count: number) => void = () => undefined;
  private stopCurrent: (() => void) | null = null;

  type(keys: string, gapMs = 20): void {
    let delay = 0;
    for (const k of keys) {
      setTimeout(() => this.receiveDigit(k), delay);
      delay += gapMs;
    }
  }

  callerHangsUp(): void {
    this.markEnded('caller_hangup');
  }

  /** FreeSWITCH (or its event socket) disappears under the call. */
  mediaDies(): void {
    this.markEnded(MEDIA_GONE);
  }

  protected doPlay(file: string): Promise<void> {
    const name = path.basename(file, '.wav');
    const entry = { name, interrupted: false };
    this.played.push(entry);
    if (this.failPlay) return Promise.reject(this.failPlay);
    const count = this.played.filter((p) => p.name === name).length;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.stopCurrent = null;
        resolve();
      }, PROMPT_MS);
      this.stopCurrent = () => {
        clearTimeout(t);
        entry.interrupted = true;
        this.stopCurrent = null;
        resolve();
      };
      this.onPrompt(name, count);
    });
  }

  protected interruptPlayback(): void {
    this.stopCurrent?.();
  }

  protected async doHangup(): Promise<void> {
    this.hangups += 1;
    this.stopCurrent?.();
  }

  names(): string[] {
    return this.played.map((p) => p.name);
  }
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

describe('ivr: call session with scripted media', () => {
  const r = new TestRedis();
  let store: Store;
  let pap: string;
  let wrong: string;
  before(() => r.start());
  after(() => r.stop());
  beforeEach(async () => {
    await r.flush();
    store = r.store();
    await store.putTenant('acme', { name: 'Acme', language: 'de' }, 'test');
    const res = await store.createDevices(
      'acme',
      [parseNewDevice({ mac: MAC, vendor: 'cisco', model: 'SPA504G', site: 'HQ' })],
      'test',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok);
    pap = res.devices[0]!.pap;
    wrong = pap === '000000' ? '111111' : '000000';
  });

  function session(
    media: FakeMedia,
    over: Partial<IvrSessionOptions> = {},
  ): { s: IvrSession; successes: Mac[] } {
    const successes: Mac[] = [];
    const s = new IvrSession({
      media,
      store,
      mac: MAC,
      callId: 'abc@host',
      language: 'en',
      promptsDir: '/prompts',
      timeouts: TIMEOUTS,
      mode: 'ivr',
      address: '198.51.100.9',
      log: silentLog,
      onSuccess: (m) => void successes.push(m),
      ...over,
    });
    return { s, successes };
  }

  it('correct PAP: "successful", hang up, device successful, check-sync hook called', async () => {
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') setTimeout(() => media.type(`${pap}#`), PROMPT_MS + 20);
    };
    const { s, successes } = session(media);
    assert.equal(await s.run(), 'successful');
    assert.deepEqual(media.names(), ['enter_pap', 'success']);
    assert.equal(media.hangups, 1);
    assert.deepEqual(successes, [MAC]);
    assert.equal((await store.getDevice('acme', MAC))!.state, 'successful');
    const ev = await store.events('acme', 20);
    assert.ok(ev.some((e) => e.type === 'attempt' && e.actor === 'ivr:abc@host' && e.channel === 'ivr'));
  });

  it('a source past its guessing limit hears "not possible" and the device is not tried', async () => {
    const SOURCE = 'sip:203.0.113.9';
    const limited = r.store({
      ...FAST_POLICY,
      guessing: { perSource: 1, perSourceTenant: 1, windowSeconds: 60 },
    });
    assert.equal(
      (await limited.attemptPap(MAC, wrong, null, 'test', 'ivr', { source: SOURCE })).outcome,
      'wrong_pap',
    );
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') setTimeout(() => media.type(`${pap}#`), PROMPT_MS + 20);
    };
    const { s, successes } = session(media, { store: limited, source: SOURCE });
    assert.equal(await s.run(), 'source_limited');
    assert.deepEqual(media.names(), ['enter_pap', 'not_possible']);
    assert.deepEqual(successes, []);
    const d = (await store.getDevice('acme', MAC))!;
    assert.deepEqual(
      [d.state, d.totalFailures],
      ['needed', 1],
      'only the first wrong PAP reached the device',
    );
  });

  it("the audit actor is the caller's Call-ID made safe: no markup, control or bidi character, at most 64 characters", async () => {
    /** One wrong PAP from a caller with this Call-ID, who hangs up at "incorrect": its audit actor. */
    const actorOf = async (callId: string) => {
      const media = new FakeMedia();
      media.onPrompt = (name) => {
        if (name === 'enter_pap') setTimeout(() => media.type(`${wrong}#`), PROMPT_MS + 20);
        if (name === 'incorrect') media.callerHangsUp();
      };
      assert.equal(await session(media, { callId }).s.run(), 'caller_hangup');
      const attempt = (await store.events('acme', 20)).find((e) => e.type === 'attempt');
      return String(attempt!.actor);
    };
    const actor = await actorOf(`<img src=x onerror=alert(1)>\u202e\u0007\x1b[31m${'A'.repeat(2000)}`);
    assert.equal(actor, `ivr:?img src=x onerror=alert(1)????[31m${'A'.repeat(26)}...`);
    assert.equal(actor.length, 4 + 64);
    assert.match(actor, /^[\x20-\x7e]+$/);
    assert.doesNotMatch(actor, /[<>"'\\`]/);
    // what phones send stays as it is: the audit event and the call's log lines name the same call
    assert.equal(await actorOf('3c26700a5b7e-ab12cd@192.0.2.10'), 'ivr:3c26700a5b7e-ab12cd@192.0.2.10');
  });

  it('plays prompts from <promptsDir>/<language>/', async () => {
    const media = new FakeMedia();
    const files: string[] = [];
    const orig = media.play.bind(media);
    media.play = (f, o) => {
      files.push(f);
      return orig(f, o);
    };
    const { s } = session(media, { mode: 'not_possible', language: 'de' });
    await s.run();
    assert.deepEqual(files, ['/prompts/de/not_possible.wav']);
  });

  it('three wrong PAPs: "incorrect" twice, then "not possible", device failed', async () => {
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') media.type(`${wrong}#`);
    };
    const { s, successes } = session(media);
    assert.equal(await s.run(), 'failed');
    assert.deepEqual(media.names(), [
      'enter_pap',
      'incorrect',
      'enter_pap',
      'incorrect',
      'enter_pap',
      'not_possible',
    ]);
    assert.equal(media.hangups, 1);
    assert.deepEqual(successes, []);
    assert.equal((await store.getDevice('acme', MAC))!.state, 'failed');
  });

  it('barge-in: digits typed during a prompt cut it and are kept; a fast typist skips the next prompt', async () => {
    const media = new FakeMedia();
    let first = true;
    media.onPrompt = (name) => {
      if (name === 'enter_pap' && first) {
        first = false;
        // wrong PAP, then at once the right one: the "incorrect" and second "enter_pap" prompts are cut/skipped
        media.type(`${wrong}#${pap}#`, 10);
      }
    };
    const t0 = Date.now();
    const { s } = session(media);
    assert.equal(await s.run(), 'successful');
    assert.equal(media.played[0]!.interrupted, true, 'first prompt cut by the first digit');
    // "incorrect" is cut by the next digit (or skipped when the digits were already there); the
    // second "enter_pap" is skipped because the digits are already buffered
    assert.deepEqual(
      media.played.filter((p) => !p.interrupted).map((p) => p.name),
      ['success'],
    );
    assert.equal(media.names().filter((n) => n === 'enter_pap').length, 1);
    assert.ok(Date.now() - t0 < 2 * PROMPT_MS + 300, 'never waited for a prompt to end');
    const dev = await store.getDevice('acme', MAC);
    assert.equal(dev!.state, 'successful');
  });

  it('six digits without # wait for # until the inter-digit timeout, then count as the entry', async () => {
    const media = new FakeMedia();
    let typedAt = 0;
    media.onPrompt = (name) => {
      if (name === 'enter_pap') {
        media.type(pap, 10);
        typedAt = Date.now() + 60;
      }
    };
    let attemptAt = 0;
    const spy = {
      attemptPap: (...a: Parameters<Store['attemptPap']>) => (
        (attemptAt = Date.now()),
        store.attemptPap(...a)
      ),
    };
    const { s } = session(media, { store: spy });
    assert.equal(await s.run(), 'successful');
    assert.ok(
      attemptAt - typedAt >= TIMEOUTS.interDigitTimeoutMs - 30,
      `waited ${attemptAt - typedAt} ms for #`,
    );
  });

  it('no input: an empty entry re-prompts once without counting, a second one says goodbye', async () => {
    const media = new FakeMedia();
    const { s } = session(media);
    assert.equal(await s.run(), 'no_input');
    assert.deepEqual(media.names(), ['enter_pap', 'enter_pap', 'goodbye']);
    const dev = await store.getDevice('acme', MAC);
    assert.equal(dev!.consecutiveFailures, 0);
  });

  it('"#" alone re-prompts (not counted); a short entry is "incorrect" but not an attempt', async () => {
    const media = new FakeMedia();
    const script = ['#', '123#', `${pap}#`];
    media.onPrompt = (name, n) => {
      if (name === 'enter_pap') media.type(script[n - 1] ?? '');
    };
    const { s } = session(media);
    assert.equal(await s.run(), 'successful');
    assert.deepEqual(media.names(), ['enter_pap', 'enter_pap', 'incorrect', 'enter_pap', 'success']);
    const ev = await store.events('acme', 20);
    assert.equal(ev.filter((e) => e.type === 'attempt').length, 1);
  });

  it('"*" clears the entry typed so far', async () => {
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') media.type(`98*${pap}#`);
    };
    const { s } = session(media);
    assert.equal(await s.run(), 'successful');
  });

  it('overall timeout ends an entry that never ends', async () => {
    const media = new FakeMedia();
    media.onPrompt = (name, n) => {
      if (name === 'enter_pap' && n === 1) {
        // a digit every 200 ms (below the inter-digit timeout) for longer than the overall timeout
        let k = 0;
        const iv = setInterval(() => {
          if (k++ > 20 || media.isEnded) return clearInterval(iv);
          (media as unknown as { receiveDigit(d: string): void }).receiveDigit('*');
        }, 200);
      }
    };
    const { s } = session(media, { timeouts: { ...TIMEOUTS, overallTimeoutMs: 1000 }, maxEmptyEntries: 1 });
    const t0 = Date.now();
    assert.equal(await s.run(), 'no_input');
    assert.ok(Date.now() - t0 < 2500);
  });

  it('caller hangs up mid-prompt: run ends, one teardown, nothing left pending', async () => {
    await sleep(1); // mocha arms its own timeout timer once the test returned its promise
    const before = timers();
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') setTimeout(() => media.callerHangsUp(), 50);
    };
    const { s } = session(media);
    assert.equal(await s.run(), 'caller_hangup');
    assert.equal(media.hangups, 1);
    await s.teardown();
    assert.equal(media.hangups, 1, 'teardown is idempotent');
    await sleep(10);
    assert.ok(timers() <= before, `timers left: ${timers()} > ${before} ${process.getActiveResourcesInfo()}`);
  });

  it('caller hangs up while digits are awaited: collector timers are cleared', async () => {
    await sleep(1); // mocha arms its own timeout timer once the test returned its promise
    const before = timers();
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') setTimeout(() => media.callerHangsUp(), PROMPT_MS + 100);
    };
    const { s } = session(media, {
      timeouts: { ...TIMEOUTS, firstDigitTimeoutMs: 10000, overallTimeoutMs: 60000 },
    });
    const t0 = Date.now();
    assert.equal(await s.run(), 'caller_hangup');
    assert.ok(Date.now() - t0 < 2000, 'did not wait for the digit timeouts');
    assert.ok(timers() <= before, `timers left: ${timers()} > ${before} ${process.getActiveResourcesInfo()}`);
  });

  it('caller hangs up while the store is slow: the session does not hang', async () => {
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') media.type(`${pap}#`);
    };
    const never = { attemptPap: () => new Promise<never>(() => undefined) };
    const { s } = session(media, { store: never });
    setTimeout(() => media.callerHangsUp(), PROMPT_MS + 200);
    assert.equal(await s.run(), 'caller_hangup');
    assert.equal(media.hangups, 1);
  });

  it('media failure: run ends with media_error and tears down', async () => {
    const media = new FakeMedia();
    media.failPlay = new Error('FreeSWITCH went away');
    const { s } = session(media);
    assert.equal(await s.run(), 'media_error');
    assert.equal(media.hangups, 1);
  });

  it('FreeSWITCH disappears while digits are awaited: media_error, one teardown, no timers left', async () => {
    await sleep(1);
    const before = timers();
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') setTimeout(() => media.mediaDies(), PROMPT_MS + 100);
    };
    const { s } = session(media, {
      timeouts: { ...TIMEOUTS, firstDigitTimeoutMs: 10000, overallTimeoutMs: 60000 },
    });
    assert.equal(await s.run(), 'media_error');
    assert.equal(media.hangups, 1);
    assert.ok(timers() <= before, `timers left: ${timers()} > ${before}`);
  });

  it('store error (Redis down): "not possible", hang up, never accepted', async () => {
    const media = new FakeMedia();
    media.onPrompt = (name) => {
      if (name === 'enter_pap') media.type(`${pap}#`);
    };
    const broken = { attemptPap: () => Promise.reject(new Error('The client is closed')) };
    const { s, successes } = session(media, { store: broken });
    assert.equal(await s.run(), 'store_error');
    assert.deepEqual(media.names(), ['enter_pap', 'not_possible']);
    assert.deepEqual(successes, []);
    assert.equal((await store.getDevice('acme', MAC))!.state, 'needed');
  });

  it('a failed device hears "not possible" on the next call; PAP attempts are refused while locked', async () => {
    for (let i = 0; i < 3; i++) await store.attemptPap(MAC, wrong, null, 'test', 'api');
    const media = new FakeMedia();
    const { s } = session(media, { mode: 'not_possible' });
    assert.equal(await s.run(), 'not_possible');
    assert.deepEqual(media.names(), ['not_possible']);
    // and if it reached the IVR anyway (race with the lock), the store says failed
    const media2 = new FakeMedia();
    media2.onPrompt = (name) => {
      if (name === 'enter_pap') media2.type(`${pap}#`);
    };
    const { s: s2 } = session(media2);
    assert.equal(await s2.run(), 'failed');
    assert.equal((await store.getDevice('acme', MAC))!.state, 'failed');
  });

  it('digits after the end of the call are ignored; collectDigits after the end rejects', async () => {
    const media = new FakeMedia();
    await media.hangup();
    await assert.rejects(media.collectDigits({ ...TIMEOUTS, maxDigits: 6 }), /call ended/);
    await assert.rejects(media.play('/x.wav'), /call ended/);
    await sleep(1);
  });
});

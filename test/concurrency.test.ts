import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { Store, type RedisClient } from '../src/store/store';
import { parseNewDevice } from '../src/domain/device';
import type { Mac } from '../src/domain/mac';
import { TestRedis } from './support/redis';

describe('concurrency: PAP attempts racing on one device', () => {
  const r = new TestRedis();
  const clients: RedisClient[] = [];
  let clock = 1_800_000_000_000;
  const policy = {
    maxConsecutiveFailures: 3,
    failedLockSeconds: 30,
    maxTotalFailures: 9,
    suspendSeconds: 30,
    tempWhitelistSeconds: 30,
  };
  let stores: Store[] = [];
  let mac: Mac;
  let pap: string;

  before(async () => {
    await r.start();
    for (let i = 0; i < 8; i++) {
      const c: RedisClient = createClient({ url: r.server.url });
      await c.connect();
      clients.push(c);
    }
    stores = clients.map((c) => new Store(c, { auth: policy, eventsMaxLen: 100000, now: () => clock }));
    await stores[0]!.putTenant('race', { name: 'race', language: null }, 'test');
    const res = await stores[0]!.createDevices(
      'race',
      [parseNewDevice({ mac: '001565000001', vendor: 'yealink', model: 'T46U', site: 's' })],
      'test',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok);
    mac = res.devices[0]!.mac;
    pap = res.devices[0]!.pap;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await r.stop();
  });

  /** 200 wrong PAPs at once over 8 connections. */
  async function volley() {
    const wrong = pap === '123456' ? '654321' : '123456';
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stores[i % stores.length]!.attemptPap(mac, wrong, null, `caller${i}`, 'ivr'),
      ),
    );
    const count = (o: string) => replies.filter((x) => x.outcome === o).length;
    return {
      wrong: count('wrong_pap'),
      failed: count('failed'),
      blocked: count('blocked'),
      device: (await stores[0]!.getDevice('race', mac))!,
    };
  }

  it('counts exactly AUTH_MAX_CONSECUTIVE_FAILURES wrong PAPs before the lock, and never more than AUTH_MAX_TOTAL_FAILURES', async () => {
    const first = await volley();
    assert.equal(first.wrong, 2, 'two answered "wrong, try again"');
    assert.equal(first.failed, 198, 'the third locked the device; the other 197 met the lock');
    assert.equal(first.device.state, 'failed');
    assert.equal(first.device.totalFailures, 3);

    clock += 31_000;
    const second = await volley();
    assert.equal(second.wrong, 2);
    assert.equal(second.device.totalFailures, 6);

    clock += 31_000;
    const third = await volley();
    assert.equal(third.wrong, 2);
    assert.equal(third.blocked, 198, 'the ninth wrong PAP blocked the device for good');
    assert.equal(third.device.state, 'blocked');
    assert.equal(third.device.totalFailures, 9);

    clock += 10 * 86400_000;
    const fourth = await volley();
    assert.equal(fourth.blocked, 200);
    assert.equal(fourth.device.totalFailures, 9, 'the total can never exceed the maximum');
    const right = await stores[0]!.attemptPap(mac, pap, null, 'late', 'ivr');
    assert.equal(right.outcome, 'blocked', 'even the right PAP is refused when blocked');

    const reset = (await stores[0]!.resetDevice('race', mac, 'admin'))!;
    const unblocked = (await stores[0]!.getDevice('race', mac))!;
    assert.deepEqual(
      [unblocked.state, unblocked.totalFailures, unblocked.consecutiveFailures],
      ['needed', 0, 0],
      'reset lifts a block (transition 5)',
    );
    assert.equal(
      (await stores[0]!.attemptPap(mac, pap, null, 'old', 'ivr')).outcome,
      reset.pap === pap ? 'successful' : 'wrong_pap',
      'the old PAP is void',
    );
    if (reset.pap !== pap)
      assert.equal((await stores[0]!.attemptPap(mac, reset.pap, null, 'new', 'ivr')).outcome, 'successful');

    const events = await stores[0]!.events('race', 1000);
    assert.equal(
      events.filter((e) => e.type === 'attempt').length,
      reset.pap === pap ? 802 : 803,
      'every attempt is audited',
    );
  });
});
